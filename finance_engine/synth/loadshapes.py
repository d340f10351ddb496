"""15-minute load shapes of the synthetic city, generated as dense ``(meters, days, 96)`` arrays.

A consumption meter's interval quantity is

    level[d] × (base + (1 − base) × activity[d] × shape[s]) × season[d] × day_noise[d] × (1 + σ·ε)

where ``shape`` is the pattern's working-hours profile (shifted by the firm's start offset),
``activity`` depends on the day type (workday / Saturday / Sunday or holiday) and the Spring
Festival closure, ``season`` adds summer cooling and winter heating, and the noise is Gaussian.
PV meters follow the sun (day length by season) times the firm's daily weather. Each meter is then
scaled so that its yearly total equals its intended total exactly.

Arrays are generated in fixed blocks of :data:`BLOCK` meters, each with its own random stream
``(seed, block)``, so any subset or chunking of meters gives identical values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from finance_engine.synth.calendar import YearCalendar

BLOCK = 64
"""Meters generated together with one random stream."""
SLOTS = 96
ONE_SHIFT, TWO_SHIFT, THREE_SHIFT, SOLAR, STATION = 0, 1, 2, 3, 4
"""Load patterns: 1/2/3 shifts, PV generation, solar-farm station service (night-heavy)."""

_BASE = np.array([0.12, 0.20, 0.85, 0.0, 0.30])
"""Share of the working load that runs around the clock, by pattern."""
_ACTIVITY = np.array(
    [[1.0, 0.30, 0.05], [1.0, 0.70, 0.30], [1.0, 0.97, 0.95], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
)
"""Working activity by pattern and day type (workday, Saturday, Sunday/holiday)."""
_FESTIVAL_DEPTH = np.array([1.0, 0.95, 0.40, 0.0, 0.0])
"""How far activity falls at the depth of the Spring Festival closure, by pattern."""
_FESTIVAL_LEVEL = np.array([0.40, 0.30, 0.10, 0.0, 0.0])
"""How far the around-the-clock base falls then, by pattern."""


def _smooth_step(slot: NDArray[np.float64], at: float, width: float = 2.0) -> NDArray[np.float64]:
    out: NDArray[np.float64] = 1.0 / (1.0 + np.exp(-(slot - at) / width))
    return out


def _templates() -> NDArray[np.float64]:
    """``(patterns, 96)`` working-hours profiles in 0-1."""
    s = np.arange(SLOTS, dtype=np.float64) + 0.5
    one = _smooth_step(s, 32) - _smooth_step(s, 70)  # 08:00-17:30
    one = one - 0.4 * (_smooth_step(s, 48, 1.0) - _smooth_step(s, 52, 1.0))  # lunch
    two = _smooth_step(s, 24) - _smooth_step(s, 88)  # 06:00-22:00
    two = two - 0.15 * (_smooth_step(s, 55, 1.0) - _smooth_step(s, 58, 1.0))  # shift change
    change = np.minimum.reduce([np.abs(s - c) for c in (0.0, 32.0, 64.0, 96.0)])
    three = 1.0 - 0.2 * np.exp(-((change / 1.5) ** 2))
    night = 1.0 - (_smooth_step(s, 26) - _smooth_step(s, 74))
    return np.stack([one, two, three, np.zeros(SLOTS), night])


TEMPLATES = _templates()


@dataclass(frozen=True, eq=False)
class MeterModel:
    """Per-meter load-shape parameters, as columns (index = city meter index).

    Attributes
    ----------
    pattern:
        ``(meters,)`` int8 load pattern (``ONE_SHIFT`` ... ``STATION``).
    offset:
        ``(meters,)`` int8 shift of the working hours, slots (firm's start time).
    summer, winter:
        ``(meters,)`` seasonal amplitudes (fraction added at the height of the season).
    sigma:
        ``(meters,)`` interval noise, fraction.
    annual:
        ``(meters,)`` intended yearly total, native unit.
    weather_row:
        ``(meters,)`` row of the weather table for PV meters, −1 otherwise.
    """

    pattern: NDArray[np.int8]
    offset: NDArray[np.int8]
    summer: NDArray[np.float64]
    winter: NDArray[np.float64]
    sigma: NDArray[np.float64]
    annual: NDArray[np.float64]
    weather_row: NDArray[np.int64]


def generate_block(
    model: MeterModel,
    block: int,
    calendar: YearCalendar,
    weather: NDArray[np.float32],
    seed: int,
) -> NDArray[np.float32]:
    """Clean interval quantities of the meters of ``block``: ``(meters, days, 96)`` float32.

    Parameters
    ----------
    model:
        Parameters of all meters.
    block:
        Block number; meters ``block·BLOCK`` up to the next block.
    calendar:
        The year (day types, Spring Festival, seasons).
    weather:
        ``(PV firms, days)`` daily clear-sky fraction of each PV firm.
    seed:
        The city's seed.
    """
    lo, hi = block * BLOCK, min((block + 1) * BLOCK, model.pattern.size)
    rng = np.random.default_rng([seed, 0x5EED, block])
    pattern = model.pattern[lo:hi].astype(np.int64)
    days = calendar.days
    eps = rng.standard_normal((hi - lo, days, SLOTS), dtype=np.float32)
    day_noise = 1.0 + 0.04 * rng.standard_normal((hi - lo, days))
    slots = (np.arange(SLOTS)[None, :] - model.offset[lo:hi, None]) % SLOTS
    shape = TEMPLATES[pattern[:, None], slots]  # (meters, 96)
    festival = calendar.festival[None, :]
    activity = _ACTIVITY[pattern[:, None], calendar.day_type[None, :]]
    activity = activity * (1.0 - _FESTIVAL_DEPTH[pattern, None] * festival)
    level = 1.0 - _FESTIVAL_LEVEL[pattern, None] * festival
    season = (
        1.0
        + model.summer[lo:hi, None] * calendar.summer
        + model.winter[lo:hi, None] * calendar.winter
    )
    base = _BASE[pattern, None, None]
    daily = (level * season * day_noise).astype(np.float32)[:, :, None]
    values = daily * (base + (1.0 - base) * activity[:, :, None] * shape[:, None, :]).astype(
        np.float32
    )
    solar = pattern == SOLAR
    if solar.any():
        rows = model.weather_row[lo:hi][solar]
        values[solar] = _sun(calendar)[None] * weather[rows][:, :, None]
    values *= 1.0 + model.sigma[lo:hi, None, None].astype(np.float32) * eps
    np.maximum(values, 0.0, out=values)
    totals = values.sum(axis=(1, 2), dtype=np.float64)
    scale = np.where(totals > 0, model.annual[lo:hi] / np.where(totals > 0, totals, 1.0), 0.0)
    values *= scale.astype(np.float32)[:, None, None]
    out: NDArray[np.float32] = values
    return out


def _sun(calendar: YearCalendar) -> NDArray[np.float32]:
    """``(days, 96)`` clear-sky PV output in 0-1 (Quzhou, about 29°N: 10.3-14 h of daylight)."""
    doy = np.arange(calendar.days, dtype=np.float64)
    half_day_h = 6.07 + 0.93 * np.cos(2 * np.pi * (doy - 172.0) / 365.25)
    hours = (np.arange(SLOTS) + 0.5) / 4.0
    x = (hours[None, :] - 12.1) / half_day_h[:, None]
    strength = 0.8 + 0.2 * np.cos(2 * np.pi * (doy - 172.0) / 365.25)
    sun = np.where(np.abs(x) < 1.0, np.cos(0.5 * np.pi * np.clip(x, -1, 1)) ** 1.5, 0.0)
    out: NDArray[np.float32] = (sun * strength[:, None]).astype(np.float32)
    return out
