"""Deterministic synthetic residents with a year of low-carbon behaviour events.

``build_residents(seed, scale, year)`` draws each resident's profile (cheap: a few arrays);
:meth:`SyntheticResidents.month_events` generates one month's events as columns, in canonical
order (resident, day, behaviour), with deterministic event ids. ``scale=1.0`` gives 2.33 million
residents (Quzhou's scale); the default is 0.001 (2,330). About 9 events per resident and month
on average (about 21 million a month at full scale); everything here is a design choice, not a
statistic of Quzhou.

Profiles: 12% of residents are inactive (no events). The others have a lognormal activity level
and each uses a behaviour with some probability (bus 55%, bike 35%, online banking 70-80%, NEV
owner 4%...), at a monthly rate scaled by the activity level. Household savings (electricity,
gas, water below the own baseline) come at most once a month, on its last evening. A few
"gamers" (0.2%) log dozens of short bike rides on a handful of days, so daily caps bind.

Event id: ``(year - 2000) x 12 + month - 1`` in bits 38+, the resident id in bits 16-37, and
the event's rank within the resident's month in bits 0-15.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np
from numpy.typing import NDArray

from accounting.resident_accounts import DAYS_IN_KEY, MonthEvents
from accounting.resident_behaviours import BEHAVIOUR_CODES, N_CODES, Behaviour
from accounting.resident_events import RawResidentEvents
from finance_engine.storage.timezones import wall_to_utc_s, zone

FULL_SCALE_RESIDENTS: Final = 2_330_000
DEFAULT_SCALE: Final = 0.001
INACTIVE_SHARE: Final = 0.12
GAMER_SHARE: Final = 0.002
_B = tuple(Behaviour)
_SAVINGS = (Behaviour.ELECTRICITY_SAVED, Behaviour.GAS_SAVED, Behaviour.WATER_SAVED)
USE_PROBABILITY: Final = {
    Behaviour.BUS_RIDE: 0.55,
    Behaviour.METRO_RIDE: 0.05,
    Behaviour.SHARED_BIKE_TRIP: 0.35,
    Behaviour.ONLINE_BILL_PAYMENT: 0.8,
    Behaviour.ONLINE_TRANSFER: 0.7,
    Behaviour.E_STATEMENT: 0.5,
    Behaviour.NEV_CHARGING: 0.04,
    Behaviour.ELECTRICITY_SAVED: 0.6,
    Behaviour.GAS_SAVED: 0.4,
    Behaviour.WATER_SAVED: 0.6,
}
"""Share of active residents who use each behaviour at all."""
MONTHLY_RATE: Final = {
    Behaviour.BUS_RIDE: 4.0,
    Behaviour.METRO_RIDE: 2.0,
    Behaviour.SHARED_BIKE_TRIP: 3.0,
    Behaviour.ONLINE_BILL_PAYMENT: 1.0,
    Behaviour.ONLINE_TRANSFER: 2.0,
    Behaviour.E_STATEMENT: 0.5,
    Behaviour.NEV_CHARGING: 8.0,
    Behaviour.ELECTRICITY_SAVED: 0.35,
    Behaviour.GAS_SAVED: 0.3,
    Behaviour.WATER_SAVED: 0.35,
}
"""Events a month of a user at activity 1 (savings: probability of a saving month)."""
_MEAN_QUANTITY: Final = {
    Behaviour.NEV_CHARGING: 35.0,
    Behaviour.ELECTRICITY_SAVED: 20.0,
    Behaviour.GAS_SAVED: 3.0,
    Behaviour.WATER_SAVED: 2.0,
}
_GAMER_RIDES: Final = 40.0


@dataclass(frozen=True, eq=False)
class SyntheticMonth:
    """One month's synthetic events, columns in canonical order.

    ``events`` is what monthly accounting takes; ``event_id``, ``resident_id`` and
    ``occurred_at_s`` (epoch seconds UTC) complete the stored form.
    """

    month: date
    events: MonthEvents
    event_id: NDArray[np.int64]
    resident_id: NDArray[np.int64]
    occurred_at_s: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.event_id)

    def to_raw(self) -> RawResidentEvents:
        """The events as ingest input (rows numbered from 1)."""
        names = tuple(b.value for b in _B)
        return RawResidentEvents(
            row=np.arange(1, len(self) + 1, dtype=np.int64),
            event_id=self.event_id,
            resident_id=self.resident_id,
            occurred_at_s=self.occurred_at_s,
            behaviour_ref=self.events.behaviour.astype(np.int32) - 1,
            behaviour_names=names,
            quantity=self.events.quantity,
        )


@dataclass(frozen=True, eq=False)
class SyntheticResidents:
    """Residents' profiles; events are generated per month on demand.

    Attributes
    ----------
    rate:
        ``(n, len(Behaviour))`` float32, expected events per month (savings: probability).
    gamer:
        ``(n,)`` bool, residents who game shared-bike rides.
    """

    seed: int
    scale: float
    year: int
    timezone: str
    rate: NDArray[np.float32]
    gamer: NDArray[np.bool_]

    @property
    def n_residents(self) -> int:
        """Number of residents (ids 1..n)."""
        return len(self.gamer)

    @property
    def resident_ids(self) -> NDArray[np.int64]:
        """``(n,)`` resident ids, 1..n; index = id - 1."""
        return np.arange(1, self.n_residents + 1, dtype=np.int64)

    def month_events(self, month: int) -> SyntheticMonth:
        """The events of ``month`` (1-12) of the year, in canonical order."""
        rng = np.random.default_rng([self.seed, self.year, month, 7])
        first = date(self.year, month, 1)
        days = ((date(self.year + month // 12, month % 12 + 1, 1)) - first).days
        key = _event_keys(self, rng, days)
        resident = (key // (DAYS_IN_KEY * N_CODES)).astype(np.int32)
        day = ((key // N_CODES) % DAYS_IN_KEY).astype(np.int8)
        code = (key % N_CODES).astype(np.int8)
        quantity = _quantities(rng, code)
        events = MonthEvents(resident, day, code, quantity)
        return SyntheticMonth(
            month=first,
            events=events,
            event_id=_event_ids(self.year, month, resident),
            resident_id=resident.astype(np.int64) + 1,
            occurred_at_s=_times(rng, events, first, self.timezone),
        )


def build_residents(
    seed: int = 7, scale: float = DEFAULT_SCALE, year: int = 2024, timezone: str = "Asia/Shanghai"
) -> SyntheticResidents:
    """Draw ``round(2.33M x scale)`` residents' profiles (deterministic in seed and scale)."""
    n = max(1, round(FULL_SCALE_RESIDENTS * scale))
    if n >= 1 << 22:
        raise ValueError("scale: at most 4,194,303 residents fit the event-id layout")
    rng = np.random.default_rng([seed, 20_330])
    active = rng.random(n) >= INACTIVE_SHARE
    activity = rng.lognormal(0.0, 0.9, n) * active
    uses = rng.random((n, len(_B))) < np.array([USE_PROBABILITY[b] for b in _B])
    base = np.array([MONTHLY_RATE[b] for b in _B])
    rate = uses * base * activity[:, None]
    saving = np.array([b in _SAVINGS for b in _B])
    rate[:, saving] = np.minimum(uses[:, saving] * base[saving] * active[:, None], 1.0)
    gamer = active & (rng.random(n) < GAMER_SHARE)
    return SyntheticResidents(seed, scale, year, timezone, rate.astype(np.float32), gamer)


