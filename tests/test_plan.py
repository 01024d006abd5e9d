"""The offline plan: tree, outputs, cost, files written, secrets masked, errors, the CLI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.errors import ConfigError
from config.loader import load_settings
from offline import stackfile
from offline.__main__ import main
from offline.artifacts import plan_files
from offline.harness import ProgramRun, reveal
from offline.plan import Plan, cost_line, output_lines, render_plan
from offline.stackfile import SECRET_PLACEHOLDER
from offline.tree import render_tree
from renderers.topology import render_topology
from tests.support.stacks import ROOT, STACK_FILES, stack_raw_config, stack_run

HF_TOKEN = "hf_PlainTokenValueNeverShown123"
OWN_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwnKeyOfTheDeployerForThisStack00000000 me"


def _plan(stack: str, run: ProgramRun) -> Plan:
    return Plan(stack, STACK_FILES[stack], load_settings(stack_raw_config(stack)), run)


def _secret_values(run: ProgramRun) -> list[str]:
    """The generated keys, as the program put them in the router's environment."""
    router = run.named("metis-llm-router-container")
    values = [item.split("=", 1)[1] for item in reveal(router.inputs["envs"])]
    keys = [value for value in values if len(value) >= 40]
    assert len(keys) == 2, "expected the router key and the backend key"
    return keys


def _tree_parents(tree: str) -> dict[str, str]:
    """Each node's parent, read back from the tree's indentation."""
    parents, stack = {}, []
    for line in tree.splitlines():
        match = re.match(r"^([│ ]*)(?:[├└]── )?(\S+)  \(", line)
        if match is None:
            continue
        depth = len(match[1]) // 4 + (1 if "── " in line else 0)
        del stack[depth:]
        if stack:
            parents[match[2]] = stack[-1]
        stack.append(match[2])
    return parents


def _write_stack(path: Path, change: dict[str, Any]) -> Path:
    """The dev stack file with some `config:` keys replaced, written to `path`."""
    document = yaml.safe_load(STACK_FILES["dev"].read_text())
    document["config"].update(change)
    path.write_text(yaml.safe_dump(document))
    return path


def test_tree_shows_every_resource_under_its_parent(run: ProgramRun) -> None:
    names = {r.urn: r.name for r in run.registrations}
    expected = {r.name: names[r.parent] for r in run.registrations if r.parent in names}

    assert _tree_parents(render_tree(run)) == expected


@pytest.mark.parametrize(
    "line",
    [
        "instanceType: g6.xlarge",
        "ami: ami-0a1b2c3d4e5f60001",
        "metadataOptions.httpTokens: required",
        "metadataOptions.httpPutResponseHopLimit: 1",
        "rootBlockDevice.volumeSize: 160",
        "rootBlockDevice.encrypted: true",
        "cidrIpv4: 198.51.100.0/24",
        "fromPort: 8888",
        "name: vllm/vllm-openai:v0.32.0",
        "name: ghcr.io/berriai/litellm:v1.108.7",
        "gpus: all",
        "ports[0].internal: 8000",
        "envs.VLLM_API_KEY: [secret]",
        "envs.LITELLM_MASTER_KEY: [secret]",
        "uploads[3].content: [secret]",
        "ecdsaCurve: P256",
        "validityPeriodHours: 8760",
    ],
)
def test_dev_tree_shows_the_inputs_a_reviewer_checks(line: str) -> None:
    assert re.search(rf"^[│ ]+{re.escape(line)}$", render_tree(stack_run("dev")), re.MULTILINE)


def test_tree_shows_vllm_command_args(run: ProgramRun) -> None:
    tree = render_tree(run)

    commands = re.findall(r"command: \[(.*)\]", tree)
    assert any("--max-model-len" in c and "--tensor-parallel-size" in c for c in commands)
    assert any("--runner, pooling" in c for c in commands)


