"""Benchmarks, one module per area; run each as ``python -m bench.<area>``."""
