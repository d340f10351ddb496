"""Sector activity data per entity and period: the denominators of intensities.

Records of buildings, transport firms and farms carry their sector's section (``building``,
``transport``, ``agriculture``; fields in :mod:`accounting.calc_sectors`), stored with the record.

Activity files are JSON (``{"activity": [record, ...]}``); each record is validated on its own
so a bad record never takes good ones down with it. A record is keyed (entity, period): sending
the same record again is a duplicate; a different record for a stored key is rejected unless
``replace=True`` (a correction), because accounts already computed from it must stay
explainable (they keep their own copy of the activity they used).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from marshmallow import ValidationError, fields, validate
from sqlalchemy import Engine
from sqlmodel import Session, select

from accounting.calc import ActivitySchema, EnergySchema, PeriodSchema
from accounting.calc_sectors import (
    SECTION_SCHEMAS,
    AgricultureSchema,
    BuildingSchema,
    TransportSchema,
)
from accounting.schema_errors import one_line
from finance_engine.db import unit_of_work
from finance_engine.models import ActivityData, Entity


class ActivityRecordSchema(ActivitySchema):
    """One activity record: entity, period, denominators, declared energy, last intensity."""

    entity_id = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    period = fields.Nested(PeriodSchema, required=True)
    declared_energy = fields.List(fields.Nested(EnergySchema), load_default=list)
    """Energy totals the entity declares for the period (entities without meters)."""
    previous_intensity = fields.Float(
        load_default=None, allow_none=True, validate=validate.Range(min=0, min_inclusive=False)
    )
    """The primary intensity of the previous period, for the year-on-year dimension."""
    building = fields.Nested(BuildingSchema, load_default=None)
    """Building section (type, floor area, climate region, degree days...)."""
    transport = fields.Nested(TransportSchema, load_default=None)
    """Transport section (service, fleet, t-km or p-km...)."""
    agriculture = fields.Nested(AgricultureSchema, load_default=None)
    """Agriculture section (livestock, manure, rice, fertiliser, areas...)."""


@dataclass(frozen=True)
class ActivityReport:
    """What an activity import did: counts and one rejection per bad record."""

    records: int
    stored: int
    replaced: int
    duplicates: int
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "records": self.records,
            "stored": self.stored,
            "replaced": self.replaced,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
        }


def read_activity_file(path: Path) -> list[Any]:
    """The list of raw records in an activity JSON file (``{"activity": [...]}`` or a list)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable JSON file ({exc})") from exc
    records = doc.get("activity") if isinstance(doc, dict) else doc
    if not isinstance(records, list):
        raise ValueError(f"{path}: expected a list under 'activity'")
    return records


def store_activity(
    engine: Engine, records: Sequence[Any], *, replace: bool = False
) -> ActivityReport:
    """Validate and store activity records; bad records are rejected with field and reason."""
    schema = ActivityRecordSchema()
    stored = replaced = duplicates = 0
    rejected: list[dict[str, Any]] = []
    with unit_of_work(engine) as session:
        known = set(session.exec(select(Entity.id)).all())
        for number, raw in enumerate(records, start=1):
            try:
                rec = schema.load(raw) if isinstance(raw, Mapping) else _not_object()
            except ValidationError as exc:
                rejected.append({"record": number, "error": one_line(exc.messages)})
                continue
            if rec["entity_id"] not in known:
                rejected.append(
                    {"record": number, "error": f"entity_id: unknown entity {rec['entity_id']!r}"}
                )
                continue
            outcome = _upsert(session, rec, replace)
            if outcome == "conflict":
                rejected.append(
                    {
                        "record": number,
                        "error": "differs from the stored activity of this entity and period; "
                        "pass --replace to correct it",
                    }
                )
            stored += outcome == "stored"
            replaced += outcome == "replaced"
            duplicates += outcome == "duplicate"
    return ActivityReport(len(records), stored, replaced, duplicates, rejected)


def _not_object() -> dict[str, Any]:
    raise ValidationError({"_schema": ["must be a JSON object"]})


def _data_part(rec: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON column: everything except the key and the two money columns."""
    data: dict[str, Any] = json.loads(
        json.dumps(
            {
                "products": rec["products"],
                "electricity_supplied_mwh": rec["electricity_supplied_mwh"],
                "heat_supplied_gj": rec["heat_supplied_gj"],
                "declared_energy": rec["declared_energy"],
                "previous_intensity": rec["previous_intensity"],
                **{s.value: rec[s.value] for s in SECTION_SCHEMAS if rec[s.value] is not None},
            },
            default=str,
        )
    )
    return data


def _upsert(session: Session, rec: Mapping[str, Any], replace: bool) -> str:
    start: date = rec["period"]["start"]
    end: date = rec["period"]["end"]
    row = session.exec(
        select(ActivityData).where(
            ActivityData.entity_id == rec["entity_id"],
            ActivityData.period_start == start,
            ActivityData.period_end == end,
        )
    ).first()
    new: dict[str, Any] = {
        "value_added_10k_yuan": _money(rec["value_added_10k_yuan"]),
        "output_value_10k_yuan": _money(rec["output_value_10k_yuan"]),
        "data": _data_part(rec),
    }
    if row is None:
        session.add(
            ActivityData(
                entity_id=rec["entity_id"],
                period_start=start,
                period_end=end,
                value_added_10k_yuan=new["value_added_10k_yuan"],
                output_value_10k_yuan=new["output_value_10k_yuan"],
                data=new["data"],
            )
        )
        session.flush()
        return "stored"
    same = all(getattr(row, k) == v for k, v in new.items())
    if same:
        return "duplicate"
    if not replace:
        return "conflict"
    for key, value in new.items():
        setattr(row, key, value)
    session.add(row)
    return "replaced"


def _money(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.01"))


def load_activity(
    session: Session, entity_ids: Sequence[str], start: date, end: date
) -> dict[str, ActivityData]:
    """Stored activity of these entities for exactly this period, by entity id."""
    rows = session.exec(
        select(ActivityData).where(
            ActivityData.period_start == start,
            ActivityData.period_end == end,
        )
    ).all()
    wanted = set(entity_ids)
    return {r.entity_id: r for r in rows if r.entity_id in wanted}