def test_tree_summarises_scripts_instead_of_printing_them(run: ProgramRun) -> None:
    tree = render_tree(run)

    assert re.search(r"userData: <text: \d+ lines, sha256 [0-9a-f]{12}>", tree)
    assert "#!/bin/bash" not in tree


def test_tree_leaves_out_tags(run: ProgramRun) -> None:
    assert "managed-by" not in render_tree(run)


def test_plan_text_never_contains_a_generated_key(run: ProgramRun, stack_name: str) -> None:
    text = render_plan(_plan(stack_name, run), Path("out"), plan_files(_plan(stack_name, run)))

    for key in _secret_values(run):
        assert key not in text
    assert "sk-" not in text


def test_outputs_list_every_output_with_the_api_key_masked(run: ProgramRun) -> None:
    lines = output_lines(run)

    assert "api_key: [secret]" in lines
    assert {line.split(":")[0].split(".")[0] for line in lines} == set(run.outputs)


def test_outputs_show_long_texts_as_summaries(run: ProgramRun) -> None:
    assert any(
        re.fullmatch(r"metis_config: <text: \d+ lines, .*>", line) for line in output_lines(run)
    )


@pytest.mark.parametrize(
    ("stack", "total", "host"),
    [("dev", "$0.80", "gpu-1 g6.xlarge $0.80"), ("prod", "$21.96", "router c7i.xlarge $0.18")],
)
def test_cost_line_gives_the_total_and_each_host(stack: str, total: str, host: str) -> None:
    line = cost_line(load_settings(stack_raw_config(stack)))

    assert line.startswith(f"Hourly cost: {total} (")
    assert host in line


def test_the_plan_shows_the_monthly_cost_always_on_and_within_the_schedule() -> None:
    line = cost_line(load_settings(stack_raw_config("dev"))).splitlines()[1]

    assert line == "Monthly cost: $584.00 always on; $225.95 within the schedule (65 h a week)."


def test_without_a_schedule_the_plan_shows_the_monthly_cost_always_on() -> None:
    raw = {key: value for key, value in stack_raw_config("prod").items() if key != "schedule"}

    line = cost_line(load_settings(raw)).splitlines()[1]

    assert line == "Monthly cost: $16,030.80 always on."


def test_plan_files_hold_the_rendered_configs(run: ProgramRun, stack_name: str) -> None:
    files = plan_files(_plan(stack_name, run))

    assert files["metis.yaml"] == run.outputs["metis_config"].value
    assert files["litellm-config.yaml"] == run.outputs["litellm_config"].value


def test_plan_files_hold_one_cloud_init_script_per_instance(
    run: ProgramRun, stack_name: str
) -> None:
    files = plan_files(_plan(stack_name, run))

    instances = run.of_type("aws:ec2/instance:Instance")
    scripts = {name: text for name, text in files.items() if name.startswith("cloud-init/")}
    assert set(scripts) == {f"cloud-init/{i.name}.sh" for i in instances}
    assert all(text.startswith("#!/bin/bash") for text in scripts.values())


def test_plan_files_list_cloud_init_scripts_by_name_whatever_order_hosts_registered(
    run: ProgramRun, stack_name: str
) -> None:
    reversed_run = ProgramRun(list(reversed(run.registrations)), run.outputs)

    names = [name for name in plan_files(_plan(stack_name, reversed_run)) if "cloud-init/" in name]

    assert names == sorted(names)


def test_plan_files_hold_the_topology(run: ProgramRun, stack_name: str) -> None:
    plan = _plan(stack_name, run)

    assert plan_files(plan)["topology.mmd"] == render_topology(plan.settings)


