"""Benchmarks: ingest throughput, search latency, chat latency and retrieval quality.

Run all with ``make bench`` (``python -m bench.run_all``) or one with ``python -m bench.<name>``;
``--quick`` uses tiny sizes. Figures are printed and saved to ``bench/.work/results-<name>.json``.
"""
