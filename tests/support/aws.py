"""AWS for tests: moto 5 (the AWS emulator, installed from PyPI) in server mode on loopback,
boto3 clients for it, and instances tagged the way the program tags them.

moto plays EC2's instance states, tags, filters and Elastic IPs, CloudWatch's metric data
and alarms, SSM parameters, EventBridge Scheduler's schedules; it runs no schedule, no
alarm action and no IAM check. What it plays differently from AWS is in
docs/reference/idle-cost.md (moto section): state changes are instantaneous, and a start
of a running instance answers "pending".
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

import boto3
import httpx
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from moto.server import ThreadedMotoServer

from components.tags import host_name_tag, stack_tags
from testbed.lifecycle import BackgroundServer

HOST = "127.0.14.1"
"""moto's own loopback address, apart from the test vLLM servers' and the proxy's."""
REGION = "us-east-1"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}
"""moto takes any credentials; these keep boto3 from looking for real ones."""
GPU_AMI = "ami-12c6146b"
"""An image moto ships (its default Ubuntu AMI list)."""


class MotoServer(BackgroundServer):
    """moto's own threaded server on a free port of a loopback address, on the lifecycle the
    other test servers share (testbed/lifecycle.py)."""

    def __init__(self, host: str = HOST) -> None:
        self.host = host
        self._moto: ThreadedMotoServer | None = None

    def __str__(self) -> str:
        return f"moto on {self.host}"

    @property
    def running(self) -> bool:
        return self._moto is not None

    @property
    def endpoint(self) -> str:
        assert self._moto is not None, "start it first"
        host, port = self._moto.get_host_and_port()
        return f"http://{host}:{port}"

    def _launch(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        self._moto = ThreadedMotoServer(ip_address=self.host, port=0, verbose=False)
        self._moto.start()  # returns once the server listens

    def _ready(self) -> bool:
        return httpx.get(f"{self.endpoint}/moto-api/").is_success

    def _ended(self) -> str | None:
        return None

    def stop(self) -> None:
        if self._moto is not None:
            self._moto.stop()
            self._moto = None


def reset(endpoint: str) -> None:
    """Forget every resource (moto's own reset API)."""
    httpx.post(f"{endpoint}/moto-api/reset").raise_for_status()


def client(service: str, endpoint: str, *, attempts: int | None = None) -> Any:
    """A client of moto; `attempts=1`: a scripted error is answered once, not retried."""
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        config=Config(retries={"max_attempts": attempts}) if attempts else None,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=CREDENTIALS["AWS_SESSION_TOKEN"],
    )


def launch_host(
    ec2: Any,
    stack: str,
    host: str,
    *,
    instance_type: str = "g6.xlarge",
    role: str = "gpu-host",
    extra_tags: Mapping[str, str] | None = None,
) -> str:
    """An instance tagged as components/host.py tags it; its id."""
    tags = {**stack_tags(stack, role), "Name": host_name_tag(stack, host), **(extra_tags or {})}
    answer = ec2.run_instances(
        ImageId=GPU_AMI,
        InstanceType=instance_type,
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[
            {
                "ResourceType": "instance",
                "Tags": [{"Key": key, "Value": value} for key, value in tags.items()],
            }
        ],
    )
    return answer["Instances"][0]["InstanceId"]


def state(ec2: Any, instance_id: str) -> str:
    (reservation,) = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    return reservation["Instances"][0]["State"]["Name"]


def ec2_error(code: str, message: str, status: int = 500) -> AWSResponse:
    """An EC2 Query API error answer (docs.aws.amazon.com/AWSEC2/latest/APIReference/
    errors-overview.html: `<Response><Errors><Error><Code>...`; capacity refusals are server
    errors, HTTP 500). Returned from a botocore `before-send` handler, botocore's own parser
    reads it as it would read AWS's."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
        f"<Code>{code}</Code><Message>{message}</Message></Error></Errors>"
        "<RequestID>00000000-0000-0000-0000-000000000000</RequestID></Response>"
    )
    return AWSResponse("https://ec2.us-east-1.amazonaws.com/", status, {}, _Raw(body.encode()))


class _Raw:
    """The raw body botocore streams from."""

    def __init__(self, content: bytes) -> None:
        self.content = content

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.content
