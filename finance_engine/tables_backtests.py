"""Backtest jobs submitted through the API: one row per job, the contract between the API and
whatever runs the job (a worker thread of the serving process today, a queue worker tomorrow)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

JOB_STATUSES = ("queued", "running", "succeeded", "failed")


class BacktestJob(SQLModel, table=True):
    """A backtest job: who asked, where it runs, how far it got, and its outcome."""

    __tablename__ = "backtest_job"

    id: int | None = Field(default=None, primary_key=True)
    status: str = Field(default="queued", max_length=16, index=True)
    """``queued``, ``running``, ``succeeded`` or ``failed``."""
    submitted_by: str = Field(max_length=64)
    """Id of the API key that submitted the job."""
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    stage: str = Field(default="", max_length=64)
    """The last stage finished (``finance_engine.services.backtests.SERVICE_STAGES``)."""
    error: str = Field(default="", max_length=2000)
    """Why the job failed (names the file and field), empty otherwise."""
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """Headline figures and swap-set sizes when succeeded."""
    out_dir: str = Field(max_length=500)
    """Folder of the uploads and outputs (under ``<instance>/backtests``)."""
    history_file: str = Field(max_length=64)
    """File name of the uploaded history in ``out_dir``."""
    worker_host: str = Field(default="", max_length=255)
    worker_pid: int | None = None
    worker_token: str = Field(default="", max_length=64)
    """Host, pid and a per-process random token of the process that owns the job."""