def _event_keys(res: SyntheticResidents, rng: np.random.Generator, days: int) -> NDArray[np.int64]:
    """Sorted group keys ``(resident x 32 + day) x 16 + code`` of the month's events."""
    n, nb = res.rate.shape
    saving = np.array([b in _SAVINGS for b in _B])
    counts = np.where(saving, rng.random(res.rate.shape) < res.rate, rng.poisson(res.rate)).astype(
        np.int64
    )
    bike = _B.index(Behaviour.SHARED_BIKE_TRIP)
    gamers = np.flatnonzero(res.gamer)
    counts[gamers, bike] += rng.poisson(_GAMER_RIDES, len(gamers))
    pair = np.repeat(np.arange(n * nb, dtype=np.int64), counts.ravel())
    resident, b = pair // nb, pair % nb
    day = rng.integers(0, days, len(pair))
    day[saving[b]] = days - 1
    gaming = res.gamer[resident] & (b == bike)
    day[gaming] = rng.integers(0, 3, int(gaming.sum()))
    codes = np.array([BEHAVIOUR_CODES[x] for x in _B], dtype=np.int64)
    key: NDArray[np.int64] = (resident * DAYS_IN_KEY + day) * N_CODES + codes[b]
    key.sort()
    return key


def _quantities(rng: np.random.Generator, code: NDArray[np.int8]) -> NDArray[np.float64]:
    quantity = np.ones(len(code))
    bus = code == Behaviour.BUS_RIDE.code
    quantity[bus] += rng.random(int(bus.sum())) < 0.05  # riding with a companion
    for behaviour, mean in _MEAN_QUANTITY.items():
        at = np.flatnonzero(code == behaviour.code)
        drawn = rng.lognormal(np.log(mean) - 0.18, 0.6, len(at))
        quantity[at] = np.clip(np.round(drawn, 1), 0.1, mean * 4)
    return quantity


