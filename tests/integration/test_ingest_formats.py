"""Reading files: CSV, JSON and Parquet parse to the same readings; bad rows are rejected alone."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finance_engine.storage.formats import FormatError, ParsedChunk, read_readings

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = 1_704_038_400  # 2024-01-01T00:00:00+08:00

ROWS = [
    ("E1", "2024-01-01T00:00:00+08:00", "1.5", "kWh"),
    ("E1", "2024-01-01 00:15", "2", ""),
    ("G1", "2023-12-31T16:30:00Z", "0.25", "MWh"),
]


def write_csv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def parse(path: Path, zone: ZoneInfo = SHANGHAI, chunk_rows: int = 1000) -> list[ParsedChunk]:
    return list(read_readings(path, timezone=zone, chunk_rows=chunk_rows))


def flat(chunks: list[ParsedChunk]) -> list[tuple[int, str, int, float, str]]:
    """(row, meter, epoch seconds, quantity, unit) of every parsed reading."""
    out = []
    for c in chunks:
        raw = c.raw
        units = raw.unit_ref if raw.unit_ref is not None else [-1] * len(raw)
        for r, m, t, q, u in zip(
            raw.row, raw.meter_ref, raw.timestamp_s, raw.quantity, units, strict=True
        ):
            out.append(
                (int(r), raw.meter_codes[m], int(t), float(q), raw.units[u] if u >= 0 else "")
            )
    return out


def reasons(chunks: list[ParsedChunk]) -> list[str]:
    return [str(r) for c in chunks for r in c.rejections]


EXPECTED = [("E1", T0, 1.5, "kWh"), ("E1", T0 + 900, 2.0, ""), ("G1", T0 + 1800, 0.25, "MWh")]


def test_csv_json_and_parquet_give_the_same_readings(tmp_path: Path) -> None:
    csv_path = write_csv(
        tmp_path / "r.csv", ["meter,timestamp,quantity,unit", *(",".join(r) for r in ROWS)]
    )
    json_path = tmp_path / "r.json"
    json_path.write_text(
        json.dumps(
            {
                "readings": [
                    {"meter": m, "timestamp": t, "quantity": float(q), **({"unit": u} if u else {})}
                    for m, t, q, u in ROWS
                ]
            }
        )
    )
    parquet_path = tmp_path / "r.parquet"
    pq.write_table(
        pa.table(
            {
                "meter": [r[0] for r in ROWS],
                "timestamp": [r[1] for r in ROWS],
                "quantity": [float(r[2]) for r in ROWS],
                "unit": [r[3] or None for r in ROWS],
            }
        ),
        parquet_path,
    )
    by_format = {p.suffix: flat(parse(p)) for p in (csv_path, json_path, parquet_path)}
    assert [r[1:] for r in by_format[".csv"]] == EXPECTED
    assert (
        by_format[".json"] == by_format[".parquet"] == [(i + 1, *e) for i, e in enumerate(EXPECTED)]
    )
    assert [r[0] for r in by_format[".csv"]] == [2, 3, 4]  # CSV rows are line numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-01T00:00:00+08:00", T0),
        ("2024-01-01T00:00+0800", T0),
        ("2024-01-01 00:00:00+08", T0),
        ("2023-12-31T16:00:00Z", T0),
        ("2023-12-31t16:00:00z", T0),
        ("2024-01-01T00:00:00", T0),  # naive: Asia/Shanghai
        ("2024-01-01T00:00", T0),
        ("2024-01-01T00:00:00.4", T0),
        ("2024-01-01T00:00:00.6", T0 + 1),
        ("2023-12-31T11:00:00-05:00", T0),
    ],
)
def test_timestamp_forms(tmp_path: Path, text: str, expected: int) -> None:
    path = write_csv(tmp_path / "r.csv", ["meter,timestamp,quantity", f"E1,{text},1"])
    assert [r[2] for r in flat(parse(path))] == [expected]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "missing"),
        ("2024-02-30T00:00:00", "'2024-02-30T00:00:00' is not a valid date and time"),
        ("2024-01-01T24:00:00", "'2024-01-01T24:00:00' is not a valid date and time"),
        ("01/01/2024 00:00", "'01/01/2024 00:00' is not an ISO 8601 date and time"),
        ("1704038400", "'1704038400' is not an ISO 8601 date and time"),
        ("2024-01-01T00:00:00+15:00", "'2024-01-01T00:00:00+15:00' has a UTC offset out of range"),
    ],
)
def test_unparseable_timestamps_reject_their_row_only(
    tmp_path: Path, text: str, reason: str
) -> None:
    path = write_csv(
        tmp_path / "r.csv", ["meter,timestamp,quantity", f"E1,{text},1", "E1,2024-01-01T00:15,2"]
    )
    chunks = parse(path)
    assert reasons(chunks) == [f"row 2: timestamp: {reason}"]
    assert [r[0] for r in flat(chunks)] == [3]


def test_naive_timestamps_follow_the_configured_zone_through_dst(tmp_path: Path) -> None:
    new_york = ZoneInfo("America/New_York")
    path = write_csv(
        tmp_path / "r.csv",
        [
            "meter,timestamp,quantity",
            "E1,2024-01-15T12:00,1",
            "E1,2024-07-15T12:00,1",
            "E1,2024-11-03T01:30,1",
        ],
    )  # occurs twice: the first
    got = [r[2] for r in flat(parse(path, new_york))]
    assert got == [
        int(datetime(2024, 1, 15, 17).timestamp()) - _local_offset(),
        int(datetime(2024, 7, 15, 16).timestamp()) - _local_offset(),
        int(datetime(2024, 11, 3, 5, 30).timestamp()) - _local_offset(),
    ]


def _local_offset() -> int:
    """``datetime.timestamp`` of a naive datetime assumes the machine's zone; undo that."""
    naive = datetime(2024, 1, 1)
    return int(naive.timestamp() - naive.replace(tzinfo=ZoneInfo("UTC")).timestamp())


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "missing"),
        ("abc", "'abc' is not a number"),
        ("nan", "'nan' is not a number"),
        ("1,5", None),
    ],
)
def test_quantities_must_be_numbers(tmp_path: Path, text: str, reason: str | None) -> None:
    path = write_csv(
        tmp_path / "r.csv", ["meter,timestamp,quantity", f"E1,2024-01-01T00:00,{text}"]
    )
    expected = (
        [f"row 2: quantity: {reason}"] if reason else ["row 2: row: expected 3 fields, got 4"]
    )
    assert reasons(parse(path)) == expected


