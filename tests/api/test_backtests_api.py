"""Backtest jobs over the API: submit (multipart), poll, fetch the summary and the PDF; bad
uploads; lost jobs.

The history is synthetic (2,000 applications); the challenger declines red borrowers on every
colour-graded product, so it can only book fewer loans than the champion.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from finance_engine.api import backtest_jobs
from finance_engine.api.state import EXTENSION
from finance_engine.synth.loans import generate_loan_history, write_loan_history
from finance_engine.tables_backtests import BacktestJob

from .conftest import World, problem

PATCH = {
    "format": "finance-engine/rule-patch@1",
    "name": "decline-red",
    "description": "Decline red borrowers on every colour-graded product",
    "changes": [{"products": "*", "decline_grades": ["red"]}],
}
RISK = "risk_analyst"
POLL_LIMIT_S = 60.0


@lru_cache(maxsize=2)
def history_bytes(suffix: str = ".csv") -> bytes:
    """A synthetic history of 2,000 applications, as CSV or Parquet bytes."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"history{suffix}"
        write_loan_history(generate_loan_history(11, 2000), path)
        return path.read_bytes()


def form(
    history: bytes | None = None, patch: Any = PATCH, suffix: str = ".csv", **extra: Any
) -> dict[str, Any]:
    """A multipart form of ``POST /backtests`` (None leaves a field out)."""
    data: dict[str, Any] = dict(extra)
    if history is not None:
        data["history"] = (io.BytesIO(history), f"history{suffix}")
    if patch is not None:
        raw = patch if isinstance(patch, bytes) else json.dumps(patch).encode()
        data["challenger"] = (io.BytesIO(raw), "patch.json")
    return data


@pytest.fixture
def inline(world: World) -> Iterator[World]:
    """The shared world with jobs run in the request (synchronous executor)."""
    st = world.app.extensions[EXTENSION]
    before = st.settings
    st.settings = before.with_overrides(backtest_jobs="inline")
    yield world
    st.settings = before


def submit(world: World, data: dict[str, Any], **headers: str) -> Any:
    return world.client().post(
        "/api/v1/backtests",
        data=data,
        content_type="multipart/form-data",
        headers={**world.auth(RISK), **headers},
    )


def poll(world: World, location: str) -> dict[str, Any]:
    """Poll ``location`` until the job is finished (at most POLL_LIMIT_S seconds)."""
    deadline = time.monotonic() + POLL_LIMIT_S
    while True:
        body: dict[str, Any] = world.client().get(location, headers=world.auth(RISK)).get_json()
        if body["status"] in {"succeeded", "failed"}:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.1)


def test_submit_poll_and_fetch_result_and_pdf(inline: World) -> None:
    response = submit(inline, form(history_bytes()))
    assert response.status_code == 202, response.get_data(as_text=True)
    location = response.headers["Location"]
    job = poll(inline, location)
    assert job["status"] == "succeeded", job
    assert job["stage"] == "write PDF"
    assert job["error"] is None
    assert job["started_at"]
    assert job["finished_at"]
    assert job["submitted_by"] == inline.key_ids[RISK]
    headline = job["headline"]["headline"]
    assert headline["champion"]["applications"] == 2000
    assert headline["challenger"]["booked"] <= headline["champion"]["booked"]
    assert job["headline"]["swap_in"] == 0

    result = inline.client().get(f"{location}/result", headers=inline.auth(RISK))
    assert result.status_code == 200
    summary = result.get_json()
    assert summary["inputs"]["challenger"]["patch"]["name"] == "decline-red"
    booked = summary["rule_sets"]["challenger"]["booked"]
    assert booked == headline["challenger"]["booked"]
    assert str(inline.settings.instance_path) not in result.get_data(as_text=True)
    assert summary["inputs"]["history"]["file"] == "history.csv"

    pdf = inline.client().get(f"{location}/report.pdf", headers=inline.auth("admin"))
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF-")

    listed = inline.client().get("/api/v1/backtests?status=succeeded", headers=inline.auth(RISK))
    assert job["id"] in [item["id"] for item in listed.get_json()["items"]]


def test_parquet_history_and_idempotent_retry(inline: World) -> None:
    fields = {
        "history": FileStorage(io.BytesIO(history_bytes(".parquet")), "h.parquet"),
        "challenger": FileStorage(io.BytesIO(json.dumps(PATCH).encode()), "patch.json"),
    }
    boundary, body = encode_multipart(fields, boundary="fixed-boundary")
    headers = {**inline.auth(RISK), "Idempotency-Key": "bt-parquet-1"}

    def send() -> Any:
        return inline.client().post(
            "/api/v1/backtests",
            data=body,
            content_type=f"multipart/form-data; boundary={boundary}",
            headers=headers,
        )

    first, again = send(), send()
    assert first.status_code == again.status_code == 202, first.get_data(as_text=True)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert poll(inline, first.headers["Location"])["status"] == "succeeded"


