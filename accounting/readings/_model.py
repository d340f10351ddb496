"""Types of the reading pipeline: meters, raw readings, flags, rejections, validated batches."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntFlag, StrEnum
from typing import Any, Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from accounting.energy import ACCEPTED_UNITS, EnergyType

SLOT_S: Final = 900
"""Length of one interval, seconds."""
MAX_TIMESTAMP_S: Final = 7_258_118_400
"""2200-01-01T00:00:00Z: timestamps at or after it (or before 1970) are rejected."""
SLOT_BITS: Final = 24
"""Slots up to 2200 fit in 24 bits: a (meter, interval) key is ``meter << SLOT_BITS | slot``."""


class ReadingFlag(IntFlag):
    """Bit flags stored with each accepted reading (``reading_day.flags``)."""

    NONE = 0
    SNAPPED = 1
    """The timestamp was moved to the 15-minute grid (it was within the snap tolerance)."""
    SPANS_GAP = 2
    """A counter difference over several intervals, kept whole at the later interval."""
    COUNTER_RESET = 4
    """The counter dropped on a meter without a rollover value: treated as restarted at zero."""
    COUNTER_ROLLOVER = 8
    """The counter wrapped at the meter's rollover value."""
    ANCHOR = 16
    """A first counter reading without a predecessor: quantity 0, not a received interval."""
    UNIT_CONVERTED = 32
    """The row's unit differed from the meter's and the quantity was converted."""


Flag = ReadingFlag
"""Short alias of :class:`ReadingFlag`."""

COUNTER_FLAGS: Final = (
    ReadingFlag.SPANS_GAP
    | ReadingFlag.COUNTER_ROLLOVER
    | ReadingFlag.COUNTER_RESET
    | ReadingFlag.ANCHOR
)
"""The flags derived from differencing counters (recomputed when a stored reading is revised)."""


class ReadingKind(StrEnum):
    """How a meter reports."""

    INTERVAL = "interval"
    """Consumption per 15-minute interval, timestamped at the interval start."""
    CUMULATIVE = "cumulative"
    """A running counter, timestamped when read (the end of the interval it closes)."""


@dataclass(frozen=True)
class MeterSpec:
    """What validation needs to know about a meter.

    Attributes
    ----------
    code:
        The meter's code as it appears in reading files.
    energy_type:
        What it measures (:class:`accounting.energy.EnergyType`).
    unit:
        The unit quantities are stored in (one of the type's accepted units).
    reading_kind:
        ``interval`` or ``cumulative``.
    rated_max_per_interval:
        The most the meter can register in 15 minutes, in ``unit``; ``None`` for no check.
    counter_rollover:
        For cumulative meters, the value at which the counter wraps to zero; ``None`` when the
        counter never wraps (a drop is then a reset).
    """

    code: str
    energy_type: EnergyType
    unit: str
    reading_kind: ReadingKind = ReadingKind.INTERVAL
    rated_max_per_interval: float | None = None
    counter_rollover: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "energy_type", EnergyType(self.energy_type))
        object.__setattr__(self, "reading_kind", ReadingKind(self.reading_kind))
        if not self.code:
            raise ValueError("meter code: must not be empty")
        if self.unit not in ACCEPTED_UNITS[self.energy_type]:
            allowed = ", ".join(sorted(ACCEPTED_UNITS[self.energy_type]))
            raise ValueError(
                f"meter {self.code}: unit {self.unit!r} is not valid for "
                f"{self.energy_type.value}; use one of {allowed}"
            )
        for name in ("rated_max_per_interval", "counter_rollover"):
            value = getattr(self, name)
            if value is not None and not (np.isfinite(value) and value > 0):
                raise ValueError(f"meter {self.code}: {name} must be a positive number")


def _as(a: ArrayLike, dtype: type[np.generic]) -> NDArray[Any]:
    return np.ascontiguousarray(a, dtype=dtype)


