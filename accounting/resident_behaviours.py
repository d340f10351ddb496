"""Residents' low-carbon behaviours and the versioned table of grams CO2 avoided per unit.

The vocabulary (:class:`Behaviour`, its stable numeric code, unit and accepted unit aliases) is
code; the factors are data: one JSON file per version
(``accounting/data/residents/behaviour-factors-*.json``), effective-dated by whole months, with a
source and a status (``C`` confirmed, ``P`` partly confirmed, ``U`` unconfirmed default) for every
value. No official per-behaviour factors of Quzhou's personal carbon accounts were found
(``domain.md`` §3.4), so the shipped values are reasoned defaults marked ``U``.

A factor is given by a *method* rather than a bare number wherever it depends on an emission
factor the accounting factor sets already hold, so that the grid and fuel factors are never
restated here (:func:`resolve_factors` takes them from an :class:`~accounting.factors.FactorSet`):

- ``fixed``: ``g_co2_per_unit`` as given;
- ``trip_vs_car``: ``trip_km x car g/person-km x (1 - mode_to_car_ratio) x car_substitution_share``;
- ``counter_visit``: ``round_trip_km x car g/person-km x car_share + paper_g_co2``;
- ``nev_vs_gasoline``: ``100 / ev_kwh_per_100km x car g/vehicle-km - grid g/kWh`` (not below 0);
- ``grid_electricity``: ``kwh_per_unit x grid g/kWh``;
- ``fuel``: the factor set's fuel factor in g per native unit.

The car baseline is ``gasoline_l_per_100km / 100 x gasoline_density_kg_per_l x gasoline tCO2/t
(from the factor set) x 1e6 g/t / 1e3`` g per vehicle-km, divided by ``occupancy_persons`` for a
person-km.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import numpy as np
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from numpy.typing import NDArray

from accounting.datafile import load_json_object
from accounting.energy import FUELS, EnergyType
from accounting.factors import DEFAULT_GRID_REGION, FactorSet, FactorSetError, canonical_sha256
from accounting.schema_errors import DataFileError, one_line

N_CODES: Final = 16
"""Size of per-behaviour lookup arrays (codes 1..15; 0 is never a behaviour)."""


class Behaviour(StrEnum):
    """A counted low-carbon behaviour. The value is the code used in files and JSON."""

    BUS_RIDE = "bus_ride"
    METRO_RIDE = "metro_ride"
    SHARED_BIKE_TRIP = "shared_bike_trip"
    ONLINE_BILL_PAYMENT = "online_bill_payment"
    """A utility or other bill paid online instead of at a counter."""
    ONLINE_TRANSFER = "online_transfer"
    """A transfer made in mobile or online banking instead of at a branch counter."""
    E_STATEMENT = "e_statement"
    """An electronic statement instead of a mailed paper one."""
    NEV_CHARGING = "nev_charging"
    """New-energy (battery electric) vehicle charging, kWh delivered to the car."""
    ELECTRICITY_SAVED = "electricity_saved"
    """Household electricity below the household's own baseline, kWh saved."""
    GAS_SAVED = "gas_saved"
    """Household piped natural gas below the household's own baseline, m3 saved."""
    WATER_SAVED = "water_saved"
    """Household tap water below the household's own baseline, m3 saved."""

    @property
    def code(self) -> int:
        """The stable numeric code stored in the database (1..15)."""
        return BEHAVIOUR_CODES[self]

    @property
    def unit(self) -> str:
        """The canonical unit quantities are stored in."""
        return BEHAVIOUR_UNITS[self]

    @property
    def whole_units(self) -> bool:
        """True when quantities count events (trips, payments...) and must be whole numbers."""
        return self.unit in _COUNT_UNITS


