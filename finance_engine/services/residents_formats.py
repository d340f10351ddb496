"""Resident event files -> :class:`~accounting.resident_events.RawResidentEvents` (pyarrow).

Formats (``docs/residents.md``):

- CSV with header ``event_id,resident_id,occurred_at,behaviour,quantity[,unit]``; rows are line
  numbers (the header is row 1);
- JSON ``{"events": [{"event_id", "resident_id", "occurred_at", "behaviour", "quantity",
  "unit"?}, ...]}``; rows count the entries from 1.

``occurred_at`` is ISO 8601; naive times are local (``FINANCE_ENGINE_TIMEZONE``). A field that
does not parse rejects its row (row, field, reason). A wrong header or top-level shape, and in
CSV a line with the wrong number of fields (blank lines included, so that row numbers stay line
numbers), raise :class:`~finance_engine.storage.formats.FormatError`: a file is parsed chunk by
chunk, so such a line refuses the chunk it is in and the chunks after it (earlier chunks stay
stored; re-sending the corrected file is safe, as ingest is idempotent).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from numpy.typing import NDArray

from accounting.readings import Rejection
from accounting.resident_events import RawResidentEvents
from finance_engine.storage.formats import FormatError, parse_quantities
from finance_engine.storage.timestamps import parse_timestamps

REQUIRED = ("event_id", "resident_id", "occurred_at", "behaviour", "quantity")
OPTIONAL = ("unit",)
EVENT_FORMATS = ("csv", "json")
_INTEGER = r"^\s*\+?\d{1,18}\s*$"
_BLOCK_BYTES = 4 << 20


def _strings(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    return pc.utf8_trim_whitespace(column.cast(pa.string()))


def _encode(column: pa.Array) -> tuple[NDArray[np.int32], tuple[str, ...]]:
    """Dictionary-encode strings; null and empty become -1."""
    encoded = pc.dictionary_encode(column)
    values = tuple(str(v) for v in encoded.dictionary.to_pylist())
    ref = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
    if "" in values:
        ref[ref == values.index("")] = -1
    return ref, values


def _integers(
    column: pa.Array, name: str, rows: NDArray[np.int64]
) -> tuple[NDArray[np.int64], list[Rejection]]:
    text = _strings(column)
    ok = pc.match_substring_regex(text, _INTEGER).fill_null(False)
    values = pc.cast(pc.if_else(ok, text, "0"), pa.int64()).to_numpy(zero_copy_only=False)
    bad = np.flatnonzero(~ok.to_numpy(zero_copy_only=False))
    given = text.take(pa.array(bad)).to_pylist() if len(bad) else []
    return values, [
        Rejection(int(rows[i]), name, "missing" if not v else f"{v!r} is not a positive integer")
        for i, v in zip(bad.tolist(), given, strict=True)
    ]


def parse_event_columns(
    columns: dict[str, pa.Array], rows: NDArray[np.int64], tz: ZoneInfo
) -> tuple[RawResidentEvents, list[Rejection]]:
    """Parse one chunk's columns; rows whose fields do not parse are rejected, not returned."""
    event_id, rejected = _integers(columns["event_id"], "event_id", rows)
    resident_id, more = _integers(columns["resident_id"], "resident_id", rows)
    rejected += more
    occurred, reasons = parse_timestamps(_strings(columns["occurred_at"]), tz)
    rejected += [Rejection(int(rows[i]), "occurred_at", r) for i, r in reasons.items()]
    quantity, q_reasons = parse_quantities(columns["quantity"])
    rejected += [Rejection(int(rows[i]), "quantity", r) for i, r in q_reasons.items()]
    first: dict[int, Rejection] = {}
    for r in rejected:  # one rejection per row: the first field at fault
        first.setdefault(r.row, r)
    good = ~np.isin(rows, np.array(list(first), dtype=np.int64))
    behaviour_ref, names = _encode(_strings(columns["behaviour"]))
    unit_ref, units = (None, ()) if "unit" not in columns else _encode(_strings(columns["unit"]))
    raw = RawResidentEvents(
        row=rows[good],
        event_id=event_id[good],
        resident_id=resident_id[good],
        occurred_at_s=occurred[good],
        behaviour_ref=behaviour_ref[good],
        behaviour_names=names,
        quantity=quantity[good],
        unit_ref=None if unit_ref is None else unit_ref[good],
        units=units,
    )
    return raw, sorted(first.values())


