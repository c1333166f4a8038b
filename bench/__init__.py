"""Benchmarks: plain scripts, ``python -m bench.<name>``."""
