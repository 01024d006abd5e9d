"""Plan diffs: what a change to a stack file changes, as data and as a Markdown report."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline.__main__ import main
from offline.diff import PlanDiff, ValueChange, diff_leaves, diff_runs
from offline.diff_report import change_lines, render_diff
from offline.harness import run_stack_file
from offline.stackfile import SECRET_PLACEHOLDER
from offline.values import Leaf
from tests.support.stacks import STACK_FILES, stack_run

MODEL_SWAP = {"model": "Qwen/Qwen3-8B", "max_model_len": 8192}
CONTAINER = "docker:index/container:Container"
IMAGE = "docker:index/remoteImage:RemoteImage"
INSTANCE = "aws:ec2/instance:Instance"
COMMAND = "command:local:Command"
PARAMETER = "aws:ssm/parameter:Parameter"


def _dev_with(directory: Path, section: str, change: dict[str, Any]) -> Path:
    """The dev stack file with one section's keys updated, as `directory/Pulumi.dev.yaml`
    (the same file name keeps the stack name, and so every URN, the same)."""
    document = yaml.safe_load(STACK_FILES["dev"].read_text())
    document["config"][f"metis-llm:{section}"].update(change)
    path = directory / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def _changed(diff: PlanDiff) -> dict[str, set[str]]:
    """Changed input paths by resource name."""
    return {c.registration.name: {v.path for v in c.changes} for c in diff.changed}


def _types(diff: PlanDiff) -> set[str]:
    return {change.registration.type for change in diff.changed}


@pytest.fixture(scope="module")
def model_swap(tmp_path_factory: pytest.TempPathFactory) -> PlanDiff:
    swapped = _dev_with(tmp_path_factory.mktemp("swap"), "chat", MODEL_SWAP)
    return diff_runs(stack_run("dev"), run_stack_file(swapped))


@pytest.fixture(scope="module")
def image_swap(tmp_path_factory: pytest.TempPathFactory) -> PlanDiff:
    swapped = _dev_with(
        tmp_path_factory.mktemp("image"), "images", {"vllm": "vllm/vllm-openai:v0.31.0"}
    )
    return diff_runs(stack_run("dev"), run_stack_file(swapped))


def _git(directory: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args],
        cwd=directory,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository whose one commit holds the dev stack file as it is."""
    (tmp_path / "Pulumi.dev.yaml").write_text(STACK_FILES["dev"].read_text())
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "Pulumi.dev.yaml")
    _git(tmp_path, "commit", "-q", "-m", "dev stack")
    return tmp_path


def test_model_swap_changes_the_chat_container_command(model_swap: PlanDiff) -> None:
    assert "command" in _changed(model_swap)["metis-llm-chat-gpu-1-container"]


def test_model_swap_changes_the_router_config_uploaded_into_its_container(
    model_swap: PlanDiff,
) -> None:
    assert _changed(model_swap)["metis-llm-router-container"] == {"uploads[0].content"}


def test_model_swap_changes_containers_the_review_probe_and_the_discovery_record_only(
    model_swap: PlanDiff,
) -> None:
    assert _types(model_swap) == {CONTAINER, COMMAND, PARAMETER}
    assert set(_changed(model_swap)) - {
        "metis-llm-review-ready-probe",
        "metis-llm-discovery-record",
    } == {
        "metis-llm-chat-gpu-1-container",
        "metis-llm-router-container",
    }
    assert not model_swap.added
    assert not model_swap.removed


def test_model_swap_runs_the_review_probe_again_for_the_new_model(model_swap: PlanDiff) -> None:
    assert "triggers" in _changed(model_swap)["metis-llm-review-ready-probe"]


def test_model_swap_changes_no_instance(model_swap: PlanDiff) -> None:
    assert INSTANCE not in _types(model_swap)


def test_model_swap_changes_the_outputs_metis_reads(model_swap: PlanDiff) -> None:
    changed = {change.path for change in model_swap.outputs}

    assert changed == {"chat_model", "metis_config", "litellm_config"}


