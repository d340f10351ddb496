"""Carbon points and levels of residents: the versioned points rules and the table registry.

One JSON file per version (``accounting/data/residents/points-rules-*.json``), effective-dated by
whole months like the factor tables. A rules version gives:

- ``g_co2_per_point``: grams CO2 avoided per carbon point;
- ``daily_caps``: per behaviour, the most quantity per resident and local day that earns
  points (anti-gaming); a cap must not be below the factor table's ``max_per_event``;
- ``levels``: at least five, by cumulative points (``min_points`` strictly increasing from 0).

Rounding: a month's points are ``floor(capped grams / g_co2_per_point)``, computed once per
resident and month (a tolerance of 1e-6 point absorbs float summation error); fractions of a point
are not carried over. Reductions are reported uncapped; only points are capped.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import numpy as np
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from numpy.typing import NDArray

from accounting.factors import canonical_sha256
from accounting.resident_behaviours import (
    N_CODES,
    Behaviour,
    BehaviourTable,
    FactorTableError,
    check_whole_months,
    load_behaviour_table,
    load_json_document,
)
from accounting.schema_errors import one_line

DEFAULT_RESIDENT_DIR: Path = Path(__file__).parent / "data" / "residents"
"""The behaviour factor tables and points rules shipped with the package."""
MIN_LEVELS: Final = 5


class _CapSchema(Schema):
    quantity = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False))
    note = fields.Str(required=True, validate=validate.Length(min=1))


_CapsSchema = Schema.from_dict(
    {b.value: fields.Nested(_CapSchema, required=True) for b in Behaviour}, name="_CapsSchema"
)


class _LevelSchema(Schema):
    level = fields.Int(required=True, validate=validate.Range(min=1))
    name = fields.Str(required=True, validate=validate.Length(min=1, max=32))
    name_zh = fields.Str(required=True, validate=validate.Length(min=1, max=16))
    min_points = fields.Int(required=True, validate=validate.Range(min=0))


class _RulesSchema(Schema):
    version = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    effective_from = fields.Date(required=True)
    effective_to = fields.Date(required=True, allow_none=True)
    description = fields.Str(required=True)
    g_co2_per_point = fields.Float(
        required=True, validate=validate.Range(min=0, min_inclusive=False)
    )
    g_co2_per_point_source = fields.Str(required=True, validate=validate.Length(min=1))
    daily_caps = fields.Nested(_CapsSchema, required=True)
    levels = fields.List(fields.Nested(_LevelSchema), required=True)
    levels_source = fields.Str(required=True, validate=validate.Length(min=1))

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        check_whole_months(data["effective_from"], data.get("effective_to"))
        levels = data["levels"]
        if len(levels) < MIN_LEVELS:
            raise ValidationError(f"at least {MIN_LEVELS} levels are required", "levels")
        if [lv["level"] for lv in levels] != list(range(1, len(levels) + 1)):
            raise ValidationError("must be numbered 1, 2, 3 ... in order", "levels")
        mins = [lv["min_points"] for lv in levels]
        if mins[0] != 0 or any(b <= a for a, b in pairwise(mins)):
            raise ValidationError("min_points must start at 0 and strictly increase", "levels")


@dataclass(frozen=True)
class Level:
    """One level: number (1 lowest), names and the cumulative points it starts at."""

    level: int
    name: str
    name_zh: str
    min_points: int


@dataclass(frozen=True)
class PointsRules:
    """One version of the points rules."""

    version: str
    sha256: str
    effective_from: date
    effective_to: date | None
    description: str
    g_co2_per_point: float
    daily_cap: Mapping[Behaviour, float]
    """Most quantity per resident, local day and behaviour that earns points (canonical unit)."""
    levels: tuple[Level, ...]
    content: dict[str, Any]

    @property
    def daily_cap_by_code(self) -> NDArray[np.float64]:
        """``(N_CODES,)`` daily caps indexed by behaviour code (0 for unused codes)."""
        caps = np.zeros(N_CODES, dtype=np.float64)
        for behaviour, cap in self.daily_cap.items():
            caps[behaviour.code] = cap
        return caps

    @property
    def level_min_points(self) -> NDArray[np.int64]:
        """``(levels,)`` cumulative points at which each level starts."""
        return np.array([lv.min_points for lv in self.levels], dtype=np.int64)

    def level_of(self, cumulative_points: int) -> Level:
        """The level reached with ``cumulative_points``."""
        i = bisect.bisect_right([lv.min_points for lv in self.levels], cumulative_points) - 1
        return self.levels[max(i, 0)]


def levels_of(
    cumulative_points: NDArray[np.int64], min_points: NDArray[np.int64]
) -> NDArray[np.int8]:
    """Level numbers (1 = lowest) of each resident's cumulative points, vectorised."""
    return np.searchsorted(min_points, cumulative_points, side="right").astype(np.int8)


