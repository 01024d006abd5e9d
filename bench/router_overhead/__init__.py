"""What the LiteLLM router costs: the same load straight to vLLM-like test servers, then
through the real proxy with a stack's rendered config and ``num_workers``.

Run::

    uv run python -m bench.router_overhead [--stack dev] [--requests 2000] [--concurrency 32]

Options for tuning (``--workers``, ``--env``, ``--set``) change only what this run starts;
the printed environment line records them.

Layout of a run:

- The test servers (:class:`testbed.fake_vllm.FakeVllm`, one per replica of the stack)
  run in child processes, one each (`testbed.fake_vllm.process`), so no two of them, nor
  the client, share an interpreter (GIL): both runs are client process -> server process,
  the second with the proxy's processes in between.
- One load, built once: Metis-like requests in a fixed order, by default 2 chat completions
  : 1 Responses API call : 1 embedding request (3:1 chat:embedding), sent with
  ``--concurrency`` requests in flight, each slot with its own ``httpx.AsyncClient``.
  Directly, each request goes to the replicas of its model in turn (as the router's shuffle
  spreads them).
- Each run starts with an unmeasured warm-up (first-request imports, connection pools,
  every proxy worker); then the measured requests. Any non-2xx answer counts as an error.

Modules: `servers` (the stack's replicas, their test servers and the router config),
`load` (the requests, sent and timed), `metering` (CPU and connections from /proc),
`report` (the printed lines), `__main__` (options, the two runs).
"""
