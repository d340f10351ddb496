"""Reading and validating the scoring layer's JSON documents (decision rules, rule patches).

Numbers are read as ``Decimal`` (or ``int``) so thresholds and rates keep their written digits;
every error names the document (``where``) and, for schema errors, every bad field.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from marshmallow import Schema, ValidationError

from accounting.schema_errors import flatten_messages


def read_json(path: Path | str, error: type[ValueError]) -> Any:
    """The JSON document in ``path`` (UTF-8), numbers as ``Decimal``/``int``.

    Raises
    ------
    ValueError
        As ``error``, naming the path: the file cannot be read or is not JSON.
    """
    where = str(path)
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"), parse_float=Decimal)
    except OSError as exc:
        raise error(f"{where}: cannot read ({exc.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{where}: invalid JSON ({exc})") from None


def load_object(schema: Schema, data: Any, where: str, error: type[ValueError]) -> dict[str, Any]:
    """``data`` loaded with ``schema``; it must be a JSON object.

    Raises
    ------
    ValueError
        As ``error``, naming ``where`` and every bad field.
    """
    if not isinstance(data, dict):
        raise error(f"{where}: must hold a JSON object")
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ValidationError as exc:
        problems = "; ".join(f"{f}: {m}" for f, m in flatten_messages(exc.messages))
        raise error(f"{where}: {problems}") from None
    return loaded
