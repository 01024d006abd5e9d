"""The README's deploy path holds for the pinned Pulumi CLI: every `pulumi` command it shows
is valid (docs/reference/pulumi-cli-3.259.0.json), its `pulumi config` commands, played on
the stack files as the CLI stores them (tests/support/pulumi_config.py), give config the
program accepts, and its figures (quota, cost) follow from the stack files."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.project import NAMESPACE
from offline.harness import reveal, run_stack_file
from offline.stackfile import load_stack_settings
from tests.support.pulumi_cli import check, pulumi_commands, shell_blocks
from tests.support.pulumi_config import (
    CIPHERTEXT,
    ConfigSetError,
    coerce,
    config_remove,
    config_set,
    parse_property_path,
)
from tests.support.stacks import EXAMPLE_KEY, ROOT, STACK_FILES

README = (ROOT / "README.md").read_text()
HOURS_PER_MONTH = 730
INLINE_CODE = re.compile(r"`(pulumi [^`]+)`")
RUNNERS_CIDR = "100.64.7.0/24"
SHELL_VALUES = {"$(cat ~/.ssh/id_ed25519.pub)": EXAMPLE_KEY, "$RUNNERS_CIDR": RUNNERS_CIDR}
"""What the README's shell expressions stand for in these tests."""


def _section(title: str) -> str:
    start = README.index(f"\n## {title}")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def _readme_commands(text: str = README) -> list[list[str]]:
    return [argv for block in shell_blocks(text) for argv in pulumi_commands(block)]


def _config_commands() -> list[list[str]]:
    return [argv for argv in _readme_commands() if argv[1:2] == ["config"]]


