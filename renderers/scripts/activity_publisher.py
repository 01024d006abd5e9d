"""The activity publisher: tells CloudWatch whether the stack is serving, for idle stop.

Runs on the router host in a container of the router's own image (Python with boto3: LiteLLM
depends on it), with host networking so that boto3 reaches the instance role through the
metadata service (IMDSv2's hop limit of 1 keeps bridged containers out). Every
`interval_seconds` it reads each vLLM server's `/metrics` (no key: vLLM guards only `/v1`,
`/v2`, `/inference` and `/cohere`) and publishes, for every host of the stack, one datapoint
`<namespace>/<metric>{InstanceId=<host>}`:

    requests running + waiting now, summed over the servers
    + requests finished since the previous reading (`vllm:request_success_total`, which
      counts every finish reason: stop, length, abort, error, repetition)

Each host's alarm stops it after N datapoints in a row below 1: N minutes in which no request
was running, queued or finished anywhere in the stack. What it publishes, and when not:

- A server that refuses or does not accept the connection (stopped host, container down)
  serves nothing: it counts as 0 running.
- A server that accepts but does not answer, answers an error or leaves a metric out could
  be busy: then nothing is published at all. Missing data never stops a host (the alarms
  treat it as not breaching), so an unsure publisher, or a dead one, keeps the stack up.

Standard library and boto3 only. renderers/idle_stop.py renders its config; the functions
above `main` are pure and tested on their own.
"""

from __future__ import annotations

import http.client
import json
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

RUNNING = "vllm:num_requests_running"
WAITING = "vllm:num_requests_waiting"
FINISHED = "vllm:request_success_total"
FAMILIES = (RUNNING, WAITING, FINISHED)


@dataclass(frozen=True)
class Reading:
    """One server's answer: `busy` requests running or waiting, `finished` since it started;
    `problem` says why the reading cannot be trusted (then nothing is published)."""

    url: str
    busy: float = 0.0
    finished: float | None = None
    """None: the server was not reachable, so nothing is known to have finished."""
    problem: str | None = None


def sample_value(line: str) -> tuple[str, float] | None:
    """(metric name, value) of one exposition-format sample line, None for comments and
    blank lines. Label values may hold spaces, braces and escaped quotes."""
    line = line.strip()
    if not line or line.startswith("#"):
        return None
    brace = line.find("{")
    space = line.find(" ")
    if brace != -1 and (space == -1 or brace < space):
        name, index, quoted = line[:brace], brace + 1, False
        while index < len(line) and (quoted or line[index] != "}"):
            if line[index] == "\\" and quoted:
                index += 1
            elif line[index] == '"':
                quoted = not quoted
            index += 1
        rest = line[index + 1 :]
    else:
        name, rest = line[:space], line[space:]
    return name, float(rest.split()[0])


def totals(text: str) -> dict[str, float]:
    """The sum over all series of each family this publisher reads, for those present."""
    found: dict[str, float] = {}
    for line in text.splitlines():
        sample = sample_value(line)
        if sample is not None and sample[0] in FAMILIES:
            found[sample[0]] = found.get(sample[0], 0.0) + sample[1]
    return found


def reading(url: str, status: int, text: str) -> Reading:
    """What a server's answer to `GET /metrics` tells."""
    if status != 200:
        return Reading(url, problem=f"answered {status}")
    try:
        values = totals(text)
    except ValueError as error:
        return Reading(url, problem=f"sent metrics that do not parse ({error})")
    missing = [family for family in FAMILIES if family not in values]
    if missing:
        return Reading(url, problem=f"exports no {', '.join(missing)}")
    return Reading(url, values[RUNNING] + values[WAITING], values[FINISHED])


def activity(
    readings: Iterable[Reading], previous: Mapping[str, float]
) -> tuple[float | None, dict[str, float]]:
    """(the value to publish or None, the finished counts to compare with next time).

    A counter lower than before means the server restarted: all of it is new. A server
    read for the first time, or unreachable, adds no finished requests; its last count is
    kept, so that a server that was only unreachable is not counted twice."""
    value: float | None = 0.0
    counts = dict(previous)
    for item in readings:
        if item.problem is not None:
            value = None
            continue
        if value is not None:
            value += item.busy
        if item.finished is None:
            continue
        before = previous.get(item.url)
        if value is not None and before is not None:
            value += item.finished - before if item.finished >= before else item.finished
        counts[item.url] = item.finished
    return value, counts


def fetch(url: str, timeout: float) -> Reading:
    """GET the metrics. Failing to connect is a server that serves nothing; any failure
    after connecting is a server that might be busy."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        try:
            connection.connect()
        except OSError:
            return Reading(url)
        try:
            connection.request("GET", parts.path or "/")
            answer = connection.getresponse()
            return reading(url, answer.status, answer.read().decode("utf-8", "replace"))
        except (OSError, http.client.HTTPException) as error:
            return Reading(url, problem=f"did not answer ({error or type(error).__name__})")
    finally:
        connection.close()


def metric_data(config: Mapping[str, Any], value: float, timestamp: float) -> list[dict]:
    """One datapoint per host: each host's alarm stops that host."""
    return [
        {
            "MetricName": config["metric"],
            "Dimensions": [{"Name": "InstanceId", "Value": instance_id}],
            "Timestamp": timestamp,
            "Value": value,
            "Unit": "Count",
        }
        for instance_id in config["instance_ids"]
    ]


def publish_once(
    config: Mapping[str, Any],
    previous: Mapping[str, float],
    put: Callable[..., Any],
    read: Callable[[str, float], Reading] = fetch,
    now: Callable[[], float] = time.time,
) -> tuple[str, dict[str, float]]:
    """Read every server, publish when the answer is sure; (what happened, new counts)."""
    readings = [read(url, config["timeout_seconds"]) for url in config["servers"]]
    value, counts = activity(readings, previous)
    if value is None:
        problems = "; ".join(f"{r.url} {r.problem}" for r in readings if r.problem)
        return f"not published: {problems}", counts
    try:
        put(Namespace=config["namespace"], MetricData=metric_data(config, value, now()))
    except Exception as error:  # boto3 retried already; try again next interval
        return f"not published: PutMetricData failed ({error})", counts
    return f"published {value:g}", counts


def summary(outcome: str) -> str:
    """What the log shows: each change between idle, busy and each reason not to publish."""
    if outcome == "published 0":
        return "idle: published 0"
    return "busy: published more than 0" if outcome.startswith("published") else outcome


def main() -> None:
    """`activity_publisher.py CONFIG_FILE [ROUNDS]`: publish every interval, ROUNDS times
    (tests) or for ever."""
    import boto3  # in the router image (a LiteLLM dependency); not needed by the tests above

    with open(sys.argv[1], encoding="utf-8") as file:
        config = json.load(file)
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else None
    client = boto3.client(
        "cloudwatch", region_name=config["region"], endpoint_url=config.get("endpoint_url")
    )
    counts: dict[str, float] = {}
    shown = ""
    while rounds is None or rounds > 0:
        started = time.monotonic()
        outcome, counts = publish_once(config, counts, client.put_metric_data)
        if summary(outcome) != shown:
            shown = summary(outcome)
            print(shown, flush=True)
        rounds = None if rounds is None else rounds - 1
        if rounds != 0:
            time.sleep(max(0.0, config["interval_seconds"] - (time.monotonic() - started)))


if __name__ == "__main__":
    main()