def test_plan_command_writes_the_files_and_prints_the_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", "prod", "--out", str(tmp_path)]) == 0

    out = capsys.readouterr().out
    assert out.startswith("Offline plan: stack prod")
    assert "Hourly cost: $21.96" in out
    written = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    assert written == {
        "metis.yaml",
        "litellm-config.yaml",
        "topology.mmd",
        *(
            f"cloud-init/metis-llm-{host}-instance.sh"
            for host in ("chat-1", "chat-2", "embed-1", "router")
        ),
        "monitoring/prometheus/prometheus.yml",
        "monitoring/prometheus/alerts.yml",
        "monitoring/dcgm-exporter/metis-llm.csv",
        "monitoring/grafana/provisioning/datasources/metis-llm.yaml",
        "monitoring/grafana/provisioning/dashboards/metis-llm.yaml",
        *(
            f"monitoring/grafana/dashboards/metis-llm-{board}.json"
            for board in ("models", "gpus", "router")
        ),
    }


def test_the_plans_prometheus_config_scrapes_the_hosts_planned_addresses(
    run: ProgramRun, stack_name: str
) -> None:
    plan = _plan(stack_name, run)
    config = plan_files(plan)["monitoring/prometheus/prometheus.yml"]

    for host in run.outputs["hosts"].value.values():
        assert f"{host['private_ip']}:9100" in config
    router_host = plan.settings.router.host
    assert f"server_name: {run.outputs['hosts'].value[router_host]['public_ip']}" in config


def test_plan_prints_the_validated_settings_with_defaults(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", "dev", "--out", str(tmp_path)]) == 0

    out = capsys.readouterr().out
    settings = out.split("Settings (validated, defaults filled in)\n")[1].split("\n\n")[0]
    assert yaml.safe_load(settings)["metis"]["doc_chunk_size"] == 448


def test_plan_command_prints_every_rendered_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", "dev", "--out", str(tmp_path)]) == 0

    out = capsys.readouterr().out
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert f"--- {path} ---\n{path.read_text().rstrip()}" in out


def test_a_plan_reads_its_stack_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reads: list[str] = []
    read = stackfile.read_stack_text

    def counted(text: str, source: str) -> stackfile.StackFileConfig:
        reads.append(source)
        return read(text, source)

    monkeypatch.setattr(stackfile, "read_stack_text", counted)
    assert main(["plan", "dev", "--out", str(tmp_path)]) == 0
    assert reads == [str(STACK_FILES["dev"])]


def test_plan_command_writes_to_plan_out_stack_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)

    assert main(["plan", "dev"]) == 0
    assert (tmp_path / "plan-out" / "dev" / "metis.yaml").is_file()


