"""`python -m ops` against moto's EC2 and SSM in server mode on loopback, with instances
tagged as the program tags them and the discovery record the program renders; `wake`
against the real LiteLLM proxy in front of test vLLM servers. The waits run on a virtual
clock: nothing here waits for real time beyond a request's own short timeout."""

from __future__ import annotations

import json
import os
import re
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import certifi
import httpx
import pytest

from config.discovery import CA_BUNDLE
from ops.router import ca_bundle
from ops.sleep import sleep
from ops.stack import Aws, OpsError, UsageError
from ops.status import status
from ops.waiting import Waits
from ops.wake import wake
from renderers.discovery import render_discovery
from renderers.litellm import deployments
from renderers.metis import render_metis_config
from renderers.vllm import vllm_command
from testbed.certificates import loopback_names, make_certificates
from testbed.fake_vllm import TOOL_CALL_FLAGS, FakeVllm, without_flags
from testbed.stack import replica_server, stack_router
from tests.config_cases import valid
from tests.support import aws
from tests.support.stacks import ROOT, stack_raw_config

pytestmark = pytest.mark.e2e
"""Every test here runs moto in server mode, the real proxy or the command as a process."""

ROUTER_KEY = "sk-ops-router"
BACKEND_KEY = "ops-backend"
NOWHERE = "http://127.0.12.9:8888/v1"
"""A router address where nothing listens."""
HOST_ADDRESS = "127.0.12.2"
"""The dev host's address in these tests, apart from other modules' servers."""
FAST = Waits(timeout=120, interval=5, request_timeout=10, progress_every=30)


class VirtualClock:
    """Time that passes only when the code under test sleeps."""

    def __init__(self) -> None:
        self.time = 0.0

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.time += seconds


@dataclass
class Cloud:
    endpoint: str
    calls: list[str] = field(default_factory=list)
    """Every AWS operation the command made, as service:Operation."""

    def aws(self, attempts: int | None = None) -> Aws:
        ec2 = aws.client("ec2", self.endpoint, attempts=attempts)
        ssm = aws.client("ssm", self.endpoint, attempts=attempts)
        for client in (ec2, ssm):
            client.meta.events.register("before-call", self._record)
        return Aws(ec2, ssm, aws.REGION)

    def _record(self, model, **_) -> None:
        self.calls.append(f"{model.service_model.signing_name}:{model.name}")

    @property
    def ec2(self):
        return aws.client("ec2", self.endpoint)

    def publish_record(self, stack: str, router_url: str, ca: str = "") -> None:
        settings = valid(stack_raw_config("dev"))
        aws.client("ssm", self.endpoint).put_parameter(
            Name=f"/metis-llm/{stack}/discovery",
            Type="String",
            Value=render_discovery(settings, stack, router_url, ca),
        )


@pytest.fixture
def cloud(moto: str) -> Cloud:
    aws.reset(moto)
    return Cloud(moto)


def dev_stack(cloud: Cloud, router_url: str = NOWHERE, stack: str = "dev", ca: str = "") -> str:
    """The dev stack's one host, running, and its discovery record (with `ca` as the stack's
    CA); its instance id."""
    instance = aws.launch_host(cloud.ec2, stack, "gpu-1")
    cloud.publish_record(stack, router_url, ca)
    return instance


def https_dev_stack(cloud: Cloud, backend: dict) -> str:
    """The dev stack in front of the loopback router, which serves HTTPS with the test
    certificates: the record carries their CA, as the program's carries the stack's."""
    proxy = backend["proxy"]
    assert proxy.base_url.startswith("https://")
    return dev_stack(cloud, proxy.base_url, ca=proxy.tls.ca_file.read_text())


def lines(run) -> tuple[list[str], object]:
    said: list[str] = []
    try:
        run(said.append)
    except OpsError as error:
        return said, error
    return said, None


# status


