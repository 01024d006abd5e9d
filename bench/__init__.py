"""Benchmarks run by hand (not tests): see ``python -m bench.router_overhead --help``."""
