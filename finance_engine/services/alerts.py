"""Alerts service: evaluate the alert rules on stored readings; list stored alerts.

:func:`evaluate_alerts` loads the interval data of some meters for the evaluated period plus the
baseline weeks before it into dense ``(meters, slots)`` arrays (vectorised fill from the stored
meter-day rows), runs :func:`accounting.alerts.detect_alerts` and stores the alerts
idempotently: the key is ``(meter_id, kind, interval_start_s)``, inserted with ``ON CONFLICT DO
NOTHING`` on both SQLite and PostgreSQL, so evaluating the same period again adds nothing.
Ingest calls it after storing a batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Engine, Table, case, select
from sqlalchemy.dialects import postgresql, sqlite

from accounting.alert_calendar import HolidayCalendar, load_holiday_calendar
from accounting.alerts import (
    INTERVAL_S,
    SLOTS_PER_WEEK,
    AlertConfig,
    AlertKind,
    MeterAlert,
    Severity,
    detect_alerts,
    load_alert_config,
)
from accounting.energy import EnergyType
from accounting.readings import ReadingFlag
from finance_engine.models import Alert, Meter, ReadingDay, utcnow
from finance_engine.storage.daypack import DAY_S, SLOTS_PER_DAY, decode

COUNTER_RESET_FLAG = int(ReadingFlag.COUNTER_RESET)
"""Reading flag bit set by ingest where a counter restarted from zero."""

NOT_AN_INTERVAL_FLAGS = int(ReadingFlag.ANCHOR | ReadingFlag.SPANS_GAP)
"""Readings with these flags are not one interval's consumption (a counter's first reading, or
a counter difference over several intervals kept whole): loaded as missing."""

GENERATION_TYPES = frozenset({EnergyType.RENEWABLE_SELF_CONSUMED, EnergyType.RENEWABLE_EXPORTED})
"""Meters of these types measure generation: no over-consumption rule."""

METERS_PER_CHUNK = 256
"""Meters loaded and evaluated at once (bounds memory: 256 × a year of slots ≈ 80 MB)."""

_DAYS_PER_PART = 4096
"""Meter-day rows fetched from the database per block (about 400k readings)."""

_ALERTS: Table = Alert.__table__  # type: ignore[attr-defined]
_METERS: Table = Meter.__table__  # type: ignore[attr-defined]
_DAYS: Table = ReadingDay.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class AlertView:
    """A stored alert as listed to users (quantities in the meter's native ``unit``)."""

    id: int
    meter_id: int
    meter_code: str
    entity_id: str
    energy_type: str
    unit: str
    kind: str
    severity: str
    interval_start_s: int
    interval_end_s: int
    expected: float | None
    actual: float | None
    message: str
    status: str
    batch_id: int | None


@lru_cache(maxsize=1)
def default_alert_config() -> AlertConfig:
    """The packaged alert configuration, loaded once per process."""
    return load_alert_config()


@lru_cache(maxsize=1)
def default_holiday_calendar() -> HolidayCalendar:
    """The packaged public-holiday calendar, loaded once per process."""
    return load_holiday_calendar()


def evaluate_alerts(
    engine: Engine,
    meter_ids: Sequence[int],
    start_s: int,
    end_s: int,
    batch_id: int | None = None,
    *,
    config: AlertConfig | None = None,
    timezone: str = "Asia/Shanghai",
    holidays: HolidayCalendar | None = None,
) -> int:
    """Evaluate the alert rules for ``meter_ids`` over ``[start_s, end_s)`` and store new alerts.

    Parameters
    ----------
    engine:
        The database.
    meter_ids:
        Meters to evaluate (``meter.id``); unknown ids are ignored.
    start_s, end_s:
        Evaluated period, epoch seconds UTC (widened to the 15-minute grid). Readings from
        ``baseline_weeks`` weeks before ``start_s`` are read for the baseline.
    batch_id:
        Ingest batch recorded on the new alerts.
    config:
        Thresholds; default the packaged ``alerts-v1``.
    timezone:
        IANA zone of the local days (baseline calendar, messages); it must not observe
        daylight saving time over the period (Asia/Shanghai does not).
    holidays:
        Public holidays and exchanged working days; default the packaged ``cn-holidays-v1``.

    Returns
    -------
    int
        How many alerts were new (already stored ones are left as they are).
    """
    if end_s < start_s:
        raise ValueError(f"end_s: {end_s} is before start_s {start_s}")
    config = config or default_alert_config()
    start_s = start_s - start_s % INTERVAL_S
    end_s = -(-end_s // INTERVAL_S) * INTERVAL_S
    ids = np.unique(np.asarray(list(meter_ids), dtype=np.int64))
    if end_s == start_s or ids.size == 0:
        return 0
    window = _Window(
        start_s,
        end_s,
        batch_id,
        config,
        _utc_offset_s(timezone, start_s),
        holidays or default_holiday_calendar(),
    )
    new = 0
    with engine.begin() as conn:
        for lo in range(0, ids.size, METERS_PER_CHUNK):  # bounded memory; vectorised inside
            new += _evaluate_chunk(conn, ids[lo : lo + METERS_PER_CHUNK], window)
    return new


@dataclass(frozen=True)
class _Window:
    """What every chunk of one evaluation shares."""

    start_s: int
    end_s: int
    batch_id: int | None
    config: AlertConfig
    offset_s: int
    holidays: HolidayCalendar

    @property
    def first_s(self) -> int:
        """Start of the loaded history, epoch seconds."""
        return self.start_s - self.config.baseline_weeks * SLOTS_PER_WEEK * INTERVAL_S

    def day_kind(self) -> NDArray[np.int8]:
        """Working/rest kind of every local day from ``first_s`` to ``end_s``."""
        first_local = (self.first_s + self.offset_s) // 86_400
        last_local = (self.end_s - 1 + self.offset_s) // 86_400
        first_day = datetime.fromtimestamp(first_local * 86_400, UTC).date()
        return self.holidays.day_kinds(first_day, last_local - first_local + 1)


def _utc_offset_s(timezone: str, at_s: int) -> int:
    offset = datetime.fromtimestamp(at_s, UTC).astimezone(ZoneInfo(timezone)).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _evaluate_chunk(conn: Connection, meter_ids: NDArray[np.int64], window: _Window) -> int:
    meters = conn.execute(
        select(_METERS.c.id, _METERS.c.entity_id, _METERS.c.energy_type)
        .where(_METERS.c.id.in_([int(i) for i in meter_ids]))
        .order_by(_METERS.c.id)
    ).all()
    if not meters:
        return 0
    ids = np.array([m.id for m in meters], dtype=np.int64)
    quantity, resets = load_dense(conn, ids, window.first_s, window.end_s)
    consumption = np.array([m.energy_type not in GENERATION_TYPES for m in meters], dtype=np.bool_)
    alerts = detect_alerts(
        quantity,
        window.first_s,
        window.config,
        eval_from_slot=(window.start_s - window.first_s) // INTERVAL_S,
        reset_mask=resets,
        over_consumption_meters=consumption,
        utc_offset_s=window.offset_s,
        day_kind=window.day_kind(),
    )
    rows = [_alert_row(a, meters[a.meter_index], window.batch_id) for a in alerts]
    return _insert_new(conn, rows)


def load_dense(
    conn: Connection, meter_ids: NDArray[np.int64], first_s: int, end_s: int
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Stored readings of ``meter_ids`` (sorted) in ``[first_s, end_s)`` as dense arrays.

    The stored meter-day rows are already dense: each block of rows is decoded with one
    ``frombuffer`` per column and placed in a ``(meters, days, 96)`` array, then cut to the
    slots of ``[first_s, end_s)`` (``first_s`` on the 15-minute grid).

    Returns
    -------
    (quantity, resets):
        ``(meters, slots)`` float64 native-unit quantities with ``NaN`` where nothing is stored
        (or the reading is not one interval's consumption, see :data:`NOT_AN_INTERVAL_FLAGS`),
        and bool, True where the reading carries the counter-reset flag.
    """
    slots = (end_s - first_s) // INTERVAL_S
    first_day, last_day = first_s // DAY_S, (end_s - 1) // DAY_S
    shape = (meter_ids.size, last_day - first_day + 1, SLOTS_PER_DAY)
    quantity = np.full(shape, np.nan)
    flags = np.zeros(shape, dtype=np.int16)
    query = (
        select(_DAYS.c.meter_id, _DAYS.c.day, _DAYS.c.quantity, _DAYS.c.flags)
        .where(_DAYS.c.meter_id.in_([int(i) for i in meter_ids]))
        .where(_DAYS.c.day >= first_day, _DAYS.c.day <= last_day)
        .execution_options(yield_per=_DAYS_PER_PART)
    )
    for part in conn.execute(query).partitions():  # a loop over blocks; each is one numpy fill
        ids, days, quantities, flag_blobs = zip(*part, strict=True)
        row = np.searchsorted(meter_ids, np.asarray(ids, dtype=np.int64))
        day = np.asarray(days, dtype=np.int64) - first_day
        quantity[row, day] = decode(quantities, "quantity", len(part))
        flags[row, day] = decode(flag_blobs, "flags", len(part))
    first = (first_s - first_day * DAY_S) // INTERVAL_S
    cut = slice(first, first + slots)
    flags_2d = flags.reshape(meter_ids.size, -1)[:, cut]
    values = quantity.reshape(meter_ids.size, -1)[:, cut]
    values = np.where(flags_2d & NOT_AN_INTERVAL_FLAGS, np.nan, values)
    return values, (flags_2d & COUNTER_RESET_FLAG) != 0


def _alert_row(alert: MeterAlert, meter: Any, batch_id: int | None) -> dict[str, Any]:
    return {
        "meter_id": int(meter.id),
        "entity_id": meter.entity_id,
        "kind": alert.kind.value,
        "severity": alert.severity.value,
        "interval_start_s": alert.interval_start_s,
        "interval_end_s": alert.interval_end_s,
        "expected": alert.expected,
        "actual": alert.actual,
        "message": alert.message[:500],
        "status": "open",
        "batch_id": batch_id,
        "created_at": utcnow(),
    }


def _insert_new(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """Insert ``rows`` into ``alert``, skipping existing keys; the number inserted."""
    if not rows:
        return 0
    dialect = conn.dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(_ALERTS)
    elif dialect == "sqlite":
        stmt = sqlite.insert(_ALERTS)
    else:
        raise NotImplementedError(f"alerts: database {dialect!r} is not supported")
    stmt = stmt.on_conflict_do_nothing(
        index_elements=["meter_id", "kind", "interval_start_s"]
    ).returning(_ALERTS.c.id)
    return len(conn.execute(stmt, rows).all())


def list_alerts(
    engine: Engine,
    entity_id: str | None = None,
    kind: str | None = None,
    severity: str | None = None,
    since: int | None = None,
    limit: int = 100,
) -> list[AlertView]:
    """Stored alerts, most severe first, then newest first.

    Parameters
    ----------
    entity_id:
        Only this entity's alerts.
    kind:
        Only this kind (``over_consumption``, ``flat_line``, ``counter_reset``, ``gap``).
    severity:
        Only this severity (``info``, ``warning``, ``critical``).
    since:
        Only alerts whose interval starts at or after this epoch second (UTC).
    limit:
        At most this many (1-10,000).
    """
    _check_filters(kind, severity, limit)
    rank = case({s.value: s.rank for s in Severity}, value=_ALERTS.c.severity, else_=-1)
    query = (
        select(_ALERTS, _METERS.c.code, _METERS.c.energy_type, _METERS.c.unit)
        .join(_METERS, _METERS.c.id == _ALERTS.c.meter_id)
        .order_by(rank.desc(), _ALERTS.c.interval_start_s.desc(), _ALERTS.c.id)
        .limit(limit)
    )
    if entity_id is not None:
        query = query.where(_ALERTS.c.entity_id == entity_id)
    if kind is not None:
        query = query.where(_ALERTS.c.kind == kind)
    if severity is not None:
        query = query.where(_ALERTS.c.severity == severity)
    if since is not None:
        query = query.where(_ALERTS.c.interval_start_s >= since)
    with engine.connect() as conn:
        return [_view(r) for r in conn.execute(query).all()]


def _check_filters(kind: str | None, severity: str | None, limit: int) -> None:
    if kind is not None and kind not in {k.value for k in AlertKind}:
        raise ValueError(f"kind: {kind!r} is not one of {', '.join(k.value for k in AlertKind)}")
    if severity is not None and severity not in {s.value for s in Severity}:
        allowed = ", ".join(s.value for s in Severity)
        raise ValueError(f"severity: {severity!r} is not one of {allowed}")
    if not 1 <= limit <= 10_000:
        raise ValueError(f"limit: {limit} is not between 1 and 10000")


def _view(row: Any) -> AlertView:
    return AlertView(
        id=row.id,
        meter_id=row.meter_id,
        meter_code=row.code,
        entity_id=row.entity_id,
        energy_type=row.energy_type,
        unit=row.unit,
        kind=row.kind,
        severity=row.severity,
        interval_start_s=int(row.interval_start_s),
        interval_end_s=int(row.interval_end_s),
        expected=row.expected,
        actual=row.actual,
        message=row.message,
        status=row.status,
        batch_id=row.batch_id,
    )