def test_status_shows_each_hosts_state_and_what_it_costs_now(cloud):
    dev_stack(cloud)

    said, error = lines(lambda say: status(cloud.aws(), "dev", say))

    assert error is None
    assert said[0] == f"stack dev in us-east-1, router {NOWHERE}"
    assert said[1].split() == ["host", "instance", "type", "state", "$/h", "now"]
    assert said[2].split()[0::2] == ["gpu-1", "g6.xlarge", "0.80"]
    assert said[2].split()[3] == "running"
    assert said[3] == "now $0.80/h; $0.80/h with every host running (on-demand list prices)"
    assert said[4] == "idle stop: each host stops after 30 minutes without a request"


def test_status_of_a_stopped_stack_costs_nothing_an_hour_for_compute(cloud):
    instance = dev_stack(cloud)
    cloud.ec2.stop_instances(InstanceIds=[instance])

    said, _ = lines(lambda say: status(cloud.aws(), "dev", say))

    assert "stopped" in said[2]
    assert said[2].endswith("0.00 (0.80 running)")
    assert said[3].startswith("now $0.00/h; $0.80/h with every host running")


def test_status_without_a_discovery_record_still_shows_the_states(cloud):
    aws.launch_host(cloud.ec2, "dev", "gpu-1")

    said, error = lines(lambda say: status(cloud.aws(), "dev", say))

    assert error is None
    assert "running" in said[2]
    assert said[-1].startswith("prices unknown: the stack has no discovery record")


def test_an_unknown_stack_is_refused_naming_the_tags_and_the_region(cloud):
    dev_stack(cloud)

    _, error = lines(lambda say: status(cloud.aws(), "staging", say))

    assert isinstance(error, UsageError)
    assert error.exit_code == 2
    assert str(error).startswith(
        "no instances tagged project=metis-llm, stack=staging in us-east-1"
    )


# sleep


def test_sleep_stops_every_host_and_waits_until_they_are_stopped(cloud):
    instance = dev_stack(cloud)

    said, error = lines(lambda say: sleep(cloud.aws(), "dev", FAST, VirtualClock(), say))

    assert error is None
    assert aws.state(cloud.ec2, instance) == "stopped"
    assert said[0] == "stopping gpu-1"
    assert said[-1].startswith("dev is asleep")


def test_sleep_of_a_partly_stopped_stack_stops_only_the_running_hosts(cloud):
    dev_stack(cloud)
    asleep = aws.launch_host(cloud.ec2, "dev", "embed-1")
    cloud.ec2.stop_instances(InstanceIds=[asleep])
    ops_aws = cloud.aws()
    stopped: list[list[str]] = []
    ops_aws.ec2.meta.events.register(
        "provide-client-params.ec2.StopInstances",
        lambda params, **_: stopped.append(params["InstanceIds"]),
    )

    said, _ = lines(lambda say: sleep(ops_aws, "dev", FAST, VirtualClock(), say))

    assert said[0] == "stopping gpu-1"
    assert len(stopped) == 1
    assert asleep not in stopped[0]


def test_sleep_leaves_other_stacks_alone(cloud):
    dev_stack(cloud)
    prod = aws.launch_host(cloud.ec2, "prod", "chat-1", instance_type="g6e.12xlarge")

    lines(lambda say: sleep(cloud.aws(), "dev", FAST, VirtualClock(), say))

    assert aws.state(cloud.ec2, prod) == "running"


def test_sleep_of_an_unknown_stack_is_refused(cloud):
    _, error = lines(lambda say: sleep(cloud.aws(), "dev", FAST, VirtualClock(), say))

    assert isinstance(error, UsageError)


# wake: what happens before any router is asked


def test_wake_without_a_discovery_record_starts_nothing(cloud):
    instance = aws.launch_host(cloud.ec2, "dev", "gpu-1")
    cloud.ec2.stop_instances(InstanceIds=[instance])

    _, error = lines(lambda say: wake(cloud.aws(), "dev", "k", FAST, VirtualClock(), say))

    assert isinstance(error, UsageError)
    assert "no discovery record /metis-llm/dev/discovery" in str(error)
    assert aws.state(cloud.ec2, instance) == "stopped"