def test_plan_command_removes_scripts_of_hosts_an_earlier_plan_had(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "cloud-init" / "metis-llm-gone-instance.sh"
    stale.parent.mkdir()
    stale.write_text("#!/bin/bash\n")

    assert main(["plan", "dev", "--out", str(tmp_path)]) == 0
    assert not stale.exists()


def test_plan_command_takes_any_stack_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack_file = _write_stack(tmp_path / "Pulumi.staging.yaml", {})

    assert main(["plan", str(stack_file), "--out", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.startswith("Offline plan: stack staging")


def test_plan_never_shows_the_hf_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    encrypted = {"secure": "v1:EncryptedTokenNeverShown=="}
    stack_file = _write_stack(tmp_path / "Pulumi.dev.yaml", {"metis-llm:hf_token": encrypted})

    assert main(["plan", str(stack_file), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "envs.HF_TOKEN: [secret]" in out
    shown = [out, *(p.read_text() for p in (tmp_path / "out").rglob("*.*"))]
    assert not any(SECRET_PLACEHOLDER in text or "EncryptedToken" in text for text in shown)


def test_a_plain_text_hf_token_is_refused_without_showing_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack_file = _write_stack(tmp_path / "Pulumi.dev.yaml", {"metis-llm:hf_token": HF_TOKEN})

    assert main(["plan", str(stack_file), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "metis-llm:hf_token = [secret]: stored in plain text" in err
    assert HF_TOKEN not in err


@pytest.mark.parametrize(
    ("cidrs", "shown"),
    [
        (["0.0.0.0/0"], "THE WHOLE INTERNET: tcp 8888 from 0.0.0.0/0"),
        (["::/0"], "THE WHOLE INTERNET: tcp 8888 from ::/0"),
        (
            ["0.0.0.0/1", "128.0.0.0/1"],
            "THE WHOLE INTERNET: tcp 8888 from 0.0.0.0/1 and 128.0.0.0/1",
        ),
        (["10.0.0.0/8", "2000::/4"], "A LARGE PART OF THE INTERNET (MORE PUBLIC ADDRESSES THAN"),
    ],
)
def test_a_public_router_is_announced_loudly(
    cidrs: list[str], shown: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    public = {"allowed_cidrs": cidrs, "allow_public": True}
    router = {**stack_raw_config("dev")["router"], **public}
    stack_file = _write_stack(tmp_path / "Pulumi.dev.yaml", {"metis-llm:router": router})

    assert main(["plan", str(stack_file), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert f"WARNING: THE ROUTER IS OPEN TO {shown}" in out


def test_a_plain_http_router_is_announced_loudly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    router = {**stack_raw_config("dev")["router"], "plain_http": True}
    stack_file = _write_stack(tmp_path / "Pulumi.dev.yaml", {"metis-llm:router": router})

    assert main(["plan", str(stack_file), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "WARNING: THE ROUTER SERVES PLAIN HTTP: tcp 8888" in out
    assert "router_url: http://" in out


def test_a_router_open_to_listed_cidrs_only_gets_no_warning(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["plan", "dev", "--out", str(tmp_path)]) == 0
    assert "WARNING" not in capsys.readouterr().out


def test_the_plan_of_a_shipped_stack_says_what_a_real_run_would_refuse(
    run: ProgramRun, stack_name: str
) -> None:
    text = render_plan(_plan(stack_name, run), Path("out"), {})
    notice = text.split("\n\n")[1]
    assert notice.startswith(
        "A REAL `pulumi preview` OR `pulumi up` WOULD STOP HERE, BEFORE CREATING ANYTHING:"
    )
    assert "metis-llm:access.ssh_public_key" in notice
    assert "metis-llm:router.allowed_cidrs[0]" in notice


def test_a_stack_with_the_deployers_own_values_gets_no_such_notice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    own = {
        "metis-llm:access": {"mode": "ssm", "ssh_public_key": OWN_KEY},
        "metis-llm:router": {**stack_raw_config("dev")["router"], "allowed_cidrs": ["10.8.0.0/16"]},
    }
    stack_file = _write_stack(tmp_path / "Pulumi.dev.yaml", own)
    assert main(["plan", str(stack_file), "--out", str(tmp_path / "out")]) == 0
    assert "WOULD STOP HERE" not in capsys.readouterr().out


def test_invalid_config_prints_only_the_validation_message_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = stack_raw_config("dev")
    raw["hosts"]["gpu-1"]["disk_gib"] = 10
    stack_file = _write_stack(tmp_path / "Pulumi.dev.yaml", {"metis-llm:hosts": raw["hosts"]})
    with pytest.raises(ConfigError) as expected:
        load_settings(raw)

    assert main(["plan", str(stack_file), "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"{expected.value}\n"
    assert not (tmp_path / "out").exists()


def test_unknown_stack_exits_2_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "no-such-stack"]) == 2
    assert "no stack file 'no-such-stack'" in capsys.readouterr().err


@pytest.mark.e2e
def test_plan_runs_as_a_command(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "offline", "plan", "dev", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "api_key: [secret]" in result.stdout
    assert (tmp_path / "litellm-config.yaml").is_file()


@pytest.mark.e2e
def test_invalid_config_as_a_command_shows_no_traceback(tmp_path: Path) -> None:
    stack_file = _write_stack(tmp_path / "Pulumi.dev.yaml", {"metis-llm:router": {"port": 80}})

    result = subprocess.run(
        [sys.executable, "-m", "offline", "plan", str(stack_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr.startswith("invalid stack config")
    assert "Traceback" not in result.stderr