def test_numbers_in_any_decimal_notation_and_padding_parse(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "r.csv",
        ["meter , Timestamp,quantity", " E1 ,2024-01-01T00:00, 1e3 ", "E1,2024-01-01T00:15,-.5"],
    )
    assert [(r[1], r[3]) for r in flat(parse(path))] == [("E1", 1000.0), ("E1", -0.5)]


def test_csv_lines_with_the_wrong_field_count_blank_lines_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(
        b"\xef\xbb\xbfmeter,timestamp,quantity\r\nE1,2024-01-01T00:00,1\r\n\r\n"
        b"E1,2024-01-01T00:15,2,x\r\nE1,2024-01-01T00:30,3\r\n"
    )
    chunks = parse(path)
    assert reasons(chunks) == ["row 4: row: expected 3 fields, got 4"]
    assert [(r[0], r[3]) for r in flat(chunks)] == [(2, 1.0), (5, 3.0)]
    assert sum(c.rows for c in chunks) == 3  # the blank line is not a reading


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("meter,timestamp", "missing column quantity"),
        ("meter,timestamp,quantity,note", "unknown column 'note'"),
        ("meter,timestamp,quantity,meter", "column meter appears twice"),
    ],
)
def test_csv_header_problems_refuse_the_file(tmp_path: Path, header: str, message: str) -> None:
    path = write_csv(tmp_path / "r.csv", [header, "E1,2024-01-01T00:00,1"])
    with pytest.raises(FormatError, match=message):
        parse(path)


def test_large_csv_files_come_in_chunks_with_continuing_line_numbers(tmp_path: Path) -> None:
    lines = [f"E1,2024-01-01T00:00,{i}" for i in range(3000)]
    path = write_csv(tmp_path / "r.csv", ["meter,timestamp,quantity", *lines])
    chunks = parse(path, chunk_rows=500)
    assert len(chunks) > 2
    readings = flat(chunks)
    assert [r[0] for r in readings] == list(range(2, 3002))
    assert [r[3] for r in readings] == [float(i) for i in range(3000)]


