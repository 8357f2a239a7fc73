"""Tests of the simulators (load generator)."""
