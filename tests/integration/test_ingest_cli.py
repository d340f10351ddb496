"""``finance-engine ingest meters`` and ``ingest readings`` on both backends, and meters files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from finance_engine.cli import cli
from finance_engine.cli.common import run_cli
from finance_engine.storage.formats import FormatError
from finance_engine.storage.registry import read_registry_file

METERS_JSON = {
    "entities": [{"id": "F1", "name": "Firm one", "sector": "industry", "industry_code": "C26"}],
    "meters": [
        {"code": "E1", "entity": "F1", "energy_type": "electricity", "rated_max_per_interval": 500},
        {
            "code": "G1",
            "entity": "F1",
            "energy_type": "natural_gas",
            "reading_kind": "cumulative",
            "counter_rollover": 1e8,
        },
    ],
}


@pytest.fixture
def cli_env(engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FINANCE_ENGINE_DATABASE_URL", db_url)
    monkeypatch.setenv("FINANCE_ENGINE_INSTANCE_PATH", str(tmp_path / "instance"))
    path = tmp_path / "meters.json"
    path.write_text(json.dumps(METERS_JSON))
    return path


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run_cli(cli, args)
    out, err = capsys.readouterr()
    return code, out, err


def test_ingest_meters_creates_then_updates(
    cli_env: Path, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["ingest", "meters", str(cli_env)], capsys)[:2] == (
        0,
        "entities created 1, entities updated 0, meters created 2, meters updated 0\n",
    )
    code, out, _ = run(["ingest", "meters", str(cli_env), "--json"], capsys)
    assert (code, json.loads(out)) == (
        0,
        {"entities_created": 0, "entities_updated": 1, "meters_created": 0, "meters_updated": 2},
    )
    with engine.connect() as conn:
        meters = conn.execute(
            text("SELECT code, unit, reading_kind, counter_rollover FROM meter ORDER BY code")
        ).all()
    assert [tuple(m) for m in meters] == [
        ("E1", "kWh", "interval", None),
        ("G1", "m3", "cumulative", 1e8),
    ]


def test_a_meters_energy_type_cannot_change(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["ingest", "meters", str(cli_env)], capsys)
    changed = json.loads(cli_env.read_text())
    changed["meters"][0]["energy_type"] = "heat"
    changed["meters"][0]["unit"] = "GJ"
    cli_env.write_text(json.dumps(changed))
    code, _, err = run(["ingest", "meters", str(cli_env)], capsys)
    assert code == 2
    assert err == (
        "error: meter E1: energy_type cannot change (stored as 'electricity', given 'heat')\n"
    )


def test_readings_report_in_text_and_json_and_replay(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["ingest", "meters", str(cli_env)], capsys)
    readings = tmp_path / "readings.csv"
    readings.write_text(
        "meter,timestamp,quantity\n"
        + "".join(f"E1,2024-01-01T{h:02d}:00,{h}\n" for h in range(6))
        + "E1,2024-01-01T07:00,-4\n"
        "X,2024-01-01T00:00,1\n"
    )
    code, out, _ = run(["ingest", "readings", str(readings), "--show", "1", "--no-alerts"], capsys)
    assert code == 0
    assert "  accepted               6\n" in out
    assert "rejected rows (first 1 of 2):\n  row 8: quantity: negative (-4.0)\n" in out
    assert "gaps (first 1 of 5):\n  E1: 2024-01-01T00:15+08:00 .. 2024-01-01T01:00+08:00 (3 " in out
    code, out, _ = run(["ingest", "readings", str(readings), "--json", "--no-alerts"], capsys)
    report = json.loads(out)
    assert (code, report["rows"], report["accepted"], report["duplicates"]) == (0, 8, 0, 6)
    assert report["rejected"][1] == {"row": 9, "field": "meter", "reason": "unknown meter 'X'"}
    assert report["gaps"][0] == {
        "meter": "E1",
        "start_s": 1_704_039_300,
        "end_s": 1_704_042_000,
        "intervals": 3,
    }


def test_bad_files_exit_2_with_one_line(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readings = tmp_path / "readings.csv"
    readings.write_text("meter;timestamp;quantity\n")
    code, out, err = run(["ingest", "readings", str(readings)], capsys)
    assert (code, out) == (2, "")
    assert err.startswith(
        f"error: {readings}: CSV header: missing column meter, timestamp, quantity"
    )
    assert err.count("\n") == 1
    code, _, err = run(["ingest", "readings", str(readings), "--format", "xml"], capsys)
    assert code == 2
    assert "'xml' is not one of 'csv', 'json', 'parquet'" in err


def test_meters_csv_with_entity_columns(tmp_path: Path) -> None:
    path = tmp_path / "meters.csv"
    path.write_text(
        "entity,entity_name,sector,industry_code,code,energy_type,unit,reading_kind,"
        "rated_max_per_interval,counter_rollover\n"
        "F1,Firm one,industry,C26,E1,electricity,MWh,interval,2.5,\n"
        "F1,,,,S1,steam,,,,\n"
    )
    entities, meters = read_registry_file(path)
    assert [(e.id, e.name, e.sector, e.industry_code) for e in entities] == [
        ("F1", "Firm one", "industry", "C26")
    ]
    assert [
        (m.entity_id, m.spec.code, m.spec.unit, m.spec.rated_max_per_interval) for m in meters
    ] == [("F1", "E1", "MWh", 2.5), ("F1", "S1", "t", None)]


@pytest.mark.parametrize(
    ("meter", "message"),
    [
        (
            {"code": "E1", "entity": "F1", "energy_type": "petrol"},
            r"meters\[0\]\.energy_type: 'petrol' is not one of electricity, ",
        ),
        (
            {"code": "E1", "entity": "F1", "energy_type": "electricity", "unit": "m3"},
            r"meters\[0\]: meter E1: unit 'm3' is not valid for electricity",
        ),
        (
            {"code": "E1", "entity": "F1", "energy_type": "electricity", "colour": "red"},
            r"meters\[0\]\.colour: unknown field",
        ),
        (
            {
                "code": "E1",
                "entity": "F1",
                "energy_type": "electricity",
                "rated_max_per_interval": "lots",
            },
            r"meters\[0\]\.rated_max_per_interval: 'lots' is not a number",
        ),
        ({"entity": "F1", "energy_type": "electricity"}, r"meters\[0\]\.code: missing"),
    ],
)
def test_meters_file_errors_name_the_record_and_field(
    tmp_path: Path, meter: dict[str, object], message: str
) -> None:
    path = tmp_path / "meters.json"
    path.write_text(json.dumps({"meters": [meter]}))
    with pytest.raises(FormatError, match=message):
        read_registry_file(path)