def _apply(config: dict[str, Any], argv: list[str], stack: str) -> None:
    """One README `pulumi config set|rm` on a stack's config, as the CLI would store it.
    Without `--stack` a command applies to every stack ("the same steps with prod")."""
    words = [SHELL_VALUES.get(word, word) for word in argv[3:]]
    named = words[words.index("--stack") + 1] if "--stack" in words else stack
    if named != stack:
        return
    flags = {word for word in words if word.startswith("--")}
    args = [w for i, w in enumerate(words) if not w.startswith("--") and words[i - 1] != "--stack"]
    assert flags <= {"--path", "--secret", "--stack"}, f"not modelled: {shlex.join(argv)}"
    if argv[2] == "rm":
        config_remove(config, args[0], path="--path" in flags)
    else:
        value = args[1] if len(args) > 1 else "read from stdin"
        config_set(config, args[0], value, path="--path" in flags, secret="--secret" in flags)


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each stack file after every `pulumi config` command the README shows."""
    files = {}
    for stack, source in STACK_FILES.items():
        document = yaml.safe_load(source.read_text())
        for argv in _config_commands():
            _apply(document["config"], argv, stack)
        files[stack] = tmp_path_factory.mktemp(stack) / f"Pulumi.{stack}.yaml"
        files[stack].write_text(yaml.safe_dump(document, sort_keys=False))
    return files


def test_every_pulumi_command_in_the_readme_is_valid_for_the_pinned_cli():
    inline = [argv for code in INLINE_CODE.findall(README) for argv in pulumi_commands(code)]
    commands = _readme_commands() + inline

    assert len(commands) > 40
    assert {shlex.join(argv): check(argv) for argv in commands} == {
        shlex.join(argv): [] for argv in commands
    }


def test_the_checker_refuses_what_the_pinned_cli_refuses():
    assert check(["pulumi", "stack", "select", "dev", "--create", "--yes"]) == [
        "pulumi stack select: unknown flag --yes"
    ]
    assert check(["pulumi", "config", "set"]) == ["pulumi config set: needs 1 argument(s)"]


def test_a_first_deploy_creates_the_stack_for_both_kinds_of_backend():
    deploy = _section("Deploy it: `pulumi up`")
    commands = [shlex.join(argv) for argv in _readme_commands(deploy)]

    assert "pulumi login" in commands
    assert any(c.startswith("pulumi login 's3://") for c in commands)
    assert "pulumi stack init dev --secrets-provider passphrase" in commands
    assert "PULUMI_CONFIG_PASSPHRASE" in deploy
    assert "encryptionsalt:" in deploy


def test_every_preview_and_up_of_the_deploy_path_applies_the_policy_pack():
    deploy = _section("Deploy it: `pulumi up`") + _section("Policy pack")
    runs = [argv for argv in _readme_commands(deploy) if argv[1] in ("preview", "up")]

    assert runs
    assert [argv for argv in runs if "--policy-pack" not in argv] == []
    assert all(argv[argv.index("--policy-pack") + 1] == "policy" for argv in runs)


def test_the_hf_token_is_set_as_a_secret_from_a_file_not_the_command_line():
    (command,) = [
        line
        for line in README.splitlines()
        if "metis-llm:hf_token" in line and line.startswith("pulumi config set")
    ]

    assert shlex.split(command)[:5] == ["pulumi", "config", "set", "--secret", "metis-llm:hf_token"]
    assert "<" in command.split("metis-llm:hf_token", 1)[1]


def test_the_readme_replaces_the_cidr_list_instead_of_indexing_into_it():
    commands = [shlex.join(argv) for argv in _config_commands()]
    remove = commands.index("pulumi config rm --path metis-llm:router.allowed_cidrs")

    assert commands[remove + 1].startswith(
        "pulumi config set --path 'metis-llm:router.allowed_cidrs[0]'"
    )


def test_after_the_readme_commands_each_stack_routes_only_the_given_cidr(configured):
    for stack, path in configured.items():
        assert load_stack_settings(path).router.allowed_cidrs == [RUNNERS_CIDR], stack


def test_the_readme_commands_give_config_the_program_accepts(configured):
    for path in configured.values():
        run = run_stack_file(path)

        assert run.outputs["router_url"].value.startswith("https://")


def test_a_decimal_set_with_path_reaches_vllm_as_a_number(configured):
    run = run_stack_file(configured["dev"])
    command = reveal(run.named("metis-llm-chat-gpu-1-container").inputs["command"])

    assert command[command.index("--gpu-memory-utilization") + 1] == "0.85"


def test_a_catalog_key_with_dots_set_in_brackets_changes_the_price(configured):
    costs = {
        stack: run_stack_file(path).outputs["hourly_cost_usd"].value
        for stack, path in configured.items()
    }

    assert costs == {"dev": 0.91, "prod": round(2 * 10.49 + 0.9102 + 0.18, 2)}


def test_the_hf_token_lands_encrypted_in_the_stack_file(configured):
    document = yaml.safe_load(configured["dev"].read_text())

    assert document["config"][f"{NAMESPACE}:hf_token"] == {"secure": CIPHERTEXT}


def test_the_cli_stores_decimals_as_text_and_whole_numbers_and_bools_as_values():
    config: dict[str, Any] = {}
    for key, value in [
        ("chat.gpu_memory_utilization", "0.9"),
        ("router.port", "8888"),
        ("hosts.gpu-1.spot", "true"),
        ("hosts.gpu-1.disk_gib", "0150"),
    ]:
        config_set(config, f"metis-llm:{key}", value, path=True)

    assert config == {
        "metis-llm:chat": {"gpu_memory_utilization": "0.9"},
        "metis-llm:router": {"port": 8888},
        "metis-llm:hosts": {"gpu-1": {"spot": True, "disk_gib": "0150"}},
    }


def test_a_top_level_key_is_always_stored_as_text():
    config: dict[str, Any] = {}
    config_set(config, "aws:region", "42", path=True)

    assert config == {"aws:region": "42"}


def test_brackets_and_quotes_name_a_key_holding_dots():
    assert parse_property_path('catalog.instances["c7i.xlarge"].usd_per_hour') == [
        "catalog",
        "instances",
        "c7i.xlarge",
        "usd_per_hour",
    ]


def test_an_index_past_the_end_of_a_list_is_refused():
    config = {"metis-llm:router": {"allowed_cidrs": ["192.0.2.0/24"]}}

    with pytest.raises(ConfigSetError, match="out of range"):
        config_set(config, "metis-llm:router.allowed_cidrs[2]", "x", path=True)


def test_the_next_index_appends_to_a_list():
    config = {"metis-llm:router": {"allowed_cidrs": ["192.0.2.0/24"]}}
    config_set(config, "metis-llm:router.allowed_cidrs[1]", "198.51.100.0/24", path=True)

    assert config["metis-llm:router"]["allowed_cidrs"] == ["192.0.2.0/24", "198.51.100.0/24"]


@pytest.mark.parametrize(
    ("text", "stored"),
    [("false", False), ("-3", -3), ("0", 0), ("007", "007"), ("1e3", "1e3"), ("True", "True")],
)
def test_coerce_types_only_what_the_cli_types(text, stored):
    assert coerce(text) == stored


def test_the_quota_table_follows_from_the_stack_files():
    for stack, path in STACK_FILES.items():
        settings = load_stack_settings(path)
        vcpus = {"gpu": 0, "standard": 0}
        for host in settings.hosts.values():
            family = "gpu" if re.match(r"(g|vt)\d", host.instance_type) else "standard"
            vcpus[family] += settings.catalog.instance(host.instance_type).vcpu
        row = rf"^\| {stack} \| {vcpus['gpu']}\b[^|]*\| {vcpus['standard']}\b[^|]*\|$"

        assert re.search(row, README, re.MULTILINE), (stack, vcpus)


def test_the_monthly_cost_table_follows_from_the_programs_outputs():
    for stack, path in STACK_FILES.items():
        outputs = run_stack_file(path).outputs
        hourly = outputs["hourly_cost_usd"].value
        monthly = outputs["monthly_cost_usd"].value

        assert monthly["always_on"] == round(hourly * HOURS_PER_MONTH, 2)
        always, scheduled = monthly["always_on"], monthly["scheduled"]
        assert f"| {stack} | ${hourly:.2f} | ${always:,.2f} | ${scheduled:,.2f} |" in README
