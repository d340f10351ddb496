"""Reading files -> :class:`~accounting.readings.RawReadings`, parsed with pyarrow.

The formats are documented in ``docs/ingest-formats.md``: CSV (header
``meter,timestamp,quantity[,unit]``), JSON (``{"readings": [{meter, timestamp, quantity,
unit?}]}``) and Parquet (the same columns). Files are read in chunks of about ``chunk_rows``
records. A record whose timestamp or quantity does not parse, or a CSV line with the wrong
number of fields, is rejected on its own (row number, field, reason); only a file whose
structure is wrong (header, top-level shape, column types) raises :class:`FormatError`.

Row numbers: CSV rows are line numbers (the header is row 1, the first reading row 2, as a
spreadsheet shows them); JSON rows count the ``readings`` entries from 1; Parquet rows count the
file's rows from 1.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from numpy.typing import NDArray

from accounting.readings import RawReadings, Rejection
from finance_engine.storage.timestamps import parse_timestamps
from finance_engine.storage.timezones import wall_to_utc_s

FORMATS = ("csv", "json", "parquet")
REQUIRED = ("meter", "timestamp", "quantity")
OPTIONAL = ("unit",)
_STRUCT = pa.struct(
    [
        ("meter", pa.string()),
        ("timestamp", pa.string()),
        ("quantity", pa.float64()),
        ("unit", pa.string()),
    ]
)
_NUMBER = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"


class FormatError(ValueError):
    """The file's structure is wrong; the message names the file and what is wrong."""


@dataclass(frozen=True, eq=False)
class ParsedChunk:
    """A chunk of a reading file: the readings that parsed and the rows that did not."""

    raw: RawReadings
    rejections: tuple[Rejection, ...]
    rows: int
    """Records in the chunk, parsed or not (blank CSV lines are not records)."""


def detect_format(path: Path, explicit: str | None = None) -> str:
    """``csv``, ``json`` or ``parquet``: ``explicit`` if given, else from the file suffix."""
    fmt = (explicit or path.suffix.lstrip(".")).lower()
    fmt = {"pq": "parquet", "jsonl": "json"}.get(fmt, fmt)
    if fmt not in FORMATS:
        raise FormatError(
            f"{path}: cannot tell the format from the suffix {path.suffix!r}; "
            "use --format csv, json or parquet"
        )
    return fmt


def read_readings(
    path: Path, *, fmt: str | None = None, timezone: ZoneInfo, chunk_rows: int = 1_000_000
) -> Iterator[ParsedChunk]:
    """Parse a reading file chunk by chunk (naive timestamps are read in ``timezone``)."""
    readers = {"csv": _read_csv, "json": _read_json, "parquet": _read_parquet}
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    yield from readers[detect_format(path, fmt)](path, timezone, chunk_rows)


def _strings(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A plain ``string`` array (chunks combined, dictionaries decoded); not trimmed."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    return column.cast(pa.string())


def _trimmed(text: pa.Array) -> pa.Array:
    """``text`` without surrounding whitespace (trimming only when some value has any)."""
    padded = pc.any(pc.match_substring_regex(text, r"^\s|\s$")).as_py()
    return pc.utf8_trim_whitespace(text) if padded else text


def _encode(column: pa.Array) -> tuple[NDArray[np.int32], tuple[str, ...]]:
    """Dictionary-encode strings, trimmed; null and blank become -1."""
    encoded = pc.dictionary_encode(column)
    distinct: dict[str, int] = {}
    remap = np.array(
        [distinct.setdefault(str(v).strip(), len(distinct)) for v in encoded.dictionary.to_pylist()]
        + [-1],
        dtype=np.int32,
    )
    values = tuple(distinct)
    if "" in distinct:
        remap[remap == distinct[""]] = -1
    indices = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    return remap[indices], values


def _text_at(column: pa.Array, index: NDArray[np.intp]) -> list[Any]:
    return column.take(pa.array(index)).to_pylist() if len(index) else []


def parse_quantities(column: pa.Array) -> tuple[NDArray[np.float64], dict[int, str]]:
    """Numbers (numeric column, or decimal text) -> float64, and why others do not parse."""
    if (
        pa.types.is_integer(column.type)
        or pa.types.is_floating(column.type)
        or (pa.types.is_decimal(column.type))
    ):
        values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
        missing = np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))
        return np.nan_to_num(values, nan=0.0) if len(missing) else values, dict.fromkeys(
            missing.tolist(), "missing"
        )
    text = _trimmed(_strings(column))
    ok = pc.match_substring_regex(text, _NUMBER).fill_null(False)
    values = pc.cast(pc.if_else(ok, text, "0"), pa.float64()).to_numpy(zero_copy_only=False)
    bad = np.flatnonzero(~ok.to_numpy(zero_copy_only=False))
    reasons = {
        i: "missing" if not v else f"{v!r} is not a number"
        for i, v in zip(bad.tolist(), _text_at(text, bad), strict=True)
    }
    return values, reasons


