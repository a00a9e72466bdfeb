"""Benchmarks and their data generators (not part of the test run)."""
