"""A deterministic synthetic Quzhou-like city: firms, meters, 15-minute data, injected faults.

``build_city(seed, scale)`` is cheap (specs and parameters only); interval arrays are generated on
demand, in chunks of meters, by :meth:`City.meter_arrays` / :meth:`City.iter_meter_arrays`, and
the raw gateway stream by :meth:`City.to_raw_rows`. ``scale=1.0`` gives 2,392 industrial firms
(about 1,100 metered, about four meters each) and 97 energy producers.

Every metered meter's yearly total is fixed in advance from its firm's intended emissions
(intensity × value added, or × energy supplied) split by the firm's energy mix and divided by the
design emission factors (:func:`~finance_engine.synth.industries.design_factors`), so an account
computed from the clean arrays with the same factors returns the intended intensity.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from accounting.energy import EnergyType
from finance_engine.synth.calendar import YearCalendar, year_calendar
from finance_engine.synth.faults import FaultTable, apply_faults, draw_faults
from finance_engine.synth.industries import (
    INDUSTRIAL_FIRMS_FULL_SCALE,
    METERED_SHARE,
    PRODUCERS_FULL_SCALE,
    design_factors,
)
from finance_engine.synth.loadshapes import BLOCK, SLOTS, MeterModel, generate_block
from finance_engine.synth.meters import DeclaredTotal, MeterSpec, plan_meters
from finance_engine.synth.population import (
    ActivitySpec,
    EntitySpec,
    plan_industry,
    plan_producers,
)
from finance_engine.synth.raw import RawRows, assemble_rows, counters

__all__ = ["ActivitySpec", "City", "DeclaredTotal", "EntitySpec", "MeterSpec", "build_city"]


@dataclass(frozen=True, eq=False)
class City:
    """The synthetic city. Build it with :func:`build_city`.

    Attributes
    ----------
    seed, scale, year:
        What it was built from.
    calendar:
        Local days of the year (day types, Spring Festival, seasons); ``calendar.start_s`` is
        the epoch second of slot 0.
    factors:
        Design emission factors, tCO2 per native unit, by energy type.
    entities, activity:
        One per firm, in the same order.
    meters:
        Meters of the metered firms; ``MeterSpec.index`` is the row in every meter array.
    declared_totals:
        Yearly energy totals of the firms that are not metered.
    faults:
        Injected faults (truth).
    """

    seed: int
    scale: float
    year: int
    calendar: YearCalendar
    factors: Mapping[EnergyType, float]
    entities: tuple[EntitySpec, ...]
    activity: tuple[ActivitySpec, ...]
    meters: tuple[MeterSpec, ...]
    declared_totals: tuple[DeclaredTotal, ...]
    faults: FaultTable
    model: MeterModel
    counter_start: NDArray[np.float64]
    weather: NDArray[np.float32]

    @property
    def days(self) -> int:
        """Days in the year."""
        return self.calendar.days

    @property
    def slots(self) -> int:
        """15-minute slots in the year."""
        return self.calendar.days * SLOTS

    @property
    def start_s(self) -> int:
        """Epoch seconds (UTC) of local midnight on 1 January: the start of slot 0."""
        return self.calendar.start_s

    def meter_arrays(
        self, meters: Sequence[int] | NDArray[np.integer] | None = None, *, clean: bool = False
    ) -> NDArray[np.float32]:
        """Interval quantities ``(len(meters), days, 96)`` float32, native units; NaN = gap.

        Parameters
        ----------
        meters:
            Meter indices (default all: mind the memory at full scale, use chunks).
        clean:
            True for the data before fault injection (no spikes, flat lines or gaps).
        """
        index = self._index(meters)
        out = np.empty((index.size, self.days, SLOTS), dtype=np.float32)
        for block in np.unique(index // BLOCK):  # one vectorised generation per 64 meters
            values = self._block(int(block), clean)
            rows = np.nonzero(index // BLOCK == block)[0]
            out[rows] = values[index[rows] - int(block) * BLOCK]
        return out

    def iter_meter_arrays(
        self, chunk_meters: int = 256, *, clean: bool = False
    ) -> Iterator[tuple[NDArray[np.int64], NDArray[np.float32]]]:
        """Yield ``(meter indices, arrays)`` over all meters in chunks (bounded memory)."""
        step = max(BLOCK, chunk_meters // BLOCK * BLOCK)
        for lo in range(0, len(self.meters), step):
            index = np.arange(lo, min(lo + step, len(self.meters)), dtype=np.int64)
            yield index, self.meter_arrays(index, clean=clean)

    def _block(self, block: int, clean: bool) -> NDArray[np.float32]:
        values = generate_block(self.model, block, self.calendar, self.weather, self.seed)
        if not clean:
            lo = block * BLOCK
            members = np.arange(lo, lo + values.shape[0], dtype=np.int64)
            apply_faults(values.reshape(values.shape[0], -1), members, self.faults)
        return values

    def _index(self, meters: Sequence[int] | NDArray[np.integer] | None) -> NDArray[np.int64]:
        if meters is None:
            return np.arange(len(self.meters), dtype=np.int64)
        index = np.asarray(meters, dtype=np.int64)
        if index.ndim != 1 or (index.size and (index.min() < 0 or index.max() >= len(self.meters))):
            raise ValueError(f"meters: indices must lie in 0..{len(self.meters) - 1}")
        return index

    def to_raw_rows(
        self,
        meters: Sequence[int] | NDArray[np.integer] | None = None,
        days: tuple[int, int] | None = None,
    ) -> RawRows:
        """The raw stream of ``meters`` for local days ``[first, end)`` (default the year).

        Interval meters give interval quantities at interval starts; cumulative meters give
        counter readings (with rollovers and injected resets) at reading instants; injected
        duplicates repeat rows. See :mod:`finance_engine.synth.raw`.
        """
        first, end = days or (0, self.days)
        if not 0 <= first < end <= self.days:
            raise ValueError(f"days: ({first}, {end}) is not a range within 0..{self.days}")
        index = np.unique(self._index(meters))
        parts = [
            self._raw_chunk(index[index // BLOCK == b], first, end)
            for b in np.unique(index // BLOCK)
        ]
        meter = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int32)
        stamp = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int64)
        value = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0)
        order = np.lexsort((stamp, meter))  # stable: duplicates stay next to their original
        codes = tuple(m.code for m in self.meters)
        return RawRows(codes, meter[order], stamp[order], value[order])

    def _raw_chunk(
        self, index: NDArray[np.int64], first: int, end: int
    ) -> tuple[NDArray[np.int32], NDArray[np.int64], NDArray[np.float64]]:
        values = self.meter_arrays(index).reshape(index.size, -1)
        cumulative = np.array([self.meters[i].reading_kind == "cumulative" for i in index])
        lo, hi = first * SLOTS, end * SLOTS
        dups = self.faults.of_kind("duplicate")
        shifted = FaultTable(
            dups.meter, dups.kind, dups.start_slot - lo, dups.length, dups.magnitude
        )
        window = values[~cumulative, lo:hi]
        parts = [
            assemble_rows(
                window, ~np.isnan(window), index[~cumulative], self.start_s + lo * 900, shifted, 0
            )
        ]
        if cumulative.any():
            counter = self._counters(index[cumulative], values[cumulative])[:, lo : hi + 1]
            parts.append(
                assemble_rows(
                    counter,
                    np.ones(counter.shape, bool),
                    index[cumulative],
                    self.start_s + lo * 900,
                    shifted,
                    1,
                )
            )
        return (
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
        )

    def _counters(
        self, index: NDArray[np.int64], values: NDArray[np.float32]
    ) -> NDArray[np.float64]:
        resets = self.faults.of_kind("counter_reset")
        resets = resets.select(np.isin(resets.meter, index))
        rollover = np.array([self.meters[i].counter_rollover or np.inf for i in index])
        return counters(
            values,
            self.counter_start[index],
            rollover,
            np.searchsorted(index, resets.meter),
            resets.start_slot,
        )

    def energy_totals(self) -> dict[str, dict[EnergyType, float]]:
        """Intended yearly energy by firm and type, native units (meters' totals or declared)."""
        totals: dict[str, dict[EnergyType, float]] = {e.id: {} for e in self.entities}
        rows = [(m.entity_id, m.energy_type, m.annual_quantity) for m in self.meters]
        rows += [(d.entity_id, d.energy_type, d.quantity) for d in self.declared_totals]
        for entity_id, energy_type, quantity in rows:
            bucket = totals[entity_id]
            bucket[energy_type] = bucket.get(energy_type, 0.0) + quantity
        return totals

    def fingerprint(self) -> str:
        """SHA-256 of everything the city is built from (specs, parameters, faults)."""
        digest = hashlib.sha256()
        for part in (self.entities, self.activity, self.meters, self.declared_totals):
            digest.update(repr(part).encode())
        arrays = (
            *vars(self.faults).values(),
            *vars(self.model).values(),
            self.counter_start,
            self.weather,
        )
        for array in arrays:
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()


def design_emissions_tco2e(
    totals: Mapping[EnergyType, float], factors: Mapping[EnergyType, float]
) -> float:
    """Emissions of yearly energy totals, tCO2: Σ quantity × factor, with on-site renewable
    electricity consumed on site taken off the metered electricity (it is zero-carbon)."""
    self_used = totals.get(EnergyType.RENEWABLE_SELF_CONSUMED, 0.0)
    gross = sum(q * factors[t] for t, q in totals.items())
    return gross - self_used * factors[EnergyType.ELECTRICITY]


def build_city(
    seed: int, scale: float, year: int = 2024, factors: Mapping[EnergyType, float] | None = None
) -> City:
    """Build the synthetic city (deterministic in ``seed``, ``scale``, ``year`` and factors).

    Parameters
    ----------
    seed:
        Random seed.
    scale:
        1.0 for 2,392 industrial firms and 97 energy producers; smaller for a smaller city with
        the same shares (at least one producer of each kind).
    year:
        Calendar year of the data (one with a holiday calendar: 2023-2025).
    factors:
        Emission factors, tCO2 per native unit; default the packaged factor set in force on
        1 January of ``year``.
    """
    if not 0 < scale <= 4:
        raise ValueError(f"scale: {scale} must be above 0 and at most 4")
    calendar = year_calendar(year)
    factors = factors or design_factors(year)
    n_ind = max(1, round(INDUSTRIAL_FIRMS_FULL_SCALE * scale))
    n_prod = max(4, round(PRODUCERS_FULL_SCALE * scale))
    plans = [
        *plan_industry(np.random.default_rng([seed, 1]), n_ind, METERED_SHARE, year),
        *plan_producers(np.random.default_rng([seed, 2]), n_prod, year),
    ]
    layout = plan_meters(np.random.default_rng([seed, 3]), plans, factors, calendar)
    cumulative = np.array([m.reading_kind == "cumulative" for m in layout.meters], dtype=bool)
    wraps = np.array([m.counter_rollover is not None for m in layout.meters], dtype=bool)
    generation = np.array([m.energy_type in _GENERATION for m in layout.meters], dtype=bool)
    faults = draw_faults(
        np.random.default_rng([seed, 4]),
        ~generation,
        cumulative,
        cumulative & ~wraps,
        calendar.days * SLOTS,
    )
    return City(
        seed=seed,
        scale=scale,
        year=year,
        calendar=calendar,
        factors=factors,
        entities=tuple(p.entity for p in plans),
        activity=tuple(p.activity for p in plans),
        meters=layout.meters,
        declared_totals=layout.declared,
        faults=faults,
        model=layout.model,
        counter_start=layout.counter_start,
        weather=layout.weather,
    )


_GENERATION = frozenset({EnergyType.RENEWABLE_SELF_CONSUMED, EnergyType.RENEWABLE_EXPORTED})
