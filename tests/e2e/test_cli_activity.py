"""``finance-engine ingest activity``: good records stored, bad ones named, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accounting.vocab import Sector
from finance_engine.cli import cli
from finance_engine.cli.common import run_cli
from finance_engine.db import make_engine, upgrade
from finance_engine.services.ingest import register_entities_and_meters
from finance_engine.storage.registry import EntityRecord

PERIOD = {"start": "2025-01-01", "end": "2025-12-31"}


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "var"
    monkeypatch.setenv("FINANCE_ENGINE_INSTANCE_PATH", str(path))
    monkeypatch.delenv("FINANCE_ENGINE_DATABASE_URL", raising=False)
    engine = make_engine(f"sqlite:///{path / 'finance_engine.db'}")
    upgrade(engine)
    register_entities_and_meters(engine, [EntityRecord("F1", "Firm 1", Sector.INDUSTRY)], [])
    engine.dispose()
    return path


def _write(tmp_path: Path, records: list[object]) -> str:
    path = tmp_path / "activity.json"
    path.write_text(json.dumps({"activity": records}), encoding="utf-8")
    return str(path)


def test_good_records_are_stored_and_bad_ones_named(
    instance: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = {"entity_id": "F1", "period": PERIOD, "value_added_10k_yuan": "120.50"}
    bad = {"entity_id": "F1", "period": {"start": "2025-01-01"}}
    assert run_cli(cli, ["ingest", "activity", _write(tmp_path, [good, bad]), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["stored"], report["duplicates"]) == (1, 0)
    assert report["rejected"] == [
        {"record": 2, "error": "period.end: Missing data for required field."}
    ]
    assert run_cli(cli, ["ingest", "activity", _write(tmp_path, [good]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["duplicates"] == 1


def test_a_file_with_only_bad_records_exits_2(
    instance: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, [{"entity_id": "NOPE", "period": PERIOD}])
    assert run_cli(cli, ["ingest", "activity", path]) == 2
    captured = capsys.readouterr()
    assert "unknown entity 'NOPE'" in captured.out
    assert "every record was rejected" in captured.err