def test_json_rows_with_problems_are_rejected_alone(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(
        json.dumps(
            {
                "readings": [
                    {"meter": "E1", "timestamp": "2024-01-01T00:00", "quantity": 1},
                    5,
                    {"meter": "E1", "timestamp": "2024-01-01T00:15", "quantity": "2"},
                    {"meter": "E1", "timestamp": "2024-01-01T00:15", "quantity": True},
                    {"meter": "E1", "timestamp": 1704039300, "quantity": 2},
                    {"meter": "E1", "timestamp": "2024-01-01T00:30", "quantity": 3, "note": "x"},
                    {"meter": "E1", "timestamp": "2024-01-01T00:45", "quantity": 4.5, "unit": None},
                ]
            }
        )
    )
    chunks = parse(path)
    assert reasons(chunks) == [
        "row 2: reading: must be an object",
        "row 3: quantity: must be a number",
        "row 4: quantity: must be a number",
        "row 5: timestamp: must be a string",
        "row 6: note: unknown field",
    ]
    assert [(r[0], r[3]) for r in flat(chunks)] == [(1, 1.0), (7, 4.5)]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("[]", "top level must be an object with a 'readings' list"),
        ('{"readings": {}}', "top level must be an object with a 'readings' list"),
        ('{"readings": [], "meta": 1}', "unknown top-level key 'meta'"),
        ('{"readings": [', "not valid JSON"),
    ],
)
def test_json_shape_problems_refuse_the_file(tmp_path: Path, document: str, message: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(document)
    with pytest.raises(FormatError, match=message):
        parse(path)


def test_parquet_typed_timestamps_aware_and_naive(tmp_path: Path) -> None:
    aware = pa.array(
        [datetime(2023, 12, 31, 16, 0, tzinfo=ZoneInfo("UTC")), None],
        type=pa.timestamp("ms", tz="UTC"),
    )
    naive = pa.array(
        [datetime(2024, 1, 1, 0, 15), datetime(2024, 1, 1, 0, 30)], type=pa.timestamp("us")
    )
    for name, column in (("aware", aware), ("naive", naive)):
        path = tmp_path / f"{name}.parquet"
        pq.write_table(
            pa.table(
                {
                    "meter": pa.array(["E1", "E1"]).dictionary_encode(),
                    "timestamp": column,
                    "quantity": pa.array([1, 2]),
                }
            ),
            path,
        )
        chunks = parse(path)
        if name == "aware":
            assert flat(chunks) == [(1, "E1", T0, 1.0, "")]
            assert reasons(chunks) == ["row 2: timestamp: missing"]
        else:
            assert [r[2] for r in flat(chunks)] == [T0 + 900, T0 + 1800]


def test_parquet_schema_problems_refuse_the_file(tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    pq.write_table(pa.table({"meter": ["E1"], "timestamp": [1.5], "quantity": [1.0]}), path)
    with pytest.raises(FormatError, match="column timestamp must be a timestamp"):
        parse(path)
    pq.write_table(pa.table({"meter": ["E1"], "quantity": [1.0]}), path)
    with pytest.raises(FormatError, match="missing column timestamp"):
        parse(path)


def test_parquet_chunks_number_rows_through_the_file(tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    pq.write_table(
        pa.table(
            {
                "meter": ["E1"] * 25,
                "timestamp": ["2024-01-01T00:00"] * 25,
                "quantity": list(range(25)),
            }
        ),
        path,
    )
    chunks = parse(path, chunk_rows=10)
    assert [c.rows for c in chunks] == [10, 10, 5]
    assert [r[0] for r in flat(chunks)] == list(range(1, 26))


def test_unknown_suffix_needs_an_explicit_format(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.txt", ["meter,timestamp,quantity"])
    with pytest.raises(FormatError, match="use --format"):
        parse(path)
    assert list(read_readings(path, fmt="csv", timezone=SHANGHAI)) == []


def _render(moment: datetime, layout: tuple[str, bool, str]) -> str:
    separator, seconds, offset_style = layout
    text = moment.strftime(f"%Y-%m-%d{separator}%H:%M" + (":%S" if seconds else ""))
    offset = moment.utcoffset()
    if offset is None or offset_style == "naive":
        return text
    minutes = int(offset.total_seconds()) // 60
    sign, hours, mins = "-" if minutes < 0 else "+", abs(minutes) // 60, abs(minutes) % 60
    if offset_style == "Z" and minutes == 0:
        return text + "Z"
    if offset_style == "compact":
        return f"{text}{sign}{hours:02d}{mins:02d}"
    return f"{text}{sign}{hours:02d}:{mins:02d}"


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
            st.sampled_from([None, 0, 480, -300, 330, 840, -720]),
            st.tuples(
                st.sampled_from(["T", " "]),
                st.booleans(),
                st.sampled_from(["colon", "compact", "Z", "naive"]),
            ),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_timestamps_of_mixed_layouts_parse_like_python(
    tmp_path_factory: pytest.TempPathFactory,
    cases: list[tuple[datetime, int | None, tuple[str, bool, str]]],
) -> None:
    lines, expected = ["meter,timestamp,quantity"], []
    for moment, offset_minutes, layout in cases:
        moment = moment.replace(microsecond=0, second=moment.second if layout[1] else 0)
        if offset_minutes is not None and layout[2] != "naive":
            moment = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
        else:
            moment = moment.replace(tzinfo=SHANGHAI)
        lines.append(f"E1,{_render(moment, layout)},1")
        expected.append(int(moment.timestamp()))
    path = write_csv(tmp_path_factory.mktemp("ts") / "r.csv", lines)
    chunks = parse(path)
    assert reasons(chunks) == []
    assert [r[2] for r in flat(chunks)] == expected
