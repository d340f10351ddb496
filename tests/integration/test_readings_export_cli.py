"""``finance-engine readings export``: stored readings back as rows, on both backends."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from finance_engine.cli import cli
from finance_engine.cli.common import run_cli

METERS = {
    "entities": [{"id": "F1", "name": "Firm one", "sector": "industry", "industry_code": "C26"}],
    "meters": [
        {"code": "E1", "entity": "F1", "energy_type": "electricity"},
        {"code": "G1", "entity": "F1", "energy_type": "natural_gas", "reading_kind": "cumulative"},
    ],
}
READINGS = """meter,timestamp,quantity,unit
E1,2024-03-01T00:00:00+08:00,412.5,kWh
E1,2024-03-01 00:16,398.0,
E1,2024-03-01T23:45:00+08:00,1.5,MWh
E1,2024-03-02T00:00:00+08:00,7.0,
G1,2024-03-01T00:00:00+08:00,1000,
G1,2024-03-01T00:15:00+08:00,1012.5,
"""


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run_cli(cli, args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def stored(
    engine: Engine,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Path:
    monkeypatch.setenv("FINANCE_ENGINE_DATABASE_URL", db_url)
    monkeypatch.setenv("FINANCE_ENGINE_INSTANCE_PATH", str(tmp_path / "instance"))
    (tmp_path / "meters.json").write_text(json.dumps(METERS))
    (tmp_path / "readings.csv").write_text(READINGS)
    assert run(["ingest", "meters", str(tmp_path / "meters.json")], capsys)[0] == 0
    assert run(["ingest", "readings", str(tmp_path / "readings.csv"), "--json"], capsys)[0] == 0
    return tmp_path


def test_export_prints_each_stored_reading_with_its_local_time_flags_and_batch(
    stored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        ["readings", "export", "E1", "G1", "--from", "2024-03-01", "--to", "2024-03-01"], capsys
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["meter"], r["interval_start"], float(r["quantity"]), r["unit"]) for r in rows] == [
        ("E1", "2024-03-01T00:00+08:00", 412.5, "kWh"),
        ("E1", "2024-03-01T00:15+08:00", 398.0, "kWh"),
        ("E1", "2024-03-01T23:45+08:00", 1500.0, "kWh"),
        ("G1", "2024-03-01T00:00+08:00", 12.5, "m3"),
    ]
    assert [r["flags"] for r in rows] == ["", "SNAPPED", "UNIT_CONVERTED", ""]
    assert [r["counter_value"] for r in rows] == ["", "", "", "1012.5"]
    assert len({r["batch_id"] for r in rows}) == 1
    assert rows[0]["batch_id"] != "0"


def test_export_as_json_to_a_file_and_the_default_range_is_everything(
    stored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = stored / "e1.json"
    code, out, err = run(["readings", "export", "E1", "--json", "--output", str(target)], capsys)
    assert (code, out, err) == (0, "", f"4 readings written to {target}\n")
    document = json.loads(target.read_text())
    assert document["count"] == 4
    assert document["readings"][-1] == {
        "meter": "E1",
        "interval_start": "2024-03-02T00:00+08:00",
        "quantity": 7.0,
        "unit": "kWh",
        "counter_value": None,
        "flags": "",
        "batch_id": document["readings"][0]["batch_id"],
    }


def test_unknown_meters_and_bad_dates_are_named(
    stored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["readings", "export", "E1", "X9", "A0"], capsys)
    assert (code, err) == (
        2,
        "error: meter: no meter 'A0', 'X9'; 'finance-engine ingest meters FILE' registers meters\n",
    )
    code, _, err = run(["readings", "export", "E1", "--from", "2024-13-01"], capsys)
    assert (code, err) == (2, "error: --from: '2024-13-01' is not a date (YYYY-MM-DD)\n")
    code, _, err = run(
        ["readings", "export", "E1", "--from", "2024-03-02", "--to", "2024-03-01"], capsys
    )
    assert (code, err) == (2, "error: to: the range must end after it starts\n")