def parse_columns(
    columns: dict[str, pa.Array],
    rows: NDArray[np.int64],
    tz: ZoneInfo,
    *,
    timestamps: tuple[NDArray[np.int64], dict[int, str]] | None = None,
) -> ParsedChunk:
    """Parse one chunk's columns (``meter``, ``timestamp``, ``quantity``, optional ``unit``).

    ``timestamps`` (epoch seconds UTC and reasons for the bad ones) replaces parsing
    ``columns["timestamp"]`` when the caller has typed timestamps (Parquet).
    """
    if timestamps is None:
        timestamps = parse_timestamps(_strings(columns["timestamp"]), tz)
    timestamps_s, t_reasons = timestamps
    quantity, q_reasons = parse_quantities(columns["quantity"])
    rejections = [Rejection(int(rows[i]), "timestamp", r) for i, r in t_reasons.items()]
    rejections += [
        Rejection(int(rows[i]), "quantity", r) for i, r in q_reasons.items() if i not in t_reasons
    ]
    good = np.ones(len(rows), dtype=bool)
    good[list(t_reasons) + list(q_reasons)] = False
    meter_ref, meter_codes = _encode(_strings(columns["meter"]))
    unit_ref: NDArray[np.int32] | None = None
    units: tuple[str, ...] = ()
    if "unit" in columns:
        unit_ref, units = _encode(_strings(columns["unit"]))
    raw = RawReadings(
        row=rows[good],
        meter_ref=meter_ref[good],
        meter_codes=meter_codes,
        timestamp_s=timestamps_s[good],
        quantity=quantity[good],
        unit_ref=None if unit_ref is None else unit_ref[good],
        units=units,
    )
    return ParsedChunk(raw, tuple(sorted(rejections)), len(rows))


def check_columns(names: Sequence[str], where: str) -> None:
    """Refuse a header or schema without the required columns or with unknown ones."""
    missing = [c for c in REQUIRED if c not in names]
    unknown = [c for c in names if c not in REQUIRED + OPTIONAL]
    duplicated = sorted({c for c in names if list(names).count(c) > 1})
    expected = "expected meter, timestamp, quantity and optionally unit"
    if missing:
        raise FormatError(f"{where}: missing column {', '.join(missing)} ({expected})")
    if unknown:
        raise FormatError(f"{where}: unknown column {', '.join(map(repr, unknown))} ({expected})")
    if duplicated:
        raise FormatError(f"{where}: column {', '.join(duplicated)} appears twice")


def _read_csv(path: Path, tz: ZoneInfo, chunk_rows: int) -> Iterator[ParsedChunk]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = [h.strip().lower() for h in handle.readline().rstrip("\r\n").split(",")]
    check_columns(header, f"{path}: CSV header")
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(
            skip_rows=1, column_names=["line"], block_size=_block_size(chunk_rows)
        ),
        parse_options=pacsv.ParseOptions(
            delimiter="\x01", quote_char=False, ignore_empty_lines=False
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={"line": pa.string()}, strings_can_be_null=False
        ),
    )
    first_line, pending, size = 2, [], 0
    try:
        for block in reader:
            pending.append(block.column(0))
            size += block.num_rows
            if size >= chunk_rows:
                yield _csv_chunk(pa.concat_arrays(pending), header, first_line, tz)
                first_line, pending, size = first_line + size, [], 0
    except pa.ArrowInvalid as exc:
        raise FormatError(f"{path}: not a UTF-8 text CSV file ({exc})") from None
    if pending:
        yield _csv_chunk(pa.concat_arrays(pending), header, first_line, tz)


def _block_size(chunk_rows: int) -> int:
    """Bytes per CSV read block: about a tenth of a chunk (lines are ~50 bytes), 4 KiB-8 MiB."""
    return int(min(8 << 20, max(4 << 10, chunk_rows * 5)))


def _csv_chunk(lines: pa.Array, header: list[str], first_line: int, tz: ZoneInfo) -> ParsedChunk:
    line_no = np.arange(first_line, first_line + len(lines), dtype=np.int64)
    blank = pc.equal(pc.utf8_trim_whitespace(lines), "").to_numpy(zero_copy_only=False)
    fields = pc.split_pattern(lines, ",")
    count = pc.list_value_length(fields).to_numpy(zero_copy_only=False)
    good = (count == len(header)) & ~blank
    wrong = np.flatnonzero(~good & ~blank)
    rejections = tuple(
        Rejection(int(line_no[i]), "row", f"expected {len(header)} fields, got {int(count[i])}")
        for i in wrong
    )
    kept = fields.filter(pa.array(good))
    columns = {name: pc.list_element(kept, i) for i, name in enumerate(header)}
    chunk = parse_columns(columns, line_no[good], tz)
    return ParsedChunk(
        chunk.raw, tuple(sorted(chunk.rejections + rejections)), chunk.rows + len(wrong)
    )


