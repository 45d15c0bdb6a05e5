"""Benchmarks of Tejido, run on demand with ``make bench`` (``python -m bench``); see bench/README.md."""
