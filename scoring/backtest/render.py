"""A backtest summary as canonical JSON text: the same summary always gives the same bytes.

Money (``Decimal`` yuan) is written as text with its two decimals (``"1234.50"``), so no amount
passes through a binary float; NaN and infinities become ``null``; numpy scalars become plain
numbers; keys keep the summary's (deterministic) order.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np


def jsonable(value: Any) -> Any:
    """``value`` with every Decimal as text and every number a finite Python number or None."""
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, date):
        return value.isoformat()
    return value


def summary_json(summary: Mapping[str, Any]) -> str:
    """The summary as indented UTF-8 JSON text ending with a newline."""
    return json.dumps(jsonable(summary), ensure_ascii=False, indent=2, allow_nan=False) + "\n"