def test_wake_of_an_unknown_stack_is_refused_and_starts_nothing(cloud):
    instance = dev_stack(cloud)
    cloud.ec2.stop_instances(InstanceIds=[instance])

    _, error = lines(lambda say: wake(cloud.aws(), "staging", "k", FAST, VirtualClock(), say))

    assert isinstance(error, UsageError)
    assert str(error).startswith("no instances tagged project=metis-llm, stack=staging")
    assert aws.state(cloud.ec2, instance) == "stopped"
    assert "ec2:StartInstances" not in cloud.calls


def insufficient_capacity(**_):
    return aws.ec2_error(
        "InsufficientInstanceCapacity",
        "We currently do not have sufficient g6.xlarge capacity in the Availability Zone you "
        "requested (us-east-1a).",
    )


def test_wake_without_capacity_says_so_at_once_instead_of_waiting(cloud):
    instance = dev_stack(cloud)
    cloud.ec2.stop_instances(InstanceIds=[instance])
    ops_aws = cloud.aws(attempts=1)
    ops_aws.ec2.meta.events.register("before-send.ec2.StartInstances", insufficient_capacity)
    clock = VirtualClock()

    _, error = lines(lambda say: wake(ops_aws, "dev", "k", FAST, clock, say))

    assert str(error).startswith("AWS has no capacity for g6.xlarge in us-east-1 now")
    assert "InsufficientInstanceCapacity" in str(error)
    assert clock.now() == 0.0


# wake: the router on loopback


@pytest.fixture(scope="module")
def backend() -> Iterator[dict]:
    """The dev stack on loopback at an address of its own (testbed.stack): its vLLM servers
    from their rendered commands and the real proxy running its rendered config."""
    settings = valid(stack_raw_config("dev"))
    addresses = {"gpu-1": HOST_ADDRESS}
    with ExitStack() as running:
        state = {
            d.service: running.enter_context(replica_server(settings, d, addresses, BACKEND_KEY))
            for d in deployments(settings)
        }
        state["proxy"] = running.enter_context(
            stack_router(settings, addresses, router_key=ROUTER_KEY, backend_key=BACKEND_KEY)
        )
        try:
            yield state
        finally:
            state["chat"].kill()  # a test may have replaced it


def test_wake_starts_a_stopped_stack_and_waits_until_it_answers_a_review(cloud, backend, tmp_path):
    instance = https_dev_stack(cloud, backend)
    cloud.ec2.stop_instances(InstanceIds=[instance])
    written = tmp_path / "metis.yaml"

    said, error = lines(
        lambda say: wake(cloud.aws(), "dev", ROUTER_KEY, FAST, VirtualClock(), say, written)
    )

    assert error is None, error
    assert aws.state(cloud.ec2, instance) == "running"
    assert said[:2] == [f"gpu-1 ({instance}, g6.xlarge): stopped", "starting gpu-1"]
    steps = [line.split("] ", 1)[1] for line in said[2:-2]]
    assert steps == [
        "every host to run: ok",
        "the router: ok",
        "both models: ok",
        "the embedding model: ok",
        "a review: ok",
        f"dev is ready: {backend['proxy'].base_url}",
    ]
    assert said[-2].startswith(f"wrote {written}")
    settings = valid(stack_raw_config("dev"))
    assert written.read_text() == render_metis_config(settings, backend["proxy"].base_url)


def test_wake_writes_the_ca_bundle_metis_trusts_the_router_with_beside_metis_yaml(
    cloud, backend, tmp_path
):
    https_dev_stack(cloud, backend)
    written = tmp_path / "metis.yaml"

    said, error = lines(
        lambda say: wake(cloud.aws(), "dev", ROUTER_KEY, FAST, VirtualClock(), say, written)
    )

    assert error is None, error
    bundle = tmp_path / CA_BUNDLE
    assert said[-1] == (
        f"wrote {bundle} (public roots and the stack's CA): export SSL_CERT_FILE={bundle}"
    )
    ca = backend["proxy"].tls.ca_file.read_text()
    assert bundle.read_text() == Path(certifi.where()).read_text() + ca
    trusting = ssl.create_default_context(cafile=str(bundle))
    assert httpx.get(backend["proxy"].url + "/health/liveliness", verify=trusting).is_success


