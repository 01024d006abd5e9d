"""A key whose namespace is a misspelling of `metis-llm` is an error, in the program and in the
offline plan; keys of other namespaces stay allowed."""

from __future__ import annotations

import pulumi
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.errors import ConfigError
from config.loader import load_stack
from config.namespace import is_misspelt
from offline.__main__ import main
from offline.harness import run_program, stack_file_config
from tests.support.stacks import STACK_FILES

DEV, _ = stack_file_config(STACK_FILES["dev"])


def problems_of(config: dict) -> list:
    try:
        load_stack(config)
    except ConfigError as error:
        return error.problems
    return []


MISSPELT = ["metis_llm", "metisllm", "metis-lm", "Metis-LLM", "METIS-LLM", "metis.llm", "metis",
            "mtis-llm", "metis-llm2", "metis-llms", "metis_LLM", "meits-llm"]  # fmt: skip


@pytest.mark.parametrize("namespace", MISSPELT)
def test_a_misspelt_namespace_is_an_error_naming_the_right_key(dev_raw, namespace):
    config = {"metis-llm:router": dev_raw["router"], "metis-llm:access": dev_raw["access"]}
    config[f"{namespace}:chat"] = {"model": "Qwen/Qwen3-8B"}
    (problem,) = problems_of(config)
    assert problem.key == f"{namespace}:chat"
    assert problem.fix == "rename it to metis-llm:chat"


@pytest.mark.parametrize(
    "key", ["aws:region", "aws:profile", "docker:host", "random:seed", "pulumi:template", "metal:x"]
)
def test_keys_of_other_namespaces_are_allowed(dev_raw, key):
    config = {f"metis-llm:{name}": value for name, value in dev_raw.items()}
    assert load_stack({**config, key: "anything"})


def test_the_program_stops_on_a_misspelt_namespace():
    with pytest.raises(pulumi.RunError, match=r"metis_llm:chat = .*rename it to metis-llm:chat"):
        run_program({**DEV, "metis_llm:chat": '{"model": "Qwen/Qwen3-8B"}'})


def test_the_offline_plan_stops_on_a_misspelt_namespace(tmp_path, capsys):
    text = STACK_FILES["dev"].read_text() + "  metis_llm:chat: {model: Qwen/Qwen3-8B}\n"
    (tmp_path / "Pulumi.dev.yaml").write_text(text)
    assert main(["plan", str(tmp_path / "Pulumi.dev.yaml"), "--out", str(tmp_path / "out")]) == 2
    assert "metis_llm:chat = " in capsys.readouterr().err


def test_a_misspelt_secret_key_is_reported_without_its_value(dev_raw):
    config = {f"metis-llm:{name}": value for name, value in dev_raw.items()}
    (problem,) = problems_of({**config, "Metis-LLM:hf_token": "hf_" + "q" * 34})
    assert str(problem).startswith("Metis-LLM:hf_token = [secret]: ")


# Property: every spelling of metis-llm that differs only in case and separators, or by up to
# two letters, is caught; a namespace nothing like it is not.

SEPARATORS = st.sampled_from(["", "-", "_", ".", " ", "--"])


@st.composite
def respelt(draw: st.DrawFn) -> str:
    """metis-llm with its case and separator changed."""
    left = "".join(draw(st.sampled_from([c, c.upper()])) for c in "metis")
    right = "".join(draw(st.sampled_from([c, c.upper()])) for c in "llm")
    return left + draw(SEPARATORS) + right


@st.composite
def misspelt(draw: st.DrawFn) -> str:
    """metis-llm with one or two letters dropped, doubled or replaced."""
    letters = list(draw(respelt()))
    for _ in range(draw(st.integers(1, 2))):
        index = draw(st.integers(0, len(letters) - 1))
        edit = draw(st.sampled_from(["drop", "double", "replace"]))
        if edit == "drop" and len(letters) > 1:
            del letters[index]
        elif edit == "double":
            letters.insert(index, letters[index])
        else:
            letters[index] = draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789"))
    return "".join(letters)


@settings(max_examples=300, deadline=None)
@given(namespace=st.one_of(respelt(), misspelt()).filter(lambda ns: ns != "metis-llm"))
def test_any_near_spelling_of_the_namespace_is_caught(namespace):
    assert is_misspelt(namespace)


@settings(max_examples=300, deadline=None)
@given(
    namespace=st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_", min_size=1, max_size=12).filter(
        lambda ns: (
            not ns.replace("-", "").replace("_", "").startswith("metis")
            and len(set(ns) & set("metisl")) <= 2
        )
    )
)
def test_a_namespace_sharing_little_with_it_is_left_alone(namespace):
    assert not is_misspelt(namespace)
