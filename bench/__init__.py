"""Benchmarks, each printing one JSON line with its figures, baseline and limit."""