def points_rules_from_content(content: Mapping[str, Any], source: str) -> PointsRules:
    """Validate a points-rules document and build the :class:`PointsRules`."""
    try:
        data = _RulesSchema().load(dict(content))
    except ValidationError as exc:
        raise FactorTableError(one_line(exc.messages, source)) from None
    raw = json.loads(json.dumps(dict(content)))
    return PointsRules(
        version=data["version"],
        sha256=canonical_sha256(raw),
        effective_from=data["effective_from"],
        effective_to=data["effective_to"],
        description=data["description"],
        g_co2_per_point=data["g_co2_per_point"],
        daily_cap=MappingProxyType(
            {Behaviour(k): v["quantity"] for k, v in data["daily_caps"].items()}
        ),
        levels=tuple(Level(**lv) for lv in data["levels"]),
        content=raw,
    )


def load_points_rules(path: Path | str) -> PointsRules:
    """Load and validate one points-rules file; errors name the file and the field."""
    content, name = load_json_document(path)
    return points_rules_from_content(content, name)


class _Dated:
    """Versions with non-overlapping effective ranges; lookup by day."""

    def __init__(self, kind: str, items: Sequence[BehaviourTable | PointsRules]) -> None:
        self.kind = kind
        self.items = sorted(items, key=lambda x: x.effective_from)
        versions = [x.version for x in self.items]
        if dup := sorted({v for v in versions if versions.count(v) > 1}):
            raise FactorTableError(f"duplicate {kind} version {dup[0]!r}")
        for a, b in pairwise(self.items):
            ends_before = a.effective_to is not None and a.effective_to < b.effective_from
            open_ended = a.effective_to is None and a.effective_from < b.effective_from
            if not (ends_before or open_ended):
                raise FactorTableError(
                    f"{kind} {a.version!r} and {b.version!r} have overlapping effective ranges"
                )
        self.starts = [x.effective_from for x in self.items]

    def on(self, day: date) -> BehaviourTable | PointsRules:
        i = bisect.bisect_right(self.starts, day) - 1
        if i >= 0:
            item = self.items[i]
            nxt = self.items[i + 1].effective_from if i + 1 < len(self.items) else None
            if (item.effective_to is None or day <= item.effective_to) and (
                nxt is None or day < nxt
            ):
                return item
        raise FactorTableError(f"no {self.kind} is effective on {day.isoformat()}")

    def get(self, version: str) -> BehaviourTable | PointsRules:
        for item in self.items:
            if item.version == version:
                return item
        known = ", ".join(x.version for x in self.items)
        raise FactorTableError(f"unknown {self.kind} version {version!r} (known: {known})")


class ResidentTables:
    """The behaviour factor tables and points rules, by version and by effective month."""

    def __init__(self, tables: Iterable[BehaviourTable], rules: Iterable[PointsRules]) -> None:
        self._tables = _Dated("behaviour factor table", list(tables))
        self._rules = _Dated("points rules", list(rules))
        if not self._tables.items or not self._rules.items:
            raise FactorTableError("at least one factor table and one points rules file are needed")

    def table_on(self, day: date) -> BehaviourTable:
        """The factor table effective on ``day``."""
        table = self._tables.on(day)
        assert isinstance(table, BehaviourTable)
        return table

    def rules_on(self, day: date) -> PointsRules:
        """The points rules effective on ``day``."""
        rules = self._rules.on(day)
        assert isinstance(rules, PointsRules)
        return rules

    def rules_version(self, version: str) -> PointsRules:
        """The points rules of ``version``."""
        rules = self._rules.get(version)
        assert isinstance(rules, PointsRules)
        return rules

    @property
    def tables(self) -> tuple[BehaviourTable, ...]:
        """All factor tables, by effective date."""
        return tuple(t for t in self._tables.items if isinstance(t, BehaviourTable))

    @property
    def first_day(self) -> date:
        """The first day any factor table covers (events before it cannot be accounted)."""
        return self._tables.items[0].effective_from


def load_resident_tables(path: Path | str = DEFAULT_RESIDENT_DIR) -> ResidentTables:
    """Load ``behaviour-factors-*.json`` and ``points-rules-*.json`` from ``path``."""
    folder = Path(path)
    tables = [load_behaviour_table(f) for f in sorted(folder.glob("behaviour-factors-*.json"))]
    rules = [load_points_rules(f) for f in sorted(folder.glob("points-rules-*.json"))]
    if not tables or not rules:
        raise FactorTableError(
            f"{folder}: needs behaviour-factors-*.json and points-rules-*.json files"
        )
    return ResidentTables(tables, rules)
