"""Turn marshmallow's nested error messages into one line that names each field.

Data files (factor sets, grading configurations, benchmark sets) and calculator documents are
validated with marshmallow; every error a user sees names the file (or document) and the field
path, e.g. ``fuels.raw_coal.ncv: Not a valid number.`` or ``energy[2].unit: ...``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DataFileError(ValueError):
    """A data file or document failed validation; the message names the source and the field."""


def flatten_messages(messages: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Flatten marshmallow ``ValidationError.messages`` into ``(field_path, message)`` pairs.

    List indices render as ``[i]``; the ``value`` level marshmallow inserts under a ``Dict``
    field's key is elided, so a bad grid factor reads ``grid.east_china.value`` rather than
    ``grid.east_china.value.value``.

    Parameters
    ----------
    messages
        ``ValidationError.messages``: a dict, list or string.
    prefix
        The path of ``messages`` inside the document.

    Returns
    -------
    list of tuple of (str, str)
        Field path (``"_schema"`` for whole-document errors) and message, in document order.
    """
    if isinstance(messages, str):
        return [(prefix or "_schema", messages)]
    if isinstance(messages, list):
        out: list[tuple[str, str]] = []
        for item in messages:
            out.extend(flatten_messages(item, prefix))
        return out
    if isinstance(messages, Mapping):
        return _flatten_mapping(messages, prefix)
    return [(prefix or "_schema", str(messages))]


def _flatten_mapping(messages: Mapping[Any, Any], prefix: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, child in messages.items():
        if isinstance(key, int):
            path = f"{prefix}[{key}]"
        elif key == "value" and isinstance(child, Mapping) and prefix:
            path = prefix  # marshmallow's Dict wrapper around a nested schema's errors
        elif key == "_schema":
            path = prefix or "_schema"
        else:
            path = f"{prefix}.{key}" if prefix else str(key)
        out.extend(flatten_messages(child, path))
    return out


def one_line(messages: Any, source: str = "") -> str:
    """Render ``messages`` as one line: ``source: path: message; path: message``."""
    parts = [f"{path}: {message}" for path, message in flatten_messages(messages)]
    text = "; ".join(parts)
    return f"{source}: {text}" if source else text