BEHAVIOUR_CODES: Mapping[Behaviour, int] = MappingProxyType(
    {b: i for i, b in enumerate(Behaviour, start=1)}
)
"""Stable numeric codes. Append new behaviours at the end; never renumber."""
BEHAVIOURS_BY_CODE: Mapping[int, Behaviour] = MappingProxyType(
    {c: b for b, c in BEHAVIOUR_CODES.items()}
)
BEHAVIOUR_UNITS: Mapping[Behaviour, str] = MappingProxyType(
    {
        Behaviour.BUS_RIDE: "trip",
        Behaviour.METRO_RIDE: "trip",
        Behaviour.SHARED_BIKE_TRIP: "trip",
        Behaviour.ONLINE_BILL_PAYMENT: "payment",
        Behaviour.ONLINE_TRANSFER: "transfer",
        Behaviour.E_STATEMENT: "statement",
        Behaviour.NEV_CHARGING: "kWh",
        Behaviour.ELECTRICITY_SAVED: "kWh",
        Behaviour.GAS_SAVED: "m3",
        Behaviour.WATER_SAVED: "m3",
    }
)
_COUNT_UNITS = frozenset({"trip", "payment", "transfer", "statement"})
UNIT_ALIASES: Mapping[Behaviour, Mapping[str, float]] = MappingProxyType(
    {
        b: MappingProxyType(
            {
                "trip": {"trip": 1.0, "trips": 1.0},
                "payment": {"payment": 1.0, "payments": 1.0},
                "transfer": {"transfer": 1.0, "transfers": 1.0},
                "statement": {"statement": 1.0, "statements": 1.0},
                "kWh": {"kWh": 1.0, "MWh": 1000.0},
                "m3": {"m3": 1.0, "t": 1.0} if b is Behaviour.WATER_SAVED else {"m3": 1.0},
            }[u]
        )
        for b, u in BEHAVIOUR_UNITS.items()
    }
)
"""Units accepted per behaviour and the canonical units in one of them (1 t of water = 1 m3)."""

METHODS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "fixed": frozenset({"g_co2_per_unit"}),
        "trip_vs_car": frozenset({"trip_km", "mode_to_car_ratio", "car_substitution_share"}),
        "counter_visit": frozenset({"round_trip_km", "car_share", "paper_g_co2"}),
        "nev_vs_gasoline": frozenset({"ev_kwh_per_100km"}),
        "grid_electricity": frozenset({"kwh_per_unit"}),
        "fuel": frozenset({"fuel"}),
    }
)
"""Factor methods and the parameters each one requires (and allows)."""
_PARAMETERS = frozenset().union(*METHODS.values())


class FactorTableError(DataFileError):
    """A behaviour factor table or points rules file is invalid, or a lookup failed."""


# --------------------------------------------------------------------------- schemas

_NON_NEGATIVE = validate.Range(min=0)
_POSITIVE = validate.Range(min=0, min_inclusive=False)
_SHARE = validate.Range(min=0, max=1)


class _CarSchema(Schema):
    gasoline_l_per_100km = fields.Float(required=True, validate=_POSITIVE)
    gasoline_density_kg_per_l = fields.Float(required=True, validate=_POSITIVE)
    occupancy_persons = fields.Float(required=True, validate=validate.Range(min=1))
    source = fields.Str(required=True, validate=validate.Length(min=1))


class _EntrySchema(Schema):
    method = fields.Str(required=True, validate=validate.OneOf(sorted(METHODS)))
    g_co2_per_unit = fields.Float(validate=_NON_NEGATIVE)
    trip_km = fields.Float(validate=_POSITIVE)
    mode_to_car_ratio = fields.Float(validate=_SHARE)
    car_substitution_share = fields.Float(validate=_SHARE)
    round_trip_km = fields.Float(validate=_NON_NEGATIVE)
    car_share = fields.Float(validate=_SHARE)
    paper_g_co2 = fields.Float(validate=_NON_NEGATIVE)
    ev_kwh_per_100km = fields.Float(validate=_POSITIVE)
    kwh_per_unit = fields.Float(validate=_POSITIVE)
    fuel = fields.Str(validate=validate.OneOf(sorted(f.value for f in FUELS)))
    max_per_event = fields.Float(required=True, validate=_POSITIVE)
    status = fields.Str(required=True, validate=validate.OneOf(["C", "P", "U"]))
    source = fields.Str(required=True, validate=validate.Length(min=1))

    @validates_schema
    def _parameters_fit_method(self, data: dict[str, Any], **_: Any) -> None:
        needed = METHODS[data["method"]]
        given = _PARAMETERS & set(data)
        for name in sorted(needed - given):
            raise ValidationError(f"required by method {data['method']!r}", name)
        for name in sorted(given - needed):
            raise ValidationError(f"not a parameter of method {data['method']!r}", name)


