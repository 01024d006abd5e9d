"""A stand-in for how `vllm serve` (vLLM 0.32.0) reads its command line: which option each
argument sets, without vLLM (which needs torch and a GPU).

Plays two parts of the real parser, each from its source in the vLLM 0.32.0 wheel:
- FlexibleArgumentParser.parse_args's rewriting before argparse sees the arguments
  (vllm/utils/argparse_utils.py:337-371: `_` to `-` in option names up to the first `.`,
  around `=`; `-O<level>` to `--optimization-level`; lines 409-463: `--opt.key value` folded
  into `--opt`);
- argparse itself, as vLLM builds it: every option of `vllm serve` (listed in
  vllm_0_32_0_serve_options.txt) on a parser with argparse's defaults, `allow_abbrev` on, so
  unambiguous prefixes select an option (vllm/entrypoints/cli/main.py:91 and
  entrypoints/cli/serve.py:164 pass no allow_abbrev), and argparse's `-h/--help` (here an
  option like the others: the real one prints the help and exits).
Argparse here is this interpreter's (3.11); the vLLM image runs Python 3.12, whose argparse
matches prefixes the same way for these options.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

OPTIONS_FILE = Path(__file__).with_name("vllm_0_32_0_serve_options.txt")


class AmbiguousOptionError(Exception):
    """argparse stopped: the argument could be several options."""

    def __init__(self, candidates: list[str]) -> None:
        super().__init__(", ".join(candidates))
        self.candidates = candidates


def serve_options() -> list[tuple[str, ...]]:
    """Each option of `vllm serve` with its other names (the long name first)."""
    lines = OPTIONS_FILE.read_text().splitlines()
    return [tuple(line.split()) for line in lines if line and not line.startswith("#")]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        if match := re.search(r"ambiguous option: \S+ could match (.*)$", message):
            raise AmbiguousOptionError([name.strip() for name in match[1].split(",")])
        raise AssertionError(f"argparse stopped on something else: {message}")


def _parser() -> _Parser:
    parser = _Parser(prog="vllm serve", add_help=False)
    parser.add_argument("model_tag", nargs="?")
    parser.add_argument("--help", "-h", dest="--help", nargs="?", const="", default=None)
    for names in serve_options():
        parser.add_argument(*names, dest=names[0], nargs="?", const="", default=None)
    return parser


PARSER = _parser()


def rewrite(arg: str) -> str:
    """One argument as FlexibleArgumentParser hands it to argparse (argparse_utils.py:342-371,
    and the `.key` folding of lines 425-454 for the option's name)."""
    if arg.startswith("--"):
        key, equals, value = arg.partition("=")
        key = re.sub(r"(?<=--)[^\.]*", lambda m: m.group(0).replace("_", "-"), key, count=1)
        if "." in key:
            key = key.split(".", 1)[0]
        return f"{key}{equals}{value}"
    if arg.startswith("-O") and arg != "-O":
        return "--optimization-level"
    return arg


def options_set(arg: str) -> list[str]:
    """The options (by long name) an argument sets, as `vllm serve MODEL <arg> value` reads
    it: none for a value or an unknown option; raises AmbiguousOptionError where argparse stops."""
    parsed, _ = PARSER.parse_known_args(["model", rewrite(arg), "value"])
    return [
        name for name, value in vars(parsed).items() if name != "model_tag" and value is not None
    ]
