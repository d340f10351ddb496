"""Parallel scoring and ingest clients against gunicorn (2 sync workers) on PostgreSQL.

Eight client threads hit a real server on a free loopback port: four score applications (half
of them retried with the same Idempotency-Key), four ingest overlapping reading batches (every
reading is sent by two clients). Afterwards: no request failed, every decision is in the log
exactly once per unique request and the hash chain holds, every distinct reading is stored
exactly once, the batch reports' accepted counts add up to the stored rows, the daily rollups
equal the readings, and /metrics (merged over both workers) counted every decision.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select
from sqlmodel import Session

from finance_engine.models import DailyRollup, Meter
from finance_engine.services.decisions import verify_log
from finance_engine.storage.readings import stored_readings
from finance_engine.tables_decisions import DecisionRecord

from .conftest import World, application, build_world

pytestmark = pytest.mark.postgres

SCORERS, INGESTERS = 4, 4
DECISIONS_PER_SCORER = 12
DAYS = 4
"""Days of 15-minute readings per meter sent by the ingest clients (96 a day)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server(pg_schema_url: str, tmp_path: Path) -> Iterator[tuple[World, str]]:
    world = build_world(tmp_path, database_url=pg_schema_url)
    port = _free_port()
    env = {
        **os.environ,
        "FINANCE_ENGINE_DATABASE_URL": pg_schema_url,
        "FINANCE_ENGINE_INSTANCE_PATH": str(world.settings.instance_path),
        "FINANCE_ENGINE_ENV": "test",
        "FINANCE_ENGINE_ACCESS_LOG": "0",
        "FINANCE_ENGINE_RATE_LIMIT_PER_MINUTE": "0",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [
        sys.executable, "-m", "gunicorn", "-c", "python:finance_engine.gunicorn_conf",
        "--bind", f"127.0.0.1:{port}", "--workers", "2", "finance_engine.app:create_app()",
    ]  # fmt: skip
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process, tmp_path / "gunicorn.log")
        yield world, base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        log.close()
        world.engine.dispose()
        world.app.extensions["finance_engine.engine"].dispose()
    assert code == 0, "graceful shutdown on SIGTERM"


def _wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(f"gunicorn not ready: {log.read_text()[-2000:]}")


def _score(base: str, token: str, client: int) -> list[tuple[int, str | None]]:
    """Score applications; every even one twice under one Idempotency-Key."""
    out: list[tuple[int, str | None]] = []
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        for n in range(DECISIONS_PER_SCORER):
            entity = ("F01", "F02", "F03")[n % 3]
            body = application(entity, application_id=f"C{client}-{n}")
            key = f"c{client}-{n}" if n % 2 == 0 else None
            headers = {"Idempotency-Key": key} if key else {}
            for _ in range(2 if key else 1):
                response = session.post(f"{base}/api/v1/decisions", json=body, headers=headers)
                out.append((response.status_code, key))
                assert response.status_code == 201, response.text
    return out


def _readings(meters: list[str], part: int) -> str:
    """CSV of 96 x DAYS readings per meter: half of them (by ``part``) plus an overlap."""
    lines = ["meter,timestamp,quantity"]
    for meter in meters:
        for slot in range(96 * DAYS):
            if slot % 2 == part % 2 or slot % 5 == 0:
                day, minute = divmod(slot, 96)
                stamp = f"2026-01-{day + 1:02d}T{minute // 4:02d}:{(minute % 4) * 15:02d}:00+08:00"
                lines.append(f"{meter},{stamp},{1 + (slot % 7)}")
    return "\n".join(lines) + "\n"


def _ingest(base: str, token: str, part: int) -> list[dict[str, Any]]:
    meters = ["F01-E", "F02-E", "F03-E"] if part < 2 else ["F03-E", "F04-E", "F05-E"]
    reports = []
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        for half in range(2):
            chunk = [m for i, m in enumerate(meters) if i % 2 == half or i == 1]
            response = session.post(
                f"{base}/api/v1/reading-batches",
                data=_readings(chunk, part),
                headers={"Content-Type": "text/csv"},
            )
            assert response.status_code == 201, response.text
            reports.append(response.json())
    return reports


def _expected_readings() -> dict[tuple[str, int], float]:
    """(meter, slot) -> quantity over everything the ingest clients send."""
    expected: dict[tuple[str, int], float] = {}
    for part in range(INGESTERS):
        meters = ["F01-E", "F02-E", "F03-E"] if part < 2 else ["F03-E", "F04-E", "F05-E"]
        for meter in meters:
            for slot in range(96 * DAYS):
                if slot % 2 == part % 2 or slot % 5 == 0:
                    expected[(meter, slot)] = float(1 + (slot % 7))
    return expected


def test_parallel_scoring_and_ingest_lose_nothing_and_count_nothing_twice(
    server: tuple[World, str],
) -> None:
    world, base = server
    with ThreadPoolExecutor(max_workers=SCORERS + INGESTERS) as pool:
        scoring = [
            pool.submit(_score, base, world.tokens["bank_system"], c) for c in range(SCORERS)
        ]
        ingest = [
            pool.submit(_ingest, base, world.tokens["data_provider"], p) for p in range(INGESTERS)
        ]
        scored = [item for f in scoring for item in f.result()]
        reports = [report for f in ingest for report in f.result()]

    unique_decisions = SCORERS * DECISIONS_PER_SCORER
    assert len(scored) == unique_decisions + SCORERS * (DECISIONS_PER_SCORER // 2)
    expected = _expected_readings()
    with Session(world.engine) as session:
        logged = session.execute(select(func.count()).select_from(DecisionRecord)).scalar_one()
        by_meter = dict(
            session.execute(
                select(Meter.code, func.sum(DailyRollup.quantity))
                .join(Meter, Meter.id == DailyRollup.meter_id)  # type: ignore[arg-type]
                .where(DailyRollup.day >= date(2026, 1, 1))
                .group_by(Meter.code)
            ).all()
        )
    assert logged == unique_decisions
    assert verify_log(world.engine).intact
    assert len(stored_readings(world.engine)) == len(expected)
    assert sum(r["accepted"] for r in reports) == len(expected)
    assert all(not r["rejected"] for r in reports)
    for meter in {m for m, _ in expected}:
        total = sum(q for (m, _), q in expected.items() if m == meter)
        assert by_meter[meter] == pytest.approx(total)
    metrics = requests.get(f"{base}/metrics", timeout=5).text
    counted = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("finance_engine_decisions_total{")
    )
    assert counted == unique_decisions
