"""Every input ends in one validation message, in bounded time and memory: YAML alias bombs,
values that contain themselves, deep nesting, integers longer than Python reads, types no
stack value has. The offline plan runs in a subprocess under resource limits (address space,
CPU time) that a plan of a real stack stays well within."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

from config.display import SHOWN_CHARS
from config.errors import ConfigError, Problem
from config.loader import load_settings, load_stack
from config.stack import _decode
from offline.stackfile import read_stack_text
from tests.support.stacks import ROOT, STACK_FILES

MEMORY_LIMIT = 1024**3
"""Address space for one plan: a plan of the prod stack needs under 600 MiB."""
CPU_SECONDS = 60
DEV = STACK_FILES["dev"].read_text()


def limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


def plan(stack_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "offline", "plan", str(stack_file), "--out", str(stack_file.parent)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        preexec_fn=limited,
        check=False,
    )


def bomb(key: str, levels: int = 12, width: int = 9) -> str:
    """A billion-laughs stack file: under `key`, each level repeats the one before `width`
    times (9^12 values from a 1 KiB file)."""
    lines = ["config:", f"  {key}:", '    a0: &a0 ["lol"]']
    for level in range(1, levels + 1):
        lines.append(f"    a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def with_value(key: str, value_yaml: str) -> str:
    return DEV + f"  {key}: {value_yaml}\n"


CASES = {
    "alias bomb": (bomb("metis-llm:chat"), "metis-llm:chat = "),
    "alias bomb in another namespace": (bomb("aws:tags"), "aws:tags = "),
    "value containing itself": (
        "config:\n  metis-llm:chat: &loop {model: *loop}\n",
        "contains itself",
    ),
    "deep nesting": (with_value("metis-llm:catalog", "[" * 5000 + "]" * 5000), "nests deeper"),
    "5,000-digit integer": (DEV.replace("port: 8888", "port: " + "9" * 5000), "an integer of"),
    "huge hexadecimal integer": (with_value("metis-llm:x", "0x" + "f" * 20_000), "an integer of"),
    "binary value": (with_value("metis-llm:x", "!!binary aGVsbG8="), "no stack setting takes"),
    "set value": (with_value("metis-llm:x", "!!set {a, b}"), "no stack setting takes"),
    "key given twice": (DEV + "  metis-llm:chat: {}\n", "appears twice"),
    "key that is no text": (with_value("12", "x"), "is not a text"),
    "text of 100,000 characters": (with_value("metis-llm:x", "a" * 100_000), "a text of 100,000"),
    "not YAML": (DEV + "  metis-llm:x: [unclosed\n", "is not a valid stack file"),
    "date value": (DEV.replace('version: "1.5"', "version: 2024-01-01"), "metis.version"),
}


@pytest.mark.e2e
@pytest.mark.timeout(600)
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_plan_ends_every_bad_stack_file_in_one_message_within_bounds(tmp_path, case):
    text, expected = CASES[case]
    assert len(text) < 200_000
    stack_file = tmp_path / "Pulumi.bad.yaml"
    stack_file.write_text(text)
    result = plan(stack_file)
    assert result.returncode == 2, result.stderr[-2000:]
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_yaml_error_shows_where_but_not_the_line(tmp_path):
    stack_file = tmp_path / "Pulumi.bad.yaml"
    stack_file.write_text(DEV + '  metis-llm:hf_token: "hf_SecretValueOnTheBadLine1234\n')
    result = plan(stack_file)
    assert result.returncode == 2
    assert "(line " in result.stderr
    assert "SecretValueOnTheBadLine" not in result.stderr


def test_a_value_like_a_date_stays_text_as_pulumi_passes_it(tmp_path):
    stack_file = tmp_path / "Pulumi.bad.yaml"
    stack_file.write_text(DEV.replace('version: "1.5"', "version: 2024-01-01"))
    result = plan(stack_file)
    assert 'metis-llm:metis.version = "2024-01-01"' in result.stderr


# The same bounds in the process: what the program gets from the engine, and how problems show


def dag(levels: int) -> list:
    """A value whose expansion has 2^levels leaves, built from shared references."""
    value: list = ["lol"]
    for _ in range(levels):
        value = [value, value]
    return value


def nested(depth: int) -> list:
    value: list = ["deep"]
    for _ in range(depth):
        value = [value]
    return value


def test_a_problem_about_a_huge_shared_value_shows_a_bounded_text():
    shown = str(Problem("metis-llm:chat", dag(200), "too big", "make it smaller"))
    assert len(shown) < 200 + SHOWN_CHARS


def test_a_problem_about_a_value_containing_itself_shows_a_bounded_text():
    loop: list = []
    loop.append(loop)
    assert len(str(Problem("metis-llm:chat", loop, "loops", "unloop"))) < 200 + SHOWN_CHARS


@pytest.mark.parametrize(
    "value",
    [dag(200), {"model": dag(200)}, nested(30)],
    ids=["shared", "shared-inside", "deep"],
)
def test_loading_a_value_past_the_bounds_ends_in_one_problem(minimal_raw, value):
    with pytest.raises(ConfigError) as error:
        load_settings({**minimal_raw, "chat": value})
    (problem,) = error.value.problems
    assert problem.key.startswith("metis-llm:chat")


def test_the_engines_json_with_an_integer_python_cannot_read_ends_in_a_problem(minimal_raw):
    """The engine passes values as JSON text; text Python's JSON reader refuses stays text."""
    router = '{"allowed_cidrs": ["198.51.100.0/24"], "port": ' + "9" * 5000 + "}"
    config = {f"metis-llm:{k}": v for k, v in minimal_raw.items()}
    config["metis-llm:router"] = _decode(router)
    with pytest.raises(ConfigError) as error:
        load_stack(config)
    (problem,) = error.value.problems
    assert problem.key == "metis-llm:router"


def test_the_engines_json_nested_too_deep_ends_in_a_problem(minimal_raw):
    config = {f"metis-llm:{k}": v for k, v in minimal_raw.items()}
    config["metis-llm:chat"] = _decode("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ConfigError):
        load_stack(config)


# What stays readable


def test_yaml_merge_keys_and_small_aliases_are_read_as_yaml_defines_them():
    text = (
        "config:\n"
        "  aws:defaults: &defaults {model: Qwen/Qwen3-8B, hosts: [gpu-9]}\n"
        "  metis-llm:chat:\n"
        "    <<: *defaults\n"
        "    hosts: [gpu-1]\n"
    )
    config = read_stack_text(text, "Pulumi.merge.yaml")
    assert config.values["metis-llm:chat"] == {"model": "Qwen/Qwen3-8B", "hosts": ["gpu-1"]}
