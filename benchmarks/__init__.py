"""Benchmarks of ndaa-scan against its peers, run in the lab (root only); not pass/fail tests."""