_BehavioursSchema = Schema.from_dict(
    {b.value: fields.Nested(_EntrySchema, required=True) for b in Behaviour},
    name="_BehavioursSchema",
)


class _TableSchema(Schema):
    version = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    effective_from = fields.Date(required=True)
    effective_to = fields.Date(required=True, allow_none=True)
    description = fields.Str(required=True)
    car_baseline = fields.Nested(_CarSchema, required=True)
    behaviours = fields.Nested(_BehavioursSchema, required=True)

    @validates_schema
    def _whole_months(self, data: dict[str, Any], **_: Any) -> None:
        check_whole_months(data["effective_from"], data.get("effective_to"))


def check_whole_months(start: date, end: date | None) -> None:
    """Refuse effective ranges that do not start on a 1st and end on a month's last day."""
    if start.day != 1:
        raise ValidationError("must be the first day of a month", "effective_from")
    if end is not None:
        if end < start:
            raise ValidationError("must not be before effective_from", "effective_to")
        if date.fromordinal(end.toordinal() + 1).day != 1:
            raise ValidationError("must be the last day of a month", "effective_to")


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class FactorEntry:
    """One behaviour's row of a factor table (parameters as published)."""

    behaviour: Behaviour
    method: str
    parameters: Mapping[str, float | str]
    max_per_event: float
    """Most one event may carry, in the behaviour's unit; above that it is implausible."""
    status: str
    source: str


@dataclass(frozen=True)
class BehaviourTable:
    """One version of the behaviour factor table."""

    version: str
    sha256: str
    effective_from: date
    effective_to: date | None
    description: str
    car_baseline: Mapping[str, float | str]
    entries: Mapping[Behaviour, FactorEntry]
    content: dict[str, Any]
    """The validated document as published (JSON types); do not mutate."""


def behaviour_table_from_content(content: Mapping[str, Any], source: str) -> BehaviourTable:
    """Validate a factor-table document and build the :class:`BehaviourTable`."""
    try:
        data = _TableSchema().load(dict(content))
    except ValidationError as exc:
        raise FactorTableError(one_line(exc.messages, source)) from None
    raw = json.loads(json.dumps(dict(content)))
    entries = {
        Behaviour(name): FactorEntry(
            Behaviour(name),
            e["method"],
            MappingProxyType({k: e[k] for k in METHODS[e["method"]]}),
            e["max_per_event"],
            e["status"],
            e["source"],
        )
        for name, e in data["behaviours"].items()
    }
    return BehaviourTable(
        version=data["version"],
        sha256=canonical_sha256(raw),
        effective_from=data["effective_from"],
        effective_to=data["effective_to"],
        description=data["description"],
        car_baseline=MappingProxyType(dict(data["car_baseline"])),
        entries=MappingProxyType(entries),
        content=raw,
    )


def load_json_document(path: Path | str) -> tuple[dict[str, Any], str]:
    """Read a JSON object from ``path``; FactorTableError names the file on failure."""
    path = Path(path)
    content = load_json_object(path, FactorTableError)
    return content, path.name


def load_behaviour_table(path: Path | str) -> BehaviourTable:
    """Load and validate one factor-table file; errors name the file and the field."""
    content, name = load_json_document(path)
    return behaviour_table_from_content(content, name)


# --------------------------------------------------------------------------- resolution


@dataclass(frozen=True, eq=False)
class ResolvedFactors:
    """A factor table resolved against a factor set: grams CO2 avoided per unit, by code.

    Attributes
    ----------
    g_per_unit:
        ``(N_CODES,)`` float64, g CO2 avoided per canonical unit, indexed by behaviour code
        (0 where no behaviour has the code).
    max_per_event:
        ``(N_CODES,)`` float64, the most one event may carry (canonical unit).
    basis:
        How each factor was derived, with the numbers used.
    """

    table_version: str
    factor_set_version: str
    grid_region: str
    g_per_unit: NDArray[np.float64]
    max_per_event: NDArray[np.float64]
    basis: Mapping[Behaviour, str]
    sources: Mapping[Behaviour, str]
    statuses: Mapping[Behaviour, str]

    def factor(self, behaviour: Behaviour) -> float:
        """Grams CO2 avoided per canonical unit of ``behaviour``."""
        return float(self.g_per_unit[behaviour.code])


