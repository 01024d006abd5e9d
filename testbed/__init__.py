"""Servers the tests and the benchmark run on loopback: a vLLM-compatible test server
(`testbed.fake_vllm`) and the real LiteLLM proxy (`testbed.litellm_proxy`).

Both `tests/` and `bench/` import this package; it imports neither.
"""
