"""Decision reason codes as bits, so a million replayed decisions keep their reasons in one
``uint32`` array.

The eligibility (``E..``) and referral (``R..``) codes are those of :mod:`scoring.reasons`; a
backtest adds one of its own, ``B01``: the application's product code is not in the rule set
(a challenger catalog that drops a product declines its applications).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from scoring.reasons import REASON_CODES, ReasonKind

BACKTEST_CODES: dict[str, str] = {"B01": "product code not in the rule set"}
"""Reason codes only backtests use, with their meaning."""

ELIGIBILITY_CODES: tuple[str, ...] = (
    "B01",
    *sorted(c for c, (kind, _) in REASON_CODES.items() if kind is ReasonKind.ELIGIBILITY),
)
REFERRAL_CODES: tuple[str, ...] = tuple(
    sorted(c for c, (kind, _) in REASON_CODES.items() if kind is ReasonKind.REFERRAL)
)
CODES: tuple[str, ...] = (*ELIGIBILITY_CODES, *REFERRAL_CODES)
"""Every code a replay records, in bit order."""
BIT: dict[str, int] = {code: 1 << i for i, code in enumerate(CODES)}
"""The bit of each code."""
DECLINE_MASK = sum(BIT[code] for code in ELIGIBILITY_CODES)
REFER_MASK = sum(BIT[code] for code in REFERRAL_CODES)


def meaning(code: str) -> str:
    """Plain words for a code."""
    return BACKTEST_CODES.get(code) or REASON_CODES[code][1]


def codes_of(bits: int) -> tuple[str, ...]:
    """The codes set in one row's bits, in order."""
    return tuple(code for code in CODES if bits & BIT[code])


def reason_counts(bits: NDArray[np.uint32]) -> dict[str, int]:
    """How many rows carry each code (codes with no row left out), in code order."""
    counts: dict[str, int] = {}
    for code in CODES:
        count = int(np.count_nonzero(bits & np.uint32(BIT[code])))
        if count:
            counts[code] = count
    return counts
