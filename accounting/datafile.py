"""Reading a data file's JSON document, with errors that name the file.

Each ``load_*(path)`` of a versioned data file (factor sets, grading rules, benchmarks, alert
thresholds, holiday calendar, sector and resident tables) reads its document here, then
validates it with its own schema.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from accounting.schema_errors import DataFileError


def load_json_object(path: Path, error: type[DataFileError] = DataFileError) -> dict[str, Any]:
    """The JSON object in ``path`` (UTF-8).

    Raises
    ------
    DataFileError
        As ``error``: the file cannot be read (message names the path), is not valid JSON
        (names the file and the line) or its document is not an object.
    """
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise error(f"{path.name}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(content, dict):
        raise error(f"{path.name}: the document must be a JSON object")
    return content
