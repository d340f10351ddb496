"""Data quality of an account: completeness, provisional flag and quality tier 1-5 (vectorised).

Completeness = received ÷ expected 15-minute intervals (96 a day per meter). Accounts built from
declared totals without meter data have completeness 1 by definition (nothing was expected).

Tier rule (thresholds are configuration, ``data_quality`` in the grading file; defaults [U]):

1. base tier: metered data by completeness, ≥ 0.99 → 1, ≥ 0.95 → 2, otherwise 3; declared
   totals without meters → 3 (PCAF-like: primary energy data is better than declared totals);
2. a grade is *provisional* when completeness < 0.90 (the national online-monitoring rule,
   domain.md §6);
3. lowering: completeness < 0.90 lowers the tier by 1 and < 0.75 by 2, capped at 5.

So metered ≥99% → 1, ≥95% → 2, ≥90% → 3, 75-90% → 4 (provisional), < 75% → 5 (provisional).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from numpy.typing import ArrayLike, NDArray

from accounting.vocab import QUALITY_TIERS

INTERVALS_PER_DAY = 96
"""15-minute intervals in a day."""

WORST_TIER = max(QUALITY_TIERS)


@dataclass(frozen=True)
class QualityConfig:
    """Data-quality thresholds (one section of the grading configuration)."""

    provisional_below: float = 0.9
    """A grade from completeness below this is provisional."""
    metered_tiers: tuple[tuple[float, int], ...] = ((0.99, 1), (0.95, 2), (0.0, 3))
    """(minimum completeness, tier) for metered data, best first; the last minimum is 0."""
    declared_tier: int = 3
    """Base tier of declared totals without meter data."""
    lower_by: tuple[tuple[float, int], ...] = ((0.9, 1), (0.75, 2))
    """(completeness below, tiers lowered); the largest applicable lowering is used."""
    source: str = ""


class QualityConfigSchema(Schema):
    """Validates the ``data_quality`` section; loads to a :class:`QualityConfig`."""

    provisional_below = fields.Float(required=True, validate=validate.Range(min=0, max=1))
    metered_tiers = fields.List(
        fields.Tuple((fields.Float(validate=validate.Range(min=0, max=1)), fields.Int())),
        required=True,
        validate=validate.Length(min=1),
    )
    declared_tier = fields.Int(required=True, validate=validate.OneOf(QUALITY_TIERS))
    lower_by = fields.List(
        fields.Tuple((fields.Float(validate=validate.Range(min=0, max=1)), fields.Int())),
        required=True,
    )
    source = fields.Str(required=True)

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        mins = [m for m, _ in data["metered_tiers"]]
        if mins != sorted(mins, reverse=True) or mins[-1] != 0.0:
            raise ValidationError("minimums must decrease and end at 0", "metered_tiers")
        if any(t not in QUALITY_TIERS for _, t in data["metered_tiers"]):
            raise ValidationError(f"tiers must be one of {QUALITY_TIERS}", "metered_tiers")
        if any(n < 0 for _, n in data["lower_by"]):
            raise ValidationError("lowering must not be negative", "lower_by")


def quality_config_from_data(data: dict[str, Any]) -> QualityConfig:
    """Build the config from data loaded by :class:`QualityConfigSchema`."""
    return QualityConfig(
        provisional_below=data["provisional_below"],
        metered_tiers=tuple((float(m), int(t)) for m, t in data["metered_tiers"]),
        declared_tier=data["declared_tier"],
        lower_by=tuple((float(c), int(n)) for c, n in data["lower_by"]),
        source=data["source"],
    )


def expected_intervals(days: ArrayLike, meters: ArrayLike) -> NDArray[np.int64]:
    """Expected 15-minute intervals: 96 × days × meters (elementwise)."""
    return np.asarray(days, dtype=np.int64) * INTERVALS_PER_DAY * np.asarray(meters, dtype=np.int64)


def completeness(received: ArrayLike, expected: ArrayLike) -> NDArray[np.float64]:
    """received ÷ expected, clipped to [0, 1]; 1 where nothing was expected (declared totals)."""
    rec = np.asarray(received, dtype=np.float64)
    exp = np.asarray(expected, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(exp > 0, rec / np.where(exp > 0, exp, 1.0), 1.0)
    return np.clip(ratio, 0.0, 1.0)


def is_provisional(completeness_ratio: ArrayLike, config: QualityConfig) -> NDArray[np.bool_]:
    """True where completeness is below ``config.provisional_below``."""
    return np.asarray(completeness_ratio, dtype=np.float64) < config.provisional_below


def quality_tier(
    completeness_ratio: ArrayLike, metered: ArrayLike, config: QualityConfig
) -> NDArray[np.int8]:
    """Quality tier 1 (best) to 5 per entity (see the module docstring for the rule).

    Parameters
    ----------
    completeness_ratio
        ``(n,)`` received ÷ expected intervals, 0-1.
    metered
        ``(n,)`` True where the totals come from meter data, False for declared totals.
    """
    c = np.atleast_1d(np.asarray(completeness_ratio, dtype=np.float64))
    m = np.broadcast_to(np.asarray(metered, dtype=bool), c.shape)
    mins = np.array([mn for mn, _ in config.metered_tiers])
    tiers = np.array([t for _, t in config.metered_tiers], dtype=np.int64)
    base = np.where(m, tiers[(c[:, None] < mins[None, :]).sum(axis=1)], config.declared_tier)
    if config.lower_by:
        below = np.array([b for b, _ in config.lower_by])
        steps = np.array([n for _, n in config.lower_by], dtype=np.int64)
        lowering = np.where(c[:, None] < below[None, :], steps[None, :], 0).max(axis=1)
    else:
        lowering = np.zeros_like(base)
    tier: NDArray[np.int8] = np.minimum(base + lowering, WORST_TIER).astype(np.int8)
    return tier
