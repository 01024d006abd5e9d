"""The exporters' rendered settings: dcgm-exporter's counters file and node-exporter's flags."""

from __future__ import annotations

import re

from config.loader import load_settings
from renderers.alerts import alerts
from renderers.dashboards import BOARDS
from renderers.exporters import (
    DCGM_COUNTERS,
    dcgm_exporter_env,
    node_exporter_command,
    render_dcgm_counters,
)
from tests.support.stacks import stack_raw_config


def test_the_counters_file_has_dcgm_exporters_format():
    lines = [line for line in render_dcgm_counters().splitlines() if not line.startswith("#")]

    assert lines[0] == "DCGM_FI_DEV_GPU_UTIL, gauge, GPU utilization (in %)."
    assert all(len(line.split(", ", 2)) == 3 for line in lines)


def test_no_profiling_field_needs_sys_admin():
    assert not [c.field for c in DCGM_COUNTERS if c.field.startswith("DCGM_FI_PROF_")]


def test_every_dcgm_metric_the_dashboards_and_alerts_read_is_collected():
    texts = [q for board in BOARDS for q in board.queries]
    texts += [a.expr for a in alerts(load_settings(stack_raw_config("dev")))]
    read = {name for text in texts for name in re.findall(r"DCGM_FI_\w+", text)}

    assert read <= {c.field for c in DCGM_COUNTERS}


def test_dcgm_exporter_reads_the_uploaded_counters():
    assert dcgm_exporter_env()["DCGM_EXPORTER_COLLECTORS"] == "/etc/dcgm-exporter/metis-llm.csv"


def test_node_exporter_listens_on_the_private_address_only():
    command = node_exporter_command("10.0.0.7")

    assert "--web.listen-address=10.0.0.7:9100" in command
    assert "--path.rootfs=/host" in command
