"""What opening a generation costs a worker: seconds and USS, in a fresh process.

    python -m bench.opening INDEX_ROOT [--repo CHECKOUT] [--repeat 3]

Each run starts a new Python process that imports the engine (from ``--repo``, another checkout
of the project, to measure an older version on the same index), opens the live generation with
``Engine.warm_up()``, and prints the seconds it took and the USS (private memory, from
``/proc/self/smaps_rollup``) it added. Linux only.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

CHILD = """
import sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from index.config import Settings
from search.engine import Engine

def uss_mib():
    private = 0
    for line in open("/proc/self/smaps_rollup"):
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            private += int(line.split()[1])
    return private / 1024

before = uss_mib()
engine = Engine(Settings(index_dir=Path(sys.argv[2])))
started = time.perf_counter()
engine.warm_up()
print(f"{time.perf_counter() - started:.3f} {uss_mib() - before:.1f}")
engine.close()
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.opening",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("index_root", type=Path)
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    for _ in range(args.repeat):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(args.repo), str(args.index_root)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        print(f"{args.repo}: opened in {float(out[0]):.2f} s, USS +{float(out[1]):.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
