"""vLLM flags in extra_args: every spelling vLLM reads as a flag the project manages, or as
one that changes how many GPUs a replica takes, is refused; other flags pass, however
written. Judged against a stand-in of vLLM 0.32.0's own parser (tests/support/vllm_serve.py)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.rules.models import MANAGED_FLAGS
from config.vllm_flags import ALIASES, UNSUPPORTED_FLAGS
from tests.config_cases import problem_at, problems, valid, with_changes
from tests.support.vllm_serve import AmbiguousOptionError, options_set, serve_options

REFUSED = {**MANAGED_FLAGS, **UNSUPPORTED_FLAGS}
KEY = "metis-llm:chat.extra_args[0]"
VLLM_OPTIONS = serve_options()
VLLM_NAMES = {name: names[0] for names in VLLM_OPTIONS for name in names}


def refused_at_first(raw, args: list[str]) -> bool:
    return KEY in {p.key for p in problems(with_changes(raw, chat={"extra_args": args}))}


@pytest.mark.parametrize(
    "args",
    [
        ["--api_key", "k"],
        ["--api-key=k"],
        ["--max_model_len=4096"],
        ["--max-model-len", "4096"],
        ["--gpu_memory_utilization", "0.95"],
        ["--device-memory-utilization", "0.95"],
        ["--tensor-parallel", "2"],
        ["-tp", "2"],
        ["-tp=2"],
        ["-t", "2"],
        ["-qawq"],
        ["--quantization=awq"],
        ["--served_model_name", "x"],
        ["--pipeline-parallel-size", "2"],
        ["--pipeline_parallel_size=2"],
        ["-pp", "2"],
        ["--data-parallel-size", "2"],
        ["-dp=2"],
        ["--data-parallel-size-local", "2"],
        ["--prefill-context-parallel-size", "2"],
        ["--nnodes", "2"],
        ["--headless"],
        ["--device-ids", "0,1"],
        ["--kv-cache-memory-bytes", "80g"],
        ["--hf-token", "hf_x"],
        ["--hf_token=hf_x"],
        ["--config", "more.yaml"],
        ["--port=9000"],
        ["--host", "0.0.0.0"],
        ["--model", "x"],
        ["--dtype.x", "1"],
        ["--"],
    ],
    ids=lambda args: " ".join(args),
)
def test_a_refused_flag_is_refused_in_any_spelling(minimal_raw, args):
    assert refused_at_first(minimal_raw, args)


@pytest.mark.parametrize(
    "args",
    [
        ["--enable-prefix-caching"],
        ["--enable_prefix_caching"],
        ["--max-num-seqs", "64"],
        ["--max_num_seqs=64"],
        ["--enforce-eager"],
        ["-O3"],
        ["--compilation-config", '{"level": 3}'],
        ["--compilation_config.level", "3"],
        ["--kv-cache-dtype", "fp8"],
        ["--enable-expert-parallel"],
        ["-ep"],
        ["--max-num-batched-tokens", "-1"],
    ],
    ids=lambda args: " ".join(args),
)
def test_other_flags_pass_however_written(minimal_raw, args):
    valid(with_changes(minimal_raw, chat={"extra_args": args}))


def test_a_refused_spelling_names_the_flag_vllm_reads(minimal_raw):
    raw = with_changes(minimal_raw, chat={"extra_args": ["--api_key=abc"]})
    problem = problem_at(raw, KEY)
    assert problem.reason.startswith("--api_key is read by vLLM as --api-key, which is managed")
    assert "abc" not in str(problem)


def test_a_gpu_count_flag_says_why(minimal_raw):
    raw = with_changes(minimal_raw, chat={"extra_args": ["-dp", "2"]})
    assert "how many GPUs a replica takes" in problem_at(raw, KEY).reason


def test_an_abbreviation_of_several_refused_flags_names_them(minimal_raw):
    raw = with_changes(minimal_raw, chat={"extra_args": ["-p", "2"]})
    problem = problem_at(raw, KEY)
    assert "--pipeline-parallel-size, --prefill-context-parallel-size" in problem.reason


def test_a_flag_and_its_value_in_one_item_is_reported(minimal_raw):
    raw = with_changes(minimal_raw, chat={"extra_args": ["--max-num-seqs 64"]})
    assert "in one item" in problem_at(raw, KEY).reason


@pytest.mark.parametrize("field", ["model", "served_name"])
@pytest.mark.parametrize("name", ["-q", "--api-key", "-tp", "- x"])
def test_a_model_or_served_name_vllm_would_read_as_a_flag_is_refused(minimal_raw, field, name):
    raw = with_changes(minimal_raw, chat={field: name, "max_model_len": 4096})
    problem = problem_at(
        raw, f"metis-llm:chat.{field}", about="vLLM's argument parser would read it as a flag"
    )
    assert problem.reason == "starts with '-': vLLM's argument parser would read it as a flag"
    assert (
        problem.fix
        == {
            "model": "use the model's Hugging Face id (organisation/name)",
            "served_name": "use a name that does not start with '-'",
        }[field]
    )


# What the refusal rests on, checked against vLLM 0.32.0's option list


def test_every_refused_flag_but_the_old_task_flag_is_a_vllm_option():
    known = set(VLLM_NAMES) | {"--help", "--"}
    assert set(REFUSED) - known == {"--task"}


def test_the_aliases_are_vllms_own():
    assert {alias: VLLM_NAMES.get(alias, "--help") for alias in ALIASES} == ALIASES


def test_no_other_vllm_option_is_a_prefix_of_a_refused_flag():
    """So refusing every prefix of a refused flag never refuses an option vLLM would read
    exactly as itself (argparse takes an exact name before any prefix)."""
    refused_names = set(REFUSED) | {a for a, option in ALIASES.items() if option in REFUSED}
    clashes = {
        (name, refused)
        for name, option in VLLM_NAMES.items()
        if option not in REFUSED
        for refused in refused_names
        if refused != name
        and refused.startswith(name)
        and name.startswith("--") == refused.startswith("--")
    }
    assert clashes == set()


# Properties

FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@st.composite
def respelt(draw: st.DrawFn, name: str, *, abbreviate: bool) -> str:
    """A name of an option as vLLM would still read it: `_` for `-`, cut short, `=value`,
    `.key` (long names only)."""
    long = name.startswith("--")
    body = name[2:] if long else name[1:]
    if long:
        body = "".join(draw(st.sampled_from(["-", "_"])) if c == "-" else c for c in body)
    if abbreviate:
        body = body[: draw(st.integers(1, len(body)))]
    spelt = ("--" if long else "-") + body
    suffix = draw(st.sampled_from(["", "=2", "=awq", ".key" if long else "=1"]))
    return spelt + suffix


def vllm_reads_as_refused(arg: str) -> bool:
    try:
        read = options_set(arg)
    except AmbiguousOptionError as ambiguous:
        read = [VLLM_NAMES.get(name, name) for name in ambiguous.candidates]
    return bool(set(read) & set(REFUSED))


refused_names = sorted(
    [name for name in REFUSED if name not in ("--", "--task")]
    + [alias for alias, option in ALIASES.items() if option in REFUSED]
)


@FUZZ
@given(data=st.data(), name=st.sampled_from(refused_names), cut=st.booleans())
def test_whatever_vllm_reads_as_a_refused_flag_is_refused(minimal_raw, data, name, cut):
    arg = data.draw(respelt(name, abbreviate=cut))
    if vllm_reads_as_refused(arg):
        assert refused_at_first(minimal_raw, [arg, "2"]), arg


@FUZZ
@given(
    arg=st.text(alphabet="-_abcdehilmnopqrstuvwxyz=.0123456789", min_size=2, max_size=24).map(
        "-{}".format
    )
)
def test_any_dashed_text_vllm_reads_as_a_refused_flag_is_refused(minimal_raw, arg):
    if vllm_reads_as_refused(arg):
        assert refused_at_first(minimal_raw, [arg, "2"]), arg


allowed_options = sorted(
    names[0]
    for names in VLLM_OPTIONS
    if names[0] not in REFUSED and names[0] not in ("--model", "--help")
)


@FUZZ
@given(data=st.data(), name=st.sampled_from(allowed_options))
def test_every_other_vllm_option_written_in_full_passes(minimal_raw, data, name):
    arg = data.draw(respelt(name, abbreviate=False))
    assert options_set(arg) == [name]
    assert not refused_at_first(minimal_raw, [arg, "2"]), arg