def _car_g_per_vkm(table: BehaviourTable, factor_set: FactorSet) -> tuple[float, str]:
    car = table.car_baseline
    kg_co2_per_kg, _ = factor_set.factor(EnergyType.GASOLINE)  # tCO2/t == kgCO2/kg
    g = float(car["gasoline_l_per_100km"]) / 100 * float(car["gasoline_density_kg_per_l"])
    g *= kg_co2_per_kg * 1000
    basis = (
        f"car {car['gasoline_l_per_100km']:g} L/100km x {car['gasoline_density_kg_per_l']:g} kg/L"
        f" x gasoline {kg_co2_per_kg:.4f} tCO2/t ({factor_set.version}) = {g:.2f} g/vehicle-km"
    )
    return g, basis


def _resolve_entry(
    entry: FactorEntry, car_vkm: float, car_pkm: float, grid_g_per_kwh: float, fs: FactorSet
) -> tuple[float, str]:
    p = entry.parameters
    if entry.method == "fixed":
        return float(p["g_co2_per_unit"]), "fixed value from the table"
    if entry.method == "trip_vs_car":
        ratio, share = float(p["mode_to_car_ratio"]), float(p["car_substitution_share"])
        g = float(p["trip_km"]) * car_pkm * (1 - ratio) * share
        return g, f"{p['trip_km']:g} km x {car_pkm:.2f} g/pkm x (1 - {ratio:g}) x {share:g}"
    if entry.method == "counter_visit":
        km, share, paper = float(p["round_trip_km"]), float(p["car_share"]), float(p["paper_g_co2"])
        g = km * car_pkm * share + paper
        return g, f"{km:g} km x {car_pkm:.2f} g/pkm x {share:g} + {paper:g} g paper"
    if entry.method == "nev_vs_gasoline":
        km_per_kwh = 100 / float(p["ev_kwh_per_100km"])
        g = max(0.0, km_per_kwh * car_vkm - grid_g_per_kwh)
        return g, f"{km_per_kwh:.3f} km/kWh x {car_vkm:.2f} g/vkm - grid {grid_g_per_kwh:g} g/kWh"
    if entry.method == "grid_electricity":
        kwh = float(p["kwh_per_unit"])
        return kwh * grid_g_per_kwh, f"{kwh:g} kWh x grid {grid_g_per_kwh:g} g/kWh"
    fuel = EnergyType(str(p["fuel"]))
    t_per_unit, used = fs.factor(fuel)
    return t_per_unit * 1e6, f"{fuel.value} {used.basis} = {t_per_unit * 1e6:.1f} g/{fuel.unit}"


def resolve_factors(
    table: BehaviourTable, factor_set: FactorSet, grid_region: str = DEFAULT_GRID_REGION
) -> ResolvedFactors:
    """Grams CO2 avoided per unit of every behaviour, using ``factor_set``'s grid and fuels."""
    try:
        grid = factor_set.grid_factor(grid_region)
    except FactorSetError as exc:
        raise FactorTableError(str(exc)) from None
    grid_g_per_kwh = grid.value_tco2_per_mwh * 1000.0  # 1 tCO2/MWh = 1000 g/kWh
    car_vkm, car_basis = _car_g_per_vkm(table, factor_set)
    car_pkm = car_vkm / float(table.car_baseline["occupancy_persons"])
    g_per_unit = np.zeros(N_CODES, dtype=np.float64)
    max_per_event = np.zeros(N_CODES, dtype=np.float64)
    basis: dict[Behaviour, str] = {}
    for behaviour, entry in table.entries.items():
        g, how = _resolve_entry(entry, car_vkm, car_pkm, grid_g_per_kwh, factor_set)
        g_per_unit[behaviour.code] = g
        max_per_event[behaviour.code] = entry.max_per_event
        uses_car = entry.method in {"trip_vs_car", "counter_visit", "nev_vs_gasoline"}
        basis[behaviour] = f"{how}; {car_basis}" if uses_car else how
    return ResolvedFactors(
        table_version=table.version,
        factor_set_version=factor_set.version,
        grid_region=grid.region,
        g_per_unit=g_per_unit,
        max_per_event=max_per_event,
        basis=MappingProxyType(basis),
        sources=MappingProxyType({b: e.source for b, e in table.entries.items()}),
        statuses=MappingProxyType({b: e.status for b, e in table.entries.items()}),
    )