def _event_ids(year: int, month: int, resident: NDArray[np.int32]) -> NDArray[np.int64]:
    position = np.arange(len(resident), dtype=np.int64)
    first = np.r_[True, resident[1:] != resident[:-1]] if len(resident) else np.zeros(0, bool)
    rank = position - np.maximum.accumulate(np.where(first, position, 0))
    month_key = (year - 2000) * 12 + month - 1
    return (np.int64(month_key) << 38) | ((resident.astype(np.int64) + 1) << 16) | rank


def _times(
    rng: np.random.Generator, events: MonthEvents, first: date, timezone: str
) -> NDArray[np.int64]:
    """Local times of day (transport 06-22 h, banking 08-23 h, savings 23:00) -> epoch s UTC."""
    code = events.behaviour
    seconds = rng.integers(6 * 3600, 22 * 3600, len(code))
    banking = (code >= Behaviour.ONLINE_BILL_PAYMENT.code) & (code <= Behaviour.E_STATEMENT.code)
    seconds[banking] += 2 * 3600
    saving = code >= Behaviour.ELECTRICITY_SAVED.code
    seconds[saving] = 23 * 3600
    epoch_day = (first - date(1970, 1, 1)).days
    wall = (epoch_day + events.day.astype(np.int64)) * 86_400 + seconds
    return wall_to_utc_s(wall, zone(timezone))


def year_totals(res: SyntheticResidents) -> int:
    """Expected events in the year (for progress bars): sum of monthly rates x 12."""
    expected = float(res.rate.sum(dtype=np.float64)) * 12
    return round(expected + int(res.gamer.sum()) * 12 * _GAMER_RIDES)


def bad_events(month: SyntheticMonth, now_s: int) -> RawResidentEvents:
    """Six faulty events built on ``month``'s first event (for the demo and tests).

    Rows 1-6: unknown behaviour, negative quantity, implausible NEV charge (500 kWh), a time a
    year after ``now_s``, an exact repeat of the first event (a duplicate once that is stored),
    and the first event's id with a different quantity (a conflict). Needs a month with events.
    """
    names = (*(b.value for b in _B), "taxi_ride")
    first_ref = int(month.events.behaviour[0]) - 1
    nev = _B.index(Behaviour.NEV_CHARGING)
    bus = _B.index(Behaviour.BUS_RIDE)
    t0, q0 = int(month.occurred_at_s[0]), float(month.events.quantity[0])
    base_id = int(month.event_id[-1]) + 1
    return RawResidentEvents(
        row=np.arange(1, 7, dtype=np.int64),
        event_id=np.array(
            [base_id, base_id + 1, base_id + 2, base_id + 3, month.event_id[0], month.event_id[0]],
            dtype=np.int64,
        ),
        resident_id=np.full(6, int(month.resident_id[0]), dtype=np.int64),
        occurred_at_s=np.array([t0, t0, t0, now_s + 365 * 86_400, t0, t0], dtype=np.int64),
        behaviour_ref=np.array([len(_B), bus, nev, bus, first_ref, first_ref], dtype=np.int32),
        behaviour_names=names,
        quantity=np.array([1.0, -1.0, 500.0, 1.0, q0, q0 + 1]),
    )
