"""Backtest jobs of the API: run them in a worker thread, record their progress, find lost ones.

Each serving process has one :class:`concurrent.futures.ThreadPoolExecutor` with one worker
(``max_workers=1``): jobs of one process run one after the other, in the background of the
requests. The ``backtest_job`` table is the contract: a job row says where its files are
(``out_dir``), how far it got (``status``, ``stage``) and which process owns it (host, pid and a
per-process random token). A multi-host deployment would hand the job id to an existing queue
instead (e.g. RQ on the Redis that exists) and a queue worker would call :func:`run_job`.

A job whose process died stays ``queued`` or ``running`` in the table; :func:`reap_lost` marks
it failed, with the host and pid, when that process is known to be gone: the row's token is
this process's but the job is not among this process's jobs (a restart that reused the pid),
or the row's host is this host and its pid no longer exists. Jobs of other hosts are left alone
(their host must reap them).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from finance_engine.config import Settings
from finance_engine.services.backtests import BacktestServiceError, run_backtest
from finance_engine.tables_backtests import BacktestJob
from scoring.risk_model import RiskModel

log = logging.getLogger("finance_engine.api")

ACTIVE = ("queued", "running")
PATCH_FILE = "challenger.json"


@dataclass(frozen=True)
class Worker:
    """The identity of this process as recorded on the jobs it owns."""

    host: str
    pid: int
    token: str


class _Runner:
    """One process's executor and the ids of the jobs it holds (queued or running)."""

    def __init__(self) -> None:
        pid = os.getpid()
        self.worker = Worker(socket.gethostname()[:255], pid, uuid.uuid4().hex)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="backtest")
        self.active: set[int] = set()
        self.lock = threading.Lock()


_RUNNER: _Runner | None = None
_RUNNER_LOCK = threading.Lock()


def runner() -> _Runner:
    """This process's runner (a new one after a fork: threads do not survive it)."""
    global _RUNNER
    with _RUNNER_LOCK:
        if _RUNNER is None or _RUNNER.worker.pid != os.getpid():
            _RUNNER = _Runner()
        return _RUNNER


def now() -> datetime:
    """The current UTC time."""
    return datetime.now(UTC)


def _set(engine: Engine, job_id: int, **values: Any) -> None:
    with Session(engine) as session:
        session.execute(update(BacktestJob).where(col(BacktestJob.id) == job_id).values(**values))
        session.commit()


def scrub(message: str, *folders: Path, limit: int | None = 2000) -> str:
    """``message`` without the server folders it names (clients see file names only), cut
    to ``limit`` characters."""
    for folder in folders:
        message = message.replace(f"{folder}{os.sep}", "").replace(str(folder), ".")
    return message if limit is None else message[:limit]


def run_job(
    engine: Engine, settings: Settings, job_id: int, model: RiskModel | None = None
) -> None:
    """Run job ``job_id`` from its row's files; record stages, outcome and headline figures.

    Never raises: a bad input fails the job with the reason (naming the file and field), an
    unexpected error fails it with a logged traceback.
    """
    with Session(engine) as session:
        job = session.get(BacktestJob, job_id)
        assert job is not None
        out_dir, history = Path(job.out_dir), Path(job.out_dir) / job.history_file
    _set(engine, job_id, status="running", started_at=now())
    try:
        result = run_backtest(
            history,
            None,
            out_dir / PATCH_FILE,
            out_dir,
            progress=lambda stage: _set(engine, job_id, stage=stage[:64]),
            model=model,
            settings=settings,
        )
    except BacktestServiceError as exc:
        error = scrub(str(exc), out_dir, settings.instance_path)
        _set(engine, job_id, status="failed", finished_at=now(), error=error)
        return
    except Exception:  # the reason goes to the log, the client sees that there was one
        log.exception("backtest job %s failed unexpectedly", job_id)
        error = "internal error while running the backtest (logged on the server)"
        _set(engine, job_id, status="failed", finished_at=now(), error=error)
        return
    headline = result.to_dict()
    for key in ("out_dir", "files"):
        headline.pop(key)
    _set(engine, job_id, status="succeeded", finished_at=now(), result=headline)


def submit(
    engine: Engine, settings: Settings, job_id: int, model: RiskModel | None, *, inline: bool
) -> None:
    """Hand job ``job_id`` to this process's worker thread (or run it now, ``inline``)."""
    run = runner()
    with run.lock:
        run.active.add(job_id)

    def task() -> None:
        try:
            run_job(engine, settings, job_id, model)
        finally:
            with run.lock:
                run.active.discard(job_id)

    if inline:
        task()
    else:
        run.executor.submit(task)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_lost(job: BacktestJob) -> bool:
    """True when ``job`` is queued or running but the process owning it is known to be gone."""
    if job.status not in ACTIVE:
        return False
    run = runner()
    if job.worker_token == run.worker.token:
        with run.lock:
            return job.id not in run.active
    if job.worker_host == run.worker.host and job.worker_pid is not None:
        return not _pid_alive(job.worker_pid)
    return False


def reap_lost(engine: Engine, jobs: Iterable[BacktestJob] | None = None) -> int:
    """Mark lost jobs (of ``jobs``, default every queued or running job) failed; how many."""
    if jobs is None:
        with Session(engine) as session:
            query = select(BacktestJob).where(col(BacktestJob.status).in_(ACTIVE))
            jobs = list(session.exec(query))
    lost = [job for job in jobs if is_lost(job)]
    for job in lost:
        assert job.id is not None
        reason = (
            f"lost: the process that {'ran' if job.status == 'running' else 'held'} this job "
            f"(host {job.worker_host}, pid {job.worker_pid}) is gone; submit it again"
        )
        with Session(engine) as session:
            session.execute(
                update(BacktestJob)
                .where(col(BacktestJob.id) == job.id, col(BacktestJob.status).in_(ACTIVE))
                .values(status="failed", finished_at=now(), error=reason)
            )
            session.commit()
        log.warning("backtest job %s: %s", job.id, reason)
    return len(lost)
