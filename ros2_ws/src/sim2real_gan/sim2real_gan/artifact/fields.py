"""Typed reads of ``model.json`` fields: each failure is one :class:`ArtifactError` line.

Every message has the form ``<where>: <field>: expected <what>, found <value>`` so a user
sees which field of which file is wrong, what would be right and what is there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


class ArtifactError(ValueError):
    """A model artifact is missing, corrupt, or does not match what the caller expects."""


class ArtifactFileMissing(ArtifactError, FileNotFoundError):
    """A file the artifact needs (or names in model.json) does not exist."""


def show(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters (messages stay one short line)."""
    text = repr(value)
    if isinstance(value, (dict, list, tuple)) and not isinstance(value, str):
        text = f"{type(value).__name__} {text}"
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def fail(where: str, field: str, expected: str, found: Any, literal: bool = False) -> ArtifactError:
    """The error for ``field``: ``where: field: expected ..., found ...``; ``found`` is
    shown with ``repr`` (cut short) unless ``literal`` (then it is descriptive text)."""
    shown = str(found) if literal else show(found)
    return ArtifactError(f"{where}: {field}: expected {expected}, found {shown}")


def get(doc: Mapping[str, Any], key: str, where: str, field: str | None = None) -> Any:
    """``doc[key]``, or an error naming the missing field."""
    if key not in doc:
        raise ArtifactError(f"{where}: {field or key}: missing")
    return doc[key]


def as_object(value: Any, where: str, field: str) -> dict[str, Any]:
    """A JSON object (dict)."""
    if not isinstance(value, dict):
        raise fail(where, field, "a JSON object", value)
    return value


def as_list(value: Any, where: str, field: str) -> list[Any]:
    """A JSON array (list)."""
    if not isinstance(value, list):
        raise fail(where, field, "a JSON array", value)
    return value


def as_str(value: Any, where: str, field: str, allow_empty: bool = False) -> str:
    """A string (non-empty unless ``allow_empty``)."""
    if not isinstance(value, str) or (not value and not allow_empty):
        raise fail(where, field, "a non-empty string" if not allow_empty else "a string", value)
    return value


def as_bool(value: Any, where: str, field: str) -> bool:
    """true or false."""
    if not isinstance(value, bool):
        raise fail(where, field, "true or false", value)
    return value


def as_int(value: Any, where: str, field: str, low: int, high: int) -> int:
    """An integer in ``[low, high]`` (JSON numbers like 8.0 are accepted; bools are not)."""
    ok = isinstance(value, int) and not isinstance(value, bool)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value, ok = int(value), True
    if not ok or not low <= value <= high:
        raise fail(where, field, f"an integer in [{low}, {high}]", value)
    return int(value)


def as_number(value: Any, where: str, field: str) -> float:
    """A finite number."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value):
        raise fail(where, field, "a finite number", value)
    return float(value)