def test_a_stack_without_a_ca_of_its_own_needs_no_bundle():
    """A domain's public certificate, or plain HTTP: Metis's default roots do."""
    record = {"router_url": "https://llm.example.com/v1", "router_ca_certificate": None}

    assert ca_bundle(record) is None


def test_wake_refuses_a_router_whose_certificate_the_records_ca_did_not_sign(
    cloud, backend, tmp_path
):
    other_ca = make_certificates(tmp_path, loopback_names()).ca_file.read_text()
    dev_stack(cloud, backend["proxy"].base_url, ca=other_ca)
    clock = VirtualClock()

    _, error = lines(lambda say: wake(cloud.aws(), "dev", ROUTER_KEY, FAST, clock, say))

    assert isinstance(error, OpsError)
    assert error.exit_code == 1
    assert str(error) == (
        f"the router at {backend['proxy'].url} presents a certificate that does not verify "
        "against the stack's CA (router_ca_certificate in its discovery record): unable to "
        "get local issuer certificate. Nothing was sent to it; if the stack was redeployed "
        "meanwhile, run wake again, otherwise what answers there is not this stack's router"
    )
    assert clock.now() < FAST.interval  # at once, not after the timeout


def test_wake_of_a_partly_stopped_stack_starts_only_the_stopped_hosts(cloud, backend):
    https_dev_stack(cloud, backend)
    asleep = aws.launch_host(cloud.ec2, "dev", "embed-1")
    cloud.ec2.stop_instances(InstanceIds=[asleep])
    ops_aws = cloud.aws()

    said, error = lines(lambda say: wake(ops_aws, "dev", ROUTER_KEY, FAST, VirtualClock(), say))

    assert error is None, error
    assert "starting embed-1" in said
    assert cloud.calls.count("ec2:StartInstances") == 1
    assert aws.state(cloud.ec2, asleep) == "running"


def test_wake_times_out_with_a_clear_message_when_the_router_never_answers(cloud):
    dev_stack(cloud, NOWHERE)
    clock = VirtualClock()

    said, error = lines(lambda say: wake(cloud.aws(), "dev", ROUTER_KEY, FAST, clock, say))

    assert isinstance(error, OpsError)
    assert error.exit_code == 1
    assert str(error).startswith(
        "dev was not ready within 2 minutes, still waiting for the router: /health/liveliness: "
        "no answer ("
    )
    assert str(error).endswith(
        "Its hosts keep running: the idle stop stops them after 30 minutes without a request, "
        "or run `python -m ops sleep dev`"
    )
    assert clock.now() <= FAST.timeout
    waiting = [line.split("]")[0] for line in said if "waiting for the router" in line]
    assert waiting == ["[0m00s", "[0m30s", "[1m00s", "[1m30s", "[2m00s"]  # progress_every


def test_wake_keeps_waiting_while_the_chat_server_is_down_then_times_out(cloud, backend):
    https_dev_stack(cloud, backend)
    chat = backend["chat"]
    chat.kill()
    short = Waits(timeout=15, interval=5, request_timeout=10)  # each try takes real seconds
    try:
        said, error = lines(
            lambda say: wake(cloud.aws(), "dev", ROUTER_KEY, short, VirtualClock(), say)
        )
    finally:
        chat.start()

    assert "still waiting for a review: the router answered" in str(error)
    assert any(line.endswith("the embedding model: ok") for line in said)


def test_wake_fails_at_once_when_the_chat_model_answers_reviews_with_text(cloud, backend):
    https_dev_stack(cloud, backend)
    settings = valid(stack_raw_config("dev"))
    chat = backend["chat"]
    host, port = chat.host, chat.port
    chat.kill()
    broken = FakeVllm.from_command(
        without_flags(vllm_command(settings, "chat"), *TOOL_CALL_FLAGS),
        BACKEND_KEY,
        host=host,
        port=port,
    ).start()
    clock = VirtualClock()
    try:
        _, error = lines(lambda say: wake(cloud.aws(), "dev", ROUTER_KEY, FAST, clock, say))
    finally:
        broken.kill()
        backend["chat"] = FakeVllm.from_command(
            vllm_command(settings, "chat"), BACKEND_KEY, host=host, port=port
        ).start()

    assert str(error).startswith("the router answers, but not with reviews Metis can use:")
    assert "not a function call" in str(error)
    assert clock.now() < FAST.timeout