def test_image_swap_changes_images_and_containers_but_no_instance(image_swap: PlanDiff) -> None:
    assert _types(image_swap) == {IMAGE, CONTAINER}
    assert _changed(image_swap)["metis-llm-chat-gpu-1-image"] == {"name"}


def test_report_shows_the_new_vllm_args_as_a_diff(model_swap: PlanDiff) -> None:
    report = render_diff(model_swap, stack="dev", before="a", after="b")

    assert "#### ~ `docker:index/container:Container` **metis-llm-chat-gpu-1-container**" in report
    assert "  +Qwen/Qwen3-8B" in report
    assert "  -32768" in report
    assert "  +8192" in report


def test_report_counts_the_changes(model_swap: PlanDiff) -> None:
    report = render_diff(model_swap, stack="dev", before="a", after="b")

    assert "**4 to change, 0 to add, 0 to remove; 3 output values changed.**" in report


def test_secret_change_is_shown_masked() -> None:
    (change,) = diff_leaves({"k": Leaf("old-key", secret=True)}, {"k": Leaf("new-key", True)})

    assert change_lines(change) == ["- [secret]", "+ [secret]"]


def test_added_secret_env_var_is_named_but_masked(tmp_path: Path) -> None:
    document = yaml.safe_load(STACK_FILES["dev"].read_text())
    document["config"]["metis-llm:hf_token"] = {"secure": "v1:EncryptedTokenNeverShown=="}
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump(document))
    diff = diff_runs(stack_run("dev"), run_stack_file(tmp_path / "Pulumi.dev.yaml"))

    report = render_diff(diff, stack="dev", before="a", after="b")
    assert _changed(diff)["metis-llm-chat-gpu-1-container"] == {"envs.HF_TOKEN"}
    assert "EncryptedTokenNeverShown" not in report
    assert SECRET_PLACEHOLDER not in report
    assert "+ [secret]" in report


def test_same_file_diff_is_empty_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    dev = str(STACK_FILES["dev"])

    assert main(["plan", dev, "--against-file", dev]) == 0
    assert "**No changes**" in capsys.readouterr().out


def test_diff_against_git_ref_reads_the_committed_file_and_exits_1(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _dev_with(repo, "chat", MODEL_SWAP)

    assert main(["plan", str(repo / "Pulumi.dev.yaml"), "--against", "HEAD"]) == 1
    out = capsys.readouterr().out
    assert "`Pulumi.dev.yaml` at `HEAD` →" in out
    assert "**metis-llm-chat-gpu-1-container**" in out


def test_diff_against_git_ref_without_change_exits_0(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", str(repo / "Pulumi.dev.yaml"), "--against", "HEAD"]) == 0


def test_stack_absent_at_ref_shows_every_resource_added(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new_stack = repo / "Pulumi.staging.yaml"
    new_stack.write_text(STACK_FILES["dev"].read_text())

    assert main(["plan", str(new_stack), "--against", "HEAD"]) == 1
    out = capsys.readouterr().out
    added = len(stack_run("dev").registrations)
    assert "(absent: a new stack)" in out
    assert f"0 to change, {added} to add, 0 to remove" in out


def test_unknown_git_ref_exits_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(repo / "Pulumi.dev.yaml"), "--against", "no-such-ref"]) == 2
    assert "'no-such-ref' is not a commit" in capsys.readouterr().err


def test_invalid_base_config_names_its_side_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = _dev_with(tmp_path, "router", {"port": 80})

    assert main(["plan", "dev", "--against-file", str(base)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"`{base}`: invalid stack config (1 problem):")


def test_out_is_refused_with_a_diff(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["plan", "dev", "--against", "HEAD", "--out", "x"])

    assert exit_info.value.code == 2


def test_removed_leaf_is_a_change() -> None:
    assert diff_leaves({"a": Leaf(1, False)}, {}) == [ValueChange("a", Leaf(1, False), None)]
