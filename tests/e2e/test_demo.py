"""The demo end to end at a tiny scale, on SQLite and PostgreSQL, and through the console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from accounting.readings import ReadingFlag
from finance_engine.config import Settings
from finance_engine.db import make_engine
from finance_engine.models import CarbonAccount, DailyRollup, ReadingDay
from finance_engine.services.decisions import verify_log
from finance_engine.services.demo import run_demo
from finance_engine.storage.readings import stored_readings

SCALE = 0.004


def test_demo_ingests_grades_and_is_idempotent(settings: Settings) -> None:
    first = run_demo(settings, seed=3, scale=SCALE, year=2024)
    assert first.readings == first.accepted + first.duplicates + first.rejected
    assert first.accepted > 0
    assert first.duplicates > 0  # the city injects duplicate rows
    assert first.run.stored == first.all_entities
    assert not first.run.skipped
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            rolled = session.exec(select(func.sum(DailyRollup.intervals))).one()
            counted = session.exec(select(func.sum(ReadingDay.readings))).one()
            colours = session.exec(select(CarbonAccount.colour)).all()
        readings = stored_readings(engine)
        stored = len(readings)
        intervals = int(np.count_nonzero((readings.flags & ReadingFlag.ANCHOR) == 0))
        sector_accepted = sum(row["accepted"] for row in first.sectors.values())
        assert stored == first.accepted + sector_accepted == counted
        assert rolled == intervals  # counter anchors are stored but are not intervals
        assert stored - intervals < first.meters
        assert all(c in {"dark_green", "light_green", "yellow", "red"} for c in colours)
        assert first.scoring is not None
        assert first.scoring.borrowers == first.all_entities
        assert first.scoring.decisions > first.all_entities  # several products per borrower
        report = verify_log(engine)
        assert report.intact
        assert report.records_checked == first.scoring.decisions
    finally:
        engine.dispose()
    again = run_demo(settings, seed=3, scale=SCALE, year=2024)
    assert (again.accepted, again.duplicates) == (0, again.readings)
    assert (again.run.stored, again.run.already_stored) == (0, first.all_entities)
    assert again.alerts_raised == 0


def test_demo_command_prints_a_json_summary(tmp_path: Path) -> None:
    env = {**os.environ, "FINANCE_ENGINE_INSTANCE_PATH": str(tmp_path / "var")}
    env.pop("FINANCE_ENGINE_DATABASE_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "finance_engine", "demo", "--scale", str(SCALE), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["accounts"]["stored"] == summary["city"]["all_entities"]
    assert (tmp_path / "var" / "finance_engine.db").is_file()
    assert Path(summary["benchmark_file"]).is_file()


def test_demo_refuses_a_bad_scale_with_exit_code_2(tmp_path: Path) -> None:
    env = {**os.environ, "FINANCE_ENGINE_INSTANCE_PATH": str(tmp_path / "var")}
    proc = subprocess.run(
        [sys.executable, "-m", "finance_engine", "demo", "--scale", "7"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "--scale" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.fixture(autouse=True)
def _no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
