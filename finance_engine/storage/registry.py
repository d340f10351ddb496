"""Entities and meters: records, the meters file (CSV or JSON) and their upsert.

Meters file, JSON::

    {"entities": [{"id", "name", "sector", "industry_code"?, "region"?, "grid_region"?}],
     "meters": [{"code", "entity", "energy_type", "unit"?, "reading_kind"?,
                 "rated_max_per_interval"?, "counter_rollover"?, "steam_enthalpy_kj_per_kg"?}]}

CSV: one meter per row with the meter fields as columns (``entity`` for its entity) and,
optionally, ``entity_name``, ``sector``, ``industry_code``, ``region``, ``grid_region`` to create
or update the entity on the same row. ``unit`` defaults to the energy type's native unit and
``reading_kind`` to ``interval``. See ``docs/ingest-formats.md``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from accounting.energy import EnergyType
from accounting.readings import MeterSpec
from accounting.vocab import Sector
from finance_engine.models import Entity, Meter
from finance_engine.storage.formats import FormatError

_ENTITY_FIELDS = ("id", "name", "sector", "industry_code", "region", "grid_region")
_METER_FIELDS = (
    "code",
    "entity",
    "energy_type",
    "unit",
    "reading_kind",
    "rated_max_per_interval",
    "counter_rollover",
    "steam_enthalpy_kj_per_kg",
)
_CSV_ENTITY = {
    "entity_name": "name",
    "sector": "sector",
    "industry_code": "industry_code",
    "region": "region",
    "grid_region": "grid_region",
}
_FIXED = ("energy_type", "unit", "reading_kind")


@dataclass(frozen=True)
class EntityRecord:
    """An entity to create or update (``entity`` table)."""

    id: str
    name: str
    sector: Sector
    industry_code: str = ""
    region: str = ""
    grid_region: str = ""


@dataclass(frozen=True)
class MeterRecord:
    """A meter to create or update: its entity, validation spec and steam enthalpy (kJ/kg)."""

    entity_id: str
    spec: MeterSpec
    steam_enthalpy_kj_per_kg: float | None = None


@dataclass(frozen=True)
class RegistryOutcome:
    """Counts of rows created and updated."""

    entities_created: int
    entities_updated: int
    meters_created: int
    meters_updated: int


def _number(value: Any, where: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise FormatError(f"{where}: must be a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise FormatError(f"{where}: {value!r} is not a number") from None


def _text(item: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = item.get(key)
    if value is None or value == "":
        if required:
            raise FormatError(f"{where}.{key}: missing")
        return ""
    if not isinstance(value, str):
        raise FormatError(f"{where}.{key}: must be a string")
    return value.strip()


def entity_from(item: Mapping[str, Any], where: str) -> EntityRecord:
    """Validate one entity mapping (``where`` names it in errors)."""
    if unknown := sorted(set(item) - set(_ENTITY_FIELDS)):
        raise FormatError(f"{where}.{unknown[0]}: unknown field")
    sector = _text(item, "sector", where, required=True)
    if sector not in set(Sector):
        raise FormatError(f"{where}.sector: {sector!r} is not one of {', '.join(Sector)}")
    return EntityRecord(
        _text(item, "id", where, required=True),
        _text(item, "name", where, required=True),
        Sector(sector),
        *(_text(item, k, where) for k in _ENTITY_FIELDS[3:]),
    )


def meter_from(item: Mapping[str, Any], where: str) -> MeterRecord:
    """Validate one meter mapping (``where`` names it in errors)."""
    if unknown := sorted(set(item) - set(_METER_FIELDS)):
        raise FormatError(f"{where}.{unknown[0]}: unknown field")
    energy = _text(item, "energy_type", where, required=True)
    if energy not in set(EnergyType):
        raise FormatError(f"{where}.energy_type: {energy!r} is not one of {', '.join(EnergyType)}")
    try:
        spec = MeterSpec(
            _text(item, "code", where, required=True),
            EnergyType(energy),
            _text(item, "unit", where) or EnergyType(energy).unit,
            _text(item, "reading_kind", where) or "interval",  # type: ignore[arg-type]
            _number(item.get("rated_max_per_interval"), f"{where}.rated_max_per_interval"),
            _number(item.get("counter_rollover"), f"{where}.counter_rollover"),
        )
    except ValueError as exc:
        raise FormatError(f"{where}: {exc}") from None
    return MeterRecord(
        _text(item, "entity", where, required=True),
        spec,
        _number(item.get("steam_enthalpy_kj_per_kg"), f"{where}.steam_enthalpy_kj_per_kg"),
    )


def read_registry_file(path: Path) -> tuple[list[EntityRecord], list[MeterRecord]]:
    """Read a meters file (``.json`` or ``.csv``); errors name the file, record and field."""
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    if path.suffix.lower() == ".json":
        return _read_json(path)
    return _read_csv(path)


def _read_json(path: Path) -> tuple[list[EntityRecord], list[MeterRecord]]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise FormatError(f"{path}: not valid JSON ({exc})") from None
    if (
        not isinstance(doc, dict)
        or not isinstance(doc.get("meters", []), list)
        or not (isinstance(doc.get("entities", []), list))
    ):
        raise FormatError(f"{path}: the top level must be an object with 'entities' and 'meters'")
    if unknown := sorted(set(doc) - {"entities", "meters"}):
        raise FormatError(f"{path}: unknown top-level key {unknown[0]!r}")
    items = [
        (f"{path}: {key}[{i}]", item)
        for key in ("entities", "meters")
        for i, item in enumerate(doc.get(key, []))
    ]
    for where, item in items:
        if not isinstance(item, dict):
            raise FormatError(f"{where}: must be an object")
    entities = [entity_from(item, w) for w, item in items if "entities[" in w]
    meters = [meter_from(item, w) for w, item in items if "meters[" in w]
    return entities, meters


def _read_csv(path: Path) -> tuple[list[EntityRecord], list[MeterRecord]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    entities: dict[str, EntityRecord] = {}
    meters: list[MeterRecord] = []
    for line, row in enumerate(rows, start=2):
        where = f"{path}: row {line}"
        if None in row:
            raise FormatError(f"{where}: more fields than the header")
        cells = {k.strip(): (v or "").strip() for k, v in row.items()}
        entity = {_CSV_ENTITY[k]: v for k, v in cells.items() if k in _CSV_ENTITY and v}
        if entity:
            record = entity_from({"id": cells.get("entity", ""), **entity}, where)
            entities[record.id] = record
        meters.append(meter_from({k: v for k, v in cells.items() if k not in _CSV_ENTITY}, where))
    return list(entities.values()), meters


def upsert_registry(
    session: Session, entities: Sequence[EntityRecord], meters: Sequence[MeterRecord]
) -> RegistryOutcome:
    """Create or update entities (by id) and meters (by code) in ``session``.

    A meter's energy type, unit and reading kind never change once created (its stored
    readings are in them): a different value raises ``ValueError`` naming the meter.
    """
    known = {e.id: e for e in session.exec(select(Entity)).all()}
    created_e = sum(1 for e in {r.id for r in entities} if e not in known)
    for record in entities:
        entity = known.get(record.id) or Entity(id=record.id, name=record.name, sector="")
        for name in ("name", "sector", "industry_code", "region", "grid_region"):
            setattr(entity, name, str(getattr(record, name)))
        session.add(entity)
        known[record.id] = entity
    created_m, updated_m = _upsert_meters(session, meters, set(known))
    return RegistryOutcome(created_e, len(entities) - created_e, created_m, updated_m)


def _upsert_meters(
    session: Session, meters: Sequence[MeterRecord], entity_ids: set[str]
) -> tuple[int, int]:
    stored = {m.code: m for m in session.exec(select(Meter)).all()}
    created = updated = 0
    for record in meters:
        spec = record.spec
        if record.entity_id not in entity_ids:
            raise ValueError(f"meter {spec.code}: entity {record.entity_id!r} does not exist")
        meter = stored.get(spec.code)
        if meter is None:
            meter = Meter(
                code=spec.code,
                entity_id=record.entity_id,
                energy_type=spec.energy_type.value,
                unit=spec.unit,
                reading_kind=spec.reading_kind.value,
            )
            created += 1
        else:
            _check_fixed(meter, spec)
            updated += 1
        meter.entity_id = record.entity_id
        meter.rated_max_per_interval = spec.rated_max_per_interval
        meter.counter_rollover = spec.counter_rollover
        meter.steam_enthalpy_kj_per_kg = record.steam_enthalpy_kj_per_kg
        session.add(meter)
        stored[spec.code] = meter
    return created, updated


def _check_fixed(row: Meter, spec: MeterSpec) -> None:
    for name in _FIXED:
        old, new = getattr(row, name), str(getattr(spec, name))
        if old != new:
            raise ValueError(
                f"meter {spec.code}: {name} cannot change (stored as {old!r}, given {new!r})"
            )