def test_thread_worker_runs_the_job_in_the_background(world: World) -> None:
    assert world.settings.backtest_jobs == "thread"
    response = submit(world, form(history_bytes()))
    assert response.status_code == 202
    assert response.get_json()["status"] in {"queued", "running", "succeeded"}
    assert poll(world, response.headers["Location"])["status"] == "succeeded"


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        (form(None), "history", "missing"),
        (form(b"", suffix=".csv"), "history", "empty"),
        (form(b"application_id,product_code\nA1,X\n"), "history", "missing column(s)"),
        (form(b"PAR1 not really parquet", suffix=".parquet"), "history", ""),
        (form(b"x", patch=None), "challenger", "missing"),
        (form(b"x", patch=b"{not json"), "challenger", "not JSON"),
        (form(b"x", patch={"format": "other"}), "challenger", "rule patch"),
        (form(b"x", champion="/etc"), "champion", "packaged"),
        (form(b"x", colour="red"), "colour", "unknown form field"),
    ],
)
def test_bad_uploads_get_422_naming_the_field(
    world: World, data: dict[str, Any], field: str, reason: str
) -> None:
    if field == "challenger" and reason:
        data = {**data, "history": (io.BytesIO(history_bytes()), "history.csv")}
    response = submit(world, data)
    assert response.status_code == 422, response.get_data(as_text=True)
    body = problem(response)
    assert body["detail"].startswith(f"{field}: ")
    assert reason in body["detail"]
    assert str(world.settings.instance_path) not in body["detail"]


def test_a_patch_that_does_not_apply_is_422(world: World) -> None:
    patch = {**PATCH, "changes": [{"products": ["NO-SUCH"], "max_pd": "0.03"}]}
    response = submit(world, form(history_bytes(), patch=patch))
    assert response.status_code == 422
    assert problem(response)["detail"].startswith("challenger: ")


def test_result_of_a_failed_job_is_409_with_the_reason(inline: World) -> None:
    bad = history_bytes().replace(b"\n", b"\nnot-a-row,", 1)
    response = submit(inline, form(bad))
    assert response.status_code == 202
    job = poll(inline, response.headers["Location"])
    assert job["status"] == "failed"
    assert job["error"]
    result = inline.client().get(
        f"{response.headers['Location']}/result", headers=inline.auth(RISK)
    )
    assert result.status_code == 409
    assert job["error"] in problem(result)["detail"]


def _job(world: World, **values: Any) -> int:
    with Session(world.engine) as session:
        job = BacktestJob(
            submitted_by="k",
            created_at=backtest_jobs.now(),
            out_dir="/nowhere",
            history_file="history.csv",
            **values,
        )
        session.add(job)
        session.commit()
        assert job.id is not None
        return job.id


def test_a_running_job_of_a_dead_process_is_failed_on_poll(world: World) -> None:
    worker = backtest_jobs.runner().worker
    dead_pid = 2**22 + 12345  # above Linux's pid_max: no such process
    gone = _job(
        world, status="running", worker_host=worker.host, worker_pid=dead_pid, worker_token="old"
    )
    other_host = _job(
        world, status="running", worker_host="elsewhere", worker_pid=1, worker_token="x"
    )
    lost_here = _job(
        world,
        status="queued",
        worker_host=worker.host,
        worker_pid=os.getpid(),
        worker_token=worker.token,
    )
    client = world.client()
    body = client.get(f"/api/v1/backtests/{gone}", headers=world.auth(RISK)).get_json()
    assert body["status"] == "failed"
    assert f"pid {dead_pid}" in body["error"]
    assert worker.host in body["error"]
    assert (
        client.get(f"/api/v1/backtests/{lost_here}", headers=world.auth(RISK)).get_json()["status"]
        == "failed"
    )
    still = client.get(f"/api/v1/backtests/{other_host}", headers=world.auth("admin")).get_json()
    assert still["status"] == "running"
    pending = client.get(f"/api/v1/backtests/{other_host}/result", headers=world.auth(RISK))
    assert pending.status_code == 409
    assert pending.headers["Retry-After"] == "2"
    assert backtest_jobs.reap_lost(world.engine) == 0


def test_unknown_job_is_404(world: World) -> None:
    response = world.client().get("/api/v1/backtests/999999", headers=world.auth(RISK))
    assert response.status_code == 404
