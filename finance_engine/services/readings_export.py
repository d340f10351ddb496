"""Stored interval readings of chosen meters, as rows people and spreadsheets can read.

Readings are stored packed per meter and day (:mod:`finance_engine.storage.daypack`), which SQL
cannot show directly; :func:`export_readings` unpacks a time range of some meters into one
row per reading: meter, local interval start, quantity and unit, counter value, flags, batch.
Everything but the final text rendering is numpy over whole columns.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Engine, select

from accounting.readings import ReadingFlag
from finance_engine.models import Meter
from finance_engine.storage.daypack import DAY_S, unpack, unpack_batch_ids
from finance_engine.storage.readings import stored_days
from finance_engine.storage.timezones import utc_offsets_s

COLUMNS = ("meter", "interval_start", "quantity", "unit", "counter_value", "flags", "batch_id")
"""Columns of an export, in order."""


class ExportError(ValueError):
    """Unknown meters or a bad range; the message names the field."""


@dataclass(frozen=True, eq=False)
class ReadingsExport:
    """Stored readings as columns of equal length ``n``, in meter then time order.

    ``interval_start`` is ISO 8601 local time with its UTC offset; ``quantity`` is in the
    meter's ``unit``; ``counter_value`` is NaN where the meter reads no counter; ``flags`` are
    the :class:`~accounting.readings.ReadingFlag` names joined by ``|`` (empty for none);
    ``batch_id`` is 0 for readings stored outside an ingest batch.
    """

    meter: NDArray[np.str_]
    interval_start: NDArray[np.str_]
    quantity: NDArray[np.float64]
    unit: NDArray[np.str_]
    counter_value: NDArray[np.float64]
    flags: NDArray[np.str_]
    batch_id: NDArray[np.int32]

    def __len__(self) -> int:
        return len(self.meter)

    def records(self) -> list[dict[str, Any]]:
        """One dict per reading (JSON-ready: ``None`` for no counter)."""
        counters = [None if np.isnan(c) else c for c in self.counter_value.tolist()]
        columns = (
            self.meter.tolist(),
            self.interval_start.tolist(),
            self.quantity.tolist(),
            self.unit.tolist(),
            counters,
            self.flags.tolist(),
            self.batch_id.tolist(),
        )
        return [dict(zip(COLUMNS, row, strict=True)) for row in zip(*columns, strict=True)]

    def to_csv(self) -> str:
        """CSV text with a header line (:data:`COLUMNS`); an empty counter for none."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(
            tuple("" if v is None else v for v in record.values()) for record in self.records()
        )
        return out.getvalue()


def _flag_names(flags: NDArray[np.int16]) -> NDArray[np.str_]:
    names = np.full(flags.shape, "", dtype=object)
    for flag in ReadingFlag:  # a loop over the few flag bits, each a whole-column operation
        if flag.value == 0 or flag.name is None:
            continue
        has = (flags & flag.value) != 0
        names[has] = np.where(names[has] == "", flag.name, names[has] + "|" + flag.name)
    return names.astype(str)


def _local_iso(utc_s: NDArray[np.int64], zone: ZoneInfo) -> NDArray[np.str_]:
    """``YYYY-MM-DDThh:mm+hh:mm`` local times of epoch seconds."""
    if not len(utc_s):
        return np.zeros(0, dtype=str)
    offset = utc_offsets_s(utc_s, zone)
    local = (utc_s + offset).astype("datetime64[s]")
    stamp = np.datetime_as_string(local, unit="m")
    sign = np.where(offset < 0, "-", "+")
    minutes = np.abs(offset) // 60
    hours = np.char.zfill((minutes // 60).astype(str), 2)
    rest = np.char.zfill((minutes % 60).astype(str), 2)
    suffix = np.char.add(np.char.add(np.char.add(sign, hours), ":"), rest)
    return np.char.add(stamp, suffix)


def export_readings(
    engine: Engine,
    meter_codes: Sequence[str],
    *,
    start_s: int,
    end_s: int,
    timezone: str,
) -> ReadingsExport:
    """The stored readings of ``meter_codes`` with interval start in ``[start_s, end_s)``
    (epoch seconds UTC), local times in ``timezone``.

    Raises
    ------
    ExportError
        No meter code, an unknown one (all are named), or an empty range.
    """
    if not meter_codes:
        raise ExportError("meter: name at least one meter code")
    if end_s <= start_s:
        raise ExportError("to: the range must end after it starts")
    meters = Meter.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        found = conn.execute(
            select(meters.c.id, meters.c.code, meters.c.unit).where(
                meters.c.code.in_(list(meter_codes))
            )
        ).all()
    unknown = sorted(set(meter_codes) - {row.code for row in found})
    if unknown:
        raise ExportError(
            f"meter: no meter {', '.join(map(repr, unknown))}; "
            "'finance-engine ingest meters FILE' registers meters"
        )
    days = stored_days(
        engine,
        [row.code for row in found],
        first_day=start_s // DAY_S,
        last_day=(end_s - 1) // DAY_S,
    )
    rows, batch = unpack(days), unpack_batch_ids(days)
    keep = (rows.interval_start_s >= start_s) & (rows.interval_start_s < end_s)
    rows, batch = rows.take(keep), batch[keep]
    ids = np.array([row.id for row in found], dtype=np.int64)
    order = np.argsort(ids)
    at = order[np.searchsorted(ids[order], rows.meter_id)]
    codes = np.array([row.code for row in found], dtype=str)
    units = np.array([row.unit for row in found], dtype=str)
    return ReadingsExport(
        meter=codes[at],
        interval_start=_local_iso(rows.interval_start_s, ZoneInfo(timezone)),
        quantity=rows.quantity,
        unit=units[at],
        counter_value=rows.counter_value,
        flags=_flag_names(rows.flags),
        batch_id=batch,
    )