def _read_json(path: Path, tz: ZoneInfo, chunk_rows: int) -> Iterator[ParsedChunk]:
    text = path.read_text(encoding="utf-8-sig")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("readings"), list):
        raise FormatError(f"{path}: the top level must be an object with a 'readings' list")
    if unknown := sorted(set(document) - {"readings"}):
        raise FormatError(f"{path}: unknown top-level key {', '.join(map(repr, unknown))}")
    readings: list[Any] = document["readings"]
    suspicious = re.search(r'"quantity"\s*:\s*(true|false)', text) is not None
    for start in range(0, len(readings), chunk_rows):
        yield _json_chunk(readings[start : start + chunk_rows], start + 1, tz, suspicious)


def _json_chunk(items: list[Any], first_row: int, tz: ZoneInfo, suspicious: bool) -> ParsedChunk:
    rows = np.arange(first_row, first_row + len(items), dtype=np.int64)
    try:
        if suspicious or not set().union(*map(dict.keys, items)) <= set(REQUIRED + OPTIONAL):
            raise TypeError("needs the row-by-row check")
        table = pa.array(items, type=_STRUCT)
    except (TypeError, pa.ArrowInvalid, pa.ArrowTypeError):
        return _json_chunk_checked(items, rows, tz)
    columns = {name: table.field(name) for name in REQUIRED + OPTIONAL}
    return parse_columns(columns, rows, tz)


def _json_reading_problem(item: Any) -> tuple[str, str] | None:
    if not isinstance(item, dict):
        return "reading", "must be an object"
    if unknown := sorted(set(item) - set(REQUIRED + OPTIONAL)):
        return str(unknown[0]), "unknown field"
    for name in ("meter", "timestamp", "unit"):
        if item.get(name) is not None and not isinstance(item[name], str):
            return name, "must be a string"
    quantity = item.get("quantity")
    if quantity is not None and (
        isinstance(quantity, bool) or not isinstance(quantity, int | float)
    ):
        return "quantity", "must be a number"
    return None


def _json_chunk_checked(items: list[Any], rows: NDArray[np.int64], tz: ZoneInfo) -> ParsedChunk:
    """The slow path for chunks with malformed readings: checked one by one (only then)."""
    problems = [_json_reading_problem(item) for item in items]
    rejections = tuple(
        Rejection(int(r), p[0], p[1]) for r, p in zip(rows.tolist(), problems, strict=True) if p
    )
    fine = [item for item, p in zip(items, problems, strict=True) if p is None]
    keep = np.array([p is None for p in problems], dtype=bool)
    table = pa.array(fine, type=_STRUCT)
    chunk = parse_columns({n: table.field(n) for n in REQUIRED + OPTIONAL}, rows[keep], tz)
    return ParsedChunk(chunk.raw, tuple(sorted(chunk.rejections + rejections)), len(items))


def _read_parquet(path: Path, tz: ZoneInfo, chunk_rows: int) -> Iterator[ParsedChunk]:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise FormatError(f"{path}: not a Parquet file ({exc})") from None
    schema = parquet.schema_arrow
    check_columns(schema.names, f"{path}: Parquet schema")
    ts_type = schema.field("timestamp").type
    if not (
        pa.types.is_timestamp(ts_type)
        or pa.types.is_string(ts_type)
        or pa.types.is_large_string(ts_type)
    ):
        raise FormatError(
            f"{path}: column timestamp must be a timestamp or ISO 8601 text, not {ts_type}"
        )
    first_row = 1
    for batch in parquet.iter_batches(batch_size=chunk_rows):
        rows = np.arange(first_row, first_row + batch.num_rows, dtype=np.int64)
        columns = {name: batch.column(name) for name in schema.names}
        typed = pa.types.is_timestamp(ts_type)
        timestamps = _typed_timestamps(columns["timestamp"], tz) if typed else None
        yield parse_columns(columns, rows, tz, timestamps=timestamps)
        first_row += batch.num_rows


def _typed_timestamps(column: pa.Array, tz: ZoneInfo) -> tuple[NDArray[np.int64], dict[int, str]]:
    """Epoch seconds UTC of an Arrow timestamp column (naive ones are local wall times)."""
    seconds = pc.cast(column, pa.timestamp("s", column.type.tz), safe=False)
    values = seconds.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
    missing = np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))
    utc = values if column.type.tz else wall_to_utc_s(values, tz)
    return utc, dict.fromkeys(missing.tolist(), "missing")
