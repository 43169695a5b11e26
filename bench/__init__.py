"""Benchmarks and relevance evaluation of presse-search (``scripts/bench``; see ``bench.cli``).

A package of its own, beside ``index`` and ``search``: it drives their real code (the indexer,
the engine, gunicorn) and compares it with plain Whoosh as a newcomer would use it
(``bench.baseline``), in the same run, so that every figure comes with a ratio.
"""