def _check_columns(names: list[str], where: str) -> None:
    expected = f"expected {', '.join(REQUIRED)} and optionally unit"
    if missing := [c for c in REQUIRED if c not in names]:
        raise FormatError(f"{where}: missing column {', '.join(missing)} ({expected})")
    if unknown := [c for c in names if c not in REQUIRED + OPTIONAL]:
        raise FormatError(f"{where}: unknown column {', '.join(map(repr, unknown))} ({expected})")
    if len(set(names)) != len(names):
        raise FormatError(f"{where}: a column appears twice")


def read_event_file(
    path: Path, *, timezone: ZoneInfo, fmt: str | None = None, chunk_rows: int = 1_000_000
) -> Iterator[tuple[RawResidentEvents, list[Rejection], int]]:
    """Parse an event file chunk by chunk: (events, rejected rows, records in the chunk)."""
    kind = (fmt or path.suffix.lstrip(".")).lower()
    if kind not in EVENT_FORMATS:
        raise FormatError(f"{path}: cannot tell the format from {path.suffix!r}; use csv or json")
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    yield from (_read_csv if kind == "csv" else _read_json)(path, timezone, chunk_rows)


def _read_csv(
    path: Path, tz: ZoneInfo, chunk_rows: int
) -> Iterator[tuple[RawResidentEvents, list[Rejection], int]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = [h.strip().lower() for h in handle.readline().rstrip("\r\n").split(",")]
    _check_columns(header, f"{path}: CSV header")
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(
                skip_rows=1, column_names=header, block_size=_BLOCK_BYTES
            ),
            parse_options=pacsv.ParseOptions(ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=True
            ),
        )
        first_row, pending = 2, []
        for batch in reader:
            pending.append(batch)
            if sum(b.num_rows for b in pending) >= chunk_rows:
                yield _csv_chunk(pending, header, first_row, tz)
                first_row += sum(b.num_rows for b in pending)
                pending = []
        if pending:
            yield _csv_chunk(pending, header, first_row, tz)
    except pa.ArrowInvalid as exc:
        raise FormatError(f"{path}: not a well-formed UTF-8 CSV file ({exc})") from None


def _csv_chunk(
    batches: list[pa.RecordBatch], header: list[str], first_row: int, tz: ZoneInfo
) -> tuple[RawResidentEvents, list[Rejection], int]:
    table = pa.Table.from_batches(batches)
    rows = np.arange(first_row, first_row + table.num_rows, dtype=np.int64)
    columns = {name: table.column(name).combine_chunks() for name in header}
    raw, rejected = parse_event_columns(columns, rows, tz)
    return raw, rejected, table.num_rows


def _read_json(
    path: Path, tz: ZoneInfo, chunk_rows: int
) -> Iterator[tuple[RawResidentEvents, list[Rejection], int]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FormatError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        raise FormatError(f"{path}: the top level must be an object with an 'events' list")
    if unknown := sorted(set(document) - {"events"}):
        raise FormatError(f"{path}: unknown top-level key {', '.join(map(repr, unknown))}")
    items: list[Any] = document["events"]
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise FormatError(f"{path}: events[{i}] must be an object")
        if unknown := sorted(set(item) - set(REQUIRED + OPTIONAL)):
            raise FormatError(f"{path}: events[{i}]: unknown field {unknown[0]!r}")
    for start in range(0, len(items), chunk_rows):
        part = items[start : start + chunk_rows]
        columns = {
            name: pa.array([_text(item.get(name)) for item in part], type=pa.string())
            for name in REQUIRED + OPTIONAL
        }
        rows = np.arange(start + 1, start + 1 + len(part), dtype=np.int64)
        raw, rejected = parse_event_columns(columns, rows, tz)
        yield raw, rejected, len(part)


def _text(value: Any) -> str | None:
    """JSON values as text for the shared parsers (numbers keep their JSON spelling)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return repr(value)  # rejected by the number and integer parsers
    return json.dumps(value)
