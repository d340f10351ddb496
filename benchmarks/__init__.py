"""Benchmarks: run one with ``.venv/bin/python -m benchmarks.<name>``."""
