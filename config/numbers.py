"""Numbers written as text, read the way Pulumi's own config getters read them.

`pulumi config set --path 'metis-llm:chat.gpu_memory_utilization' 0.9` stores the string
"0.9": with `--path` the CLI turns only `true`/`false` and integers into typed values
(docs/reference/pulumi-cli-and-ci.md). `pulumi.Config.get_float` and `get_int` accept such
strings with Python's `float()` and `int()`; the schema does the same for its numeric
fields, and nothing else: a word, a bool or a list in a numeric field is still refused.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable, Mapping
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, model_validator
from pydantic.fields import FieldInfo


def numbers_from_text(fields: Mapping[str, FieldInfo], data: Any) -> Any:
    """`data` with each string in an int or float field read as that number, when `int()` /
    `float()` read it and the result is finite. Anything else is left for the schema to
    judge (and to report with the key, the value and the fix)."""
    if not isinstance(data, dict):
        return data
    converted = dict(data)
    for name, field in fields.items():
        value = data.get(name)
        read = _reader(field.annotation)
        if isinstance(value, str) and read is not None:
            number = _read(read, value)
            if number is not None:
                converted[name] = number
    return converted


def _reader(annotation: Any) -> Callable[[str], int | float] | None:
    """`int` or `float` for a field of that type (optional or not), else None."""
    if annotation is int or annotation is float:
        return annotation
    if get_origin(annotation) in (Union, types.UnionType):
        readers = {_reader(arg) for arg in get_args(annotation) if arg is not type(None)}
        return readers.pop() if len(readers) == 1 else None
    return None


def _read(read: Callable[[str], int | float], text: str) -> int | float | None:
    try:
        number = read(text)
    except ValueError:  # not a number, or an int too long to convert
        return None
    return number if math.isfinite(number) else None


class NumbersFromText(BaseModel):
    """Base of the config models: numeric fields also take numbers written as text."""

    @model_validator(mode="before")
    @classmethod
    def _numbers_given_as_text(cls, data: Any) -> Any:
        return numbers_from_text(cls.model_fields, data)