@dataclass(frozen=True, eq=False)
class RawReadings:
    """Raw readings as columns, timestamps already parsed. Meter codes and units are
    dictionary-encoded so that millions of rows cost no Python strings.

    Attributes
    ----------
    row:
        ``(n,)`` int64, the source row number of each reading (used in rejections).
    meter_ref:
        ``(n,)`` int32, index into ``meter_codes``; -1 when the row names no meter.
    meter_codes:
        The distinct meter codes.
    timestamp_s:
        ``(n,)`` int64, epoch seconds UTC.
    quantity:
        ``(n,)`` float64: consumption in the interval (interval meters) or the counter
        (cumulative meters), in the row's unit.
    unit_ref:
        ``(n,)`` int32 index into ``units`` (-1: no unit given, the meter's unit applies), or
        ``None`` when no row gives a unit.
    units:
        The distinct units.
    """

    row: NDArray[np.int64]
    meter_ref: NDArray[np.int32]
    meter_codes: tuple[str, ...]
    timestamp_s: NDArray[np.int64]
    quantity: NDArray[np.float64]
    unit_ref: NDArray[np.int32] | None = None
    units: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name, dtype in (("row", np.int64), ("meter_ref", np.int32)):
            object.__setattr__(self, name, _as(getattr(self, name), dtype))
        object.__setattr__(self, "timestamp_s", _as(self.timestamp_s, np.int64))
        object.__setattr__(self, "quantity", _as(self.quantity, np.float64))
        if self.unit_ref is not None:
            object.__setattr__(self, "unit_ref", _as(self.unit_ref, np.int32))
        n = len(self.row)
        columns: list[NDArray[Any]] = [self.meter_ref, self.timestamp_s, self.quantity]
        if self.unit_ref is not None:
            columns.append(self.unit_ref)
        if any(c.shape != (n,) for c in columns):
            raise ValueError("RawReadings: every column must be one-dimensional of equal length")

    def __len__(self) -> int:
        return len(self.row)

    @classmethod
    def from_codes(
        cls,
        meter: Sequence[str] | NDArray[Any],
        timestamp_s: ArrayLike,
        quantity: ArrayLike,
        *,
        unit: Sequence[str | None] | None = None,
        row: ArrayLike | None = None,
    ) -> RawReadings:
        """Build from one meter code (and optionally unit) per row; rows numbered from 1."""
        codes, meter_ref = np.unique(np.asarray(meter, dtype=str), return_inverse=True)
        n = len(meter_ref)
        unit_ref: NDArray[np.int32] | None = None
        units: tuple[str, ...] = ()
        if unit is not None:
            texts = np.asarray(["" if u is None else u for u in unit], dtype=str)
            distinct, inverse = np.unique(texts, return_inverse=True)
            unit_ref = np.where(texts == "", -1, inverse).astype(np.int32)
            units = tuple(str(u) for u in distinct)
        return cls(
            row=np.arange(1, n + 1) if row is None else np.asarray(row),
            meter_ref=meter_ref.astype(np.int32),
            meter_codes=tuple(str(c) for c in codes),
            timestamp_s=np.asarray(timestamp_s),
            quantity=np.asarray(quantity),
            unit_ref=unit_ref,
            units=units,
        )

    def take(self, index: NDArray[np.intp]) -> RawReadings:
        """The readings at ``index`` (same dictionaries)."""
        return RawReadings(
            row=self.row[index],
            meter_ref=self.meter_ref[index],
            meter_codes=self.meter_codes,
            timestamp_s=self.timestamp_s[index],
            quantity=self.quantity[index],
            unit_ref=None if self.unit_ref is None else self.unit_ref[index],
            units=self.units,
        )


@dataclass(frozen=True, order=True)
class Rejection:
    """A rejected row: its number, the field at fault and why."""

    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.field}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        """``{"row", "field", "reason"}``."""
        return {"row": self.row, "field": self.field, "reason": self.reason}


@dataclass(frozen=True)
class Gap:
    """A run of missing intervals of one meter, ``[start_s, end_s)`` epoch seconds UTC."""

    meter: str
    start_s: int
    end_s: int

    @property
    def intervals(self) -> int:
        """How many 15-minute intervals are missing."""
        return (self.end_s - self.start_s) // SLOT_S

    def to_dict(self) -> dict[str, Any]:
        """``{"meter", "start_s", "end_s", "intervals"}``."""
        return {
            "meter": self.meter,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "intervals": self.intervals,
        }


@dataclass(frozen=True, eq=False)
class CounterHistory:
    """Stored readings of cumulative meters around a batch (columns, any order).

    For each cumulative meter in the batch: the last stored reading before the batch's first
    interval, every stored reading within the batch's span, and the first one after it.

    Attributes
    ----------
    meter_index:
        ``(h,)`` int32, index into the ``meters`` given to :func:`validate_readings`.
    interval_start_s:
        ``(h,)`` int64, epoch seconds UTC.
    counter_value:
        ``(h,)`` float64, counter at the interval end, meter unit.
    quantity:
        ``(h,)`` float64, stored interval consumption, meter unit.
    flags:
        ``(h,)`` int16, stored :class:`ReadingFlag` bits.
    """

    meter_index: NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, np.int32))
    interval_start_s: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    counter_value: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    quantity: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    flags: NDArray[np.int16] = field(default_factory=lambda: np.zeros(0, np.int16))

    @classmethod
    def from_previous(
        cls, previous: Mapping[str, tuple[int, float]], meters: Sequence[MeterSpec]
    ) -> CounterHistory:
        """History made of each meter's last stored ``(interval_start_s, counter_value)``."""
        index = {m.code: i for i, m in enumerate(meters)}
        items = [(index[code], t, c) for code, (t, c) in previous.items() if code in index]
        return cls(
            meter_index=np.array([i for i, _, _ in items], dtype=np.int32),
            interval_start_s=np.array([t for _, t, _ in items], dtype=np.int64),
            counter_value=np.array([c for _, _, c in items], dtype=np.float64),
            quantity=np.zeros(len(items)),
            flags=np.zeros(len(items), dtype=np.int16),
        )


@dataclass(frozen=True, eq=False)
class ValidatedBatch:
    """The outcome of :func:`validate_readings`.

    Accepted readings are columns sorted by (meter, interval): ``row`` (source row, int64),
    ``meter_index`` (int32, into ``meters``), ``interval_start_s`` (int64, epoch seconds UTC),
    ``quantity`` (float64, consumption in the interval, meter unit), ``counter_value``
    (float64, NaN for interval meters) and ``flags`` (int16, :class:`ReadingFlag`).
    ``revisions`` are stored counter readings whose quantity and flags change because the
    batch filled in readings before them (same column names, no ``row``/``counter_value``).
    ``rows == accepted + duplicates + len(rejections)``.
    """

    meters: tuple[MeterSpec, ...]
    rows: int
    row: NDArray[np.int64]
    meter_index: NDArray[np.int32]
    interval_start_s: NDArray[np.int64]
    quantity: NDArray[np.float64]
    counter_value: NDArray[np.float64]
    flags: NDArray[np.int16]
    rejections: tuple[Rejection, ...]
    duplicates: int
    gaps: tuple[Gap, ...]
    revisions: CounterHistory

    @property
    def accepted(self) -> int:
        """How many readings were accepted."""
        return len(self.row)
