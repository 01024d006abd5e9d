"""Idle stop: the activity publisher's container and config, each host's alarm, and what the
instance role may publish.

The signal and why (docs/reference/idle-cost.md, "Which signal means no requests"): vLLM's
own count of requests running and waiting, plus the requests it finished, summed over every
server of the stack, published once per `INTERVAL_SECONDS` for every host
(scripts/activity_publisher.py). An alarm per host stops it once `minutes` one-minute periods
in a row all stayed below 1. Missing data is `notBreaching`: a publisher that is down or
unsure never stops a host, and while a host is stopped its alarm returns to OK, so the next
idle period after a wake is a new transition into ALARM and stops it again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from config.project import NAMESPACE
from config.settings import Settings
from renderers.litellm import deployments
from renderers.script_files import script_text

METRIC_NAMESPACE = NAMESPACE
"""CloudWatch's namespace of the metric: the project's name."""
METRIC = "RequestActivity"
PUBLISHER_CONTAINER = "metis-llm-activity"
PUBLISHER_ENTRYPOINT = ["python3"]
PROGRAM_PATH = "/opt/metis-llm/activity_publisher.py"
CONFIG_PATH = "/opt/metis-llm/activity.json"
"""Uploaded into the container: a plan shows each as one summarised text."""
PUBLISHER_COMMAND = [PROGRAM_PATH, CONFIG_PATH]
INTERVAL_SECONDS = 30
"""Two readings per alarm period: one late or lost reading leaves the period its datapoint."""
FETCH_TIMEOUT_SECONDS = 10
PERIOD_SECONDS = 60


def publisher_config(
    settings: Settings,
    private_ips: Mapping[str, str],
    instance_ids: Sequence[str],
    region: str,
) -> dict[str, Any]:
    """Which servers to read (every vLLM replica, at its private address) and for which
    instances to publish (every host of the stack)."""
    return {
        "servers": [
            f"http://{private_ips[d.host]}:{d.port}/metrics" for d in deployments(settings)
        ],
        "instance_ids": list(instance_ids),
        "namespace": METRIC_NAMESPACE,
        "metric": METRIC,
        "region": region,
        "interval_seconds": INTERVAL_SECONDS,
        "timeout_seconds": FETCH_TIMEOUT_SECONDS,
    }


def publisher_program() -> str:
    return script_text("activity_publisher.py")


def render_publisher_config(config: Mapping[str, Any]) -> str:
    return json.dumps(config, indent=1) + "\n"


def stop_action(region: str) -> str:
    """EC2's own stop action for alarms on a metric with an InstanceId dimension
    (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/UsingAlarmActions.html)."""
    return f"arn:aws:automate:{region}:ec2:stop"


def idle_alarm(minutes: int) -> dict[str, Any]:
    """The alarm's settings (aws.cloudwatch.MetricAlarm arguments), dimensions and actions
    aside: `minutes` one-minute periods in a row below 1, missing ones not breaching."""
    return {
        "namespace": METRIC_NAMESPACE,
        "metric_name": METRIC,
        "statistic": "Maximum",
        "period": PERIOD_SECONDS,
        "evaluation_periods": minutes,
        "datapoints_to_alarm": minutes,
        "threshold": 1,
        "comparison_operator": "LessThanThreshold",
        "treat_missing_data": "notBreaching",
    }


def publish_policy() -> str:
    """The instance role's permission to publish, only into this project's namespace
    (PutMetricData takes no resource; `cloudwatch:namespace` is its condition key)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "cloudwatch:PutMetricData",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"cloudwatch:namespace": METRIC_NAMESPACE}},
                }
            ],
        }
    )