# The command line


def run_ops(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ops", *args],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **aws.CREDENTIALS, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_command_line_needs_only_credentials_a_region_and_the_stack_name(cloud):
    dev_stack(cloud)

    done = run_ops("status", "dev", env={"AWS_ENDPOINT_URL": cloud.endpoint})

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("stack dev in us-east-1")


def test_the_command_line_reports_an_unknown_stack_with_exit_status_2(cloud):
    done = run_ops("sleep", "nosuch", env={"AWS_ENDPOINT_URL": cloud.endpoint})

    assert done.returncode == 2
    assert done.stderr.startswith("ops sleep nosuch: no instances tagged")


def test_wake_without_the_router_key_starts_nothing(cloud):
    instance = dev_stack(cloud)
    cloud.ec2.stop_instances(InstanceIds=[instance])

    done = run_ops("wake", "dev", env={"AWS_ENDPOINT_URL": cloud.endpoint})

    assert done.returncode == 2
    assert "VLLM_API_KEY is not set" in done.stderr
    assert aws.state(cloud.ec2, instance) == "stopped"


def test_without_a_region_the_command_says_how_to_give_one(cloud):
    env = {key: value for key, value in aws.CREDENTIALS.items() if key != "AWS_DEFAULT_REGION"}
    done = subprocess.run(
        [sys.executable, "-m", "ops", "status", "dev"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **env, "AWS_ENDPOINT_URL": cloud.endpoint},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert "no AWS region: pass --region or set AWS_REGION" in done.stderr


# What the ops role must be allowed


def test_the_ops_policy_grants_exactly_what_the_commands_call(cloud, backend):
    policy = json.loads((ROOT / "docs" / "iam" / "ops-policy.json").read_text())
    granted = {a for s in policy["Statement"] for a in s["Action"]}
    instance = https_dev_stack(cloud, backend)
    clients = cloud.aws()
    for run in (
        lambda say: status(clients, "dev", say),
        lambda say: sleep(clients, "dev", FAST, VirtualClock(), say),
        lambda say: wake(clients, "dev", ROUTER_KEY, FAST, VirtualClock(), say),
    ):
        lines(run)

    assert aws.state(cloud.ec2, instance) == "running"
    assert set(cloud.calls) == granted


def test_the_command_imports_nothing_beyond_boto3_and_the_standard_library():
    """A CI job runs it with `pip install boto3` and a checkout: no Pulumi, no pydantic."""
    code = (
        "import sys, ops.__main__; "
        "print(sorted({m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )

    imported = set(json.loads(done.stdout.replace("'", '"'))) - {"ops", "components", "config"}
    optional = {"certifi"}  # botocore/httpsession.py uses its CA bundle when installed
    assert {name for name in imported if not name.startswith("_")} <= import_names(
        "boto3"
    ) | optional


def import_names(distribution: str) -> set[str]:
    """The top-level modules of a distribution and of everything it requires."""
    names, pending, seen = set(), [distribution], set()
    while pending:
        dist = metadata.distribution(pending.pop())
        if dist.metadata["Name"].lower() in seen:
            continue
        seen.add(dist.metadata["Name"].lower())
        top = (dist.read_text("top_level.txt") or "").split()
        names |= set(top) or {dist.metadata["Name"].replace("-", "_")}
        names |= {p.parts[0] for p in dist.files or [] if p.suffix == ".py" and len(p.parts) > 1}
        for requirement in dist.requires or []:
            if "extra ==" not in requirement:
                pending.append(re.split(r"[ ;<>=!~\[(]", requirement, maxsplit=1)[0])
    return names
