"""The pinned Pulumi CLI's command line, checked without the CLI: which subcommands exist,
which flags each takes (its own, its parents' persistent ones, the global ones), which of
them take a value, and how many positional arguments it accepts.

The table is docs/reference/pulumi-cli-<version>.json, read from the CLI's cobra
definitions (pulumi/pulumi at the release tag, file:line per flag). Parsing follows
spf13/pflag: `--flag value` or `--flag=value` for flags that take a value, `-s value` for
shorthands, bool flags take none, `--` ends the flags.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
PINNED_VERSION = "3.259.0"
TABLE = ROOT / "docs" / "reference" / f"pulumi-cli-{PINNED_VERSION}.json"

REDIRECTION = re.compile(r"(?<![\w'\"])\d*(?:>>?|<)&?\s*[^\s;&|]+")
"""`2>&1`, `> file`, `< file`: not arguments of the command they follow."""
SEPARATORS = {"&&", "||", ";", "|", "&"}


@dataclass(frozen=True)
class Flag:
    name: str
    short: str | None
    value: bool | str
    """True: takes a value; False: a bool flag; "optional": only as --flag=value."""
    persistent: bool


@dataclass(frozen=True)
class Command:
    path: str
    """e.g. "stack new"."""
    aliases: tuple[str, ...]
    args: tuple[str, ...]
    required_args: int
    flags: dict[str, Flag]


@cache
def table() -> dict[str, Any]:
    return json.loads(TABLE.read_text())


def _flags(entries: dict[str, Any]) -> dict[str, Flag]:
    return {
        name: Flag(name, entry["short"], entry["value"], entry["persistent"])
        for name, entry in entries.items()
    }


@cache
def commands() -> dict[str, Command]:
    return {
        path: Command(
            path,
            tuple(entry["aliases"]),
            tuple(entry["args"]),
            entry["required_args"],
            _flags(entry["flags"]),
        )
        for path, entry in table()["commands"].items()
    }


def _children(parent: str) -> dict[str, Command]:
    """The subcommands of a command ("" for the top level) by name and alias."""
    children = {}
    for command in commands().values():
        head, _, last = command.path.rpartition(" ")
        if head == parent:
            children |= dict.fromkeys((last, *command.aliases), command)
    return children


def _resolve(words: list[str]) -> tuple[Command | None, list[str]]:
    """The command named by the words (flags may come before subcommands, as cobra's
    `Find` allows) and the words left for it: its flags and arguments."""
    found: Command | None = None
    rest: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word == "--":
            rest += words[index - 1 :]
            break
        if word.startswith("-"):
            rest.append(word)
            flag = _lookup(word, _allowed_flags(found))
            if (
                flag is not None
                and flag.value is True
                and _value_follows(word)
                and index < len(words)
            ):
                rest.append(words[index])
                index += 1
            continue
        child = _children(found.path if found else "").get(word)
        if child is None:
            rest += words[index - 1 :]
            break
        found = child
    return found, rest


def _lookup(word: str, allowed: dict[str, Flag]) -> Flag | None:
    if word.startswith("--"):
        return allowed.get(word.partition("=")[0])
    return next((flag for flag in allowed.values() if flag.short == word[:2]), None)


def _value_follows(word: str) -> bool:
    """`--flag value` and `-s value`, not `--flag=value` or `-svalue`."""
    return "=" not in word if word.startswith("--") else len(word) == 2


def _allowed_flags(command: Command | None) -> dict[str, Flag]:
    """The command's flags, its ancestors' persistent flags and the global flags."""
    allowed = dict(_flags(table()["global_flags"]))
    if command is None:
        return allowed
    parts = command.path.split(" ")
    for depth in range(1, len(parts)):
        ancestor = commands().get(" ".join(parts[:depth]))
        if ancestor:
            allowed |= {name: f for name, f in ancestor.flags.items() if f.persistent}
    return allowed | command.flags


def check(argv: list[str]) -> list[str]:
    """Problems with one `pulumi ...` command line under the pinned CLI ([] when valid)."""
    if argv[:1] != ["pulumi"]:
        return [f"not a pulumi command: {shlex.join(argv)}"]
    command, words = _resolve(argv[1:])
    if command is None:
        return [f"unknown command: {shlex.join(argv)}"]
    allowed = _allowed_flags(command)
    problems, positional = [], []
    while words:
        word = words.pop(0)
        if word == "--":
            positional += words
            break
        if not word.startswith("-") or word == "-":
            positional.append(word)
            continue
        flag = _lookup(word, allowed)
        if flag is None:
            problems.append(f"pulumi {command.path}: unknown flag {word.partition('=')[0]}")
        elif flag.value is True and _value_follows(word):
            if not words:
                problems.append(f"pulumi {command.path}: {flag.name} needs a value")
            else:
                words.pop(0)
    if len(positional) > len(command.args):
        problems.append(
            f"pulumi {command.path}: takes at most {len(command.args)} argument(s) "
            f"({', '.join(command.args) or 'none'}), got {positional}"
        )
    elif len(positional) < command.required_args:
        problems.append(f"pulumi {command.path}: needs {command.required_args} argument(s)")
    return problems


def shell_commands(script: str) -> list[list[str]]:
    """Every simple command in a shell snippet, as argv lists: continuation lines joined,
    comments and redirections dropped, split at `&&`, `||`, `;`, `|`."""
    found = []
    for line in script.replace("\\\n", " ").splitlines():
        line = REDIRECTION.sub(" ", _without_comment(line))
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split, lexer.commenters = True, ""
        current: list[str] = []
        for token in lexer:
            if token in SEPARATORS:
                found.append(current)
                current = []
            else:
                current.append(token)
        found.append(current)
    return [argv for argv in found if argv]


def _without_comment(line: str) -> str:
    """The line up to a shell comment: a `#` that starts a word outside quotes."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index]
    return line


def pulumi_commands(script: str) -> list[list[str]]:
    return [argv for argv in shell_commands(script) if argv[0] == "pulumi"]


def shell_blocks(markdown: str) -> list[str]:
    """The fenced ```sh blocks of a Markdown document."""
    return re.findall(r"^```sh\n(.*?)^```", markdown, flags=re.MULTILINE | re.DOTALL)
