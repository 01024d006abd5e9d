"""What the `vllm serve` flags of a rendered command do, as far as the test server plays
them: which tool parser vLLM builds and which launches it refuses (vLLM 0.32.0)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

VLLM_TOOL_PARSERS = frozenset(
    {
        "apertus",
        "cohere_command3",
        "cohere_command4",
        "deepseek_v3",
        "deepseek_v31",
        "deepseek_v32",
        "deepseek_v4",
        "deepseek_v41",
        "dots",
        "ernie45",
        "functiongemma",
        "gemma4",
        "gigachat3",
        "glm45",
        "glm47",
        "granite",
        "granite-20b-fc",
        "granite4",
        "hermes",
        "hf",
        "hunyuan_a13b",
        "hy_v3",
        "hy_v4",
        "inkling",
        "internlm",
        "jamba",
        "k2_horizon",
        "kimi_k2",
        "kimi_k3",
        "lfm2",
        "ling3",
        "llama3_json",
        "llama4_json",
        "llama4_pythonic",
        "longcat",
        "mimo",
        "minicpm5",
        "minimax_m2",
        "minimax_m3",
        "mistral",
        "muse_glimmer",
        "olmo3",
        "openai",
        "phi4_mini_json",
        "plamo3",
        "poolside_v1",
        "pythonic",
        "qwen3_coder",
        "qwen3_json",
        "qwen3_xml",
        "seed_oss",
        "step3",
        "step3p5",
        "xlam",
    }
)
"""`--tool-call-parser` names vLLM 0.32.0 registers (vllm/tool_parsers/__init__.py:24-244)."""
TOOL_STRICT_LEVELS = ("auto", "function", "parameter")
"""vllm/tool_parsers/tool_strict_level.py:7."""
BOOLEAN_FLAGS = frozenset(
    {
        "--enable-auto-tool-choice",
        "--trust-remote-code",
        "--enable-prefix-caching",
        "--enforce-eager",
    }
)
"""Flags of the rendered commands that take no value."""


TOOL_CALL_FLAGS = ("--enable-auto-tool-choice", "--tool-call-parser", "--tool-strict-level")
"""The flags the stack renders for function calls (renderers/vllm.py)."""


def without_flags(command: Sequence[str], *flags: str) -> list[str]:
    """A command with some flags (and their values) taken out, e.g. to play a server
    started without the tool-call flags."""
    kept: list[str] = []
    rest = iter(command)
    for arg in rest:
        flag = arg.partition("=")[0]
        if flag not in flags:
            kept.append(arg)
        elif "=" not in arg and flag not in BOOLEAN_FLAGS:
            next(rest)
    return kept


class VllmLaunchError(RuntimeError):
    """`vllm serve` would exit at startup with this message."""


@dataclass(frozen=True)
class VllmFlags:
    """What a `vllm serve` command line asks for, as far as this fake plays it."""

    model: str
    served_name: str
    max_model_len: int | None
    pooling: bool
    enable_auto_tool_choice: bool = False
    tool_call_parser: str | None = None
    tool_strict_level: str = "auto"

    @classmethod
    def parse(cls, command: Sequence[str]) -> VllmFlags:
        """The flags of a container command (`MODEL --flag ...`, or `vllm serve MODEL ...`
        for images without the vLLM entrypoint), checked as vLLM checks them at launch."""
        args = list(command[2:] if list(command[:2]) == ["vllm", "serve"] else command)
        model, values, switches = args[0], {}, set()
        rest = iter(args[1:])
        for arg in rest:
            flag, equals, value = arg.partition("=")
            if equals:
                values[flag] = value
            elif flag in BOOLEAN_FLAGS:
                switches.add(flag)
            else:
                values[flag] = next(rest)
        flags = cls(
            model=model,
            served_name=values.get("--served-model-name", model),
            max_model_len=int(values["--max-model-len"]) if "--max-model-len" in values else None,
            pooling=values.get("--runner") == "pooling" or values.get("--task") == "embed",
            enable_auto_tool_choice="--enable-auto-tool-choice" in switches,
            tool_call_parser=values.get("--tool-call-parser"),
            tool_strict_level=values.get("--tool-strict-level", "auto"),
        )
        flags.check_launch()
        return flags

    def check_launch(self) -> None:
        """What `vllm serve` refuses before loading the model."""
        if self.enable_auto_tool_choice and not self.tool_call_parser:
            # entrypoints/launchers/cli_args.py:522-524
            raise VllmLaunchError("Error: --enable-auto-tool-choice requires --tool-call-parser")
        if self.tool_parser is not None and self.tool_parser not in VLLM_TOOL_PARSERS:
            # parser/parser_manager.py:49-55
            raise VllmLaunchError(
                f"Error: --enable-auto-tool-choice requires tool_parser:'{self.tool_parser}' "
                "which has not been registered"
            )
        if self.tool_strict_level not in TOOL_STRICT_LEVELS:
            # tool_parsers/tool_strict_level.py:24-32 (argparse choices, launchers/cli_args.py:131)
            raise VllmLaunchError(f"Unknown tool strict level {self.tool_strict_level!r}")

    @property
    def tool_parser(self) -> str | None:
        """The tool parser vLLM builds: none unless both flags are given
        (parser/parser_manager.py:36-37)."""
        return self.tool_call_parser if self.enable_auto_tool_choice else None
