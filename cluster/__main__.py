"""``python -m cluster``: the same as ``scripts/cluster``."""

import sys

from cluster.cli import main

sys.exit(main())
