"""Tests of the benchmark harness: ``pytest benchmarks/tests``."""
