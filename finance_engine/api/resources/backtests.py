"""Backtest jobs: submit a history and a challenger rule patch, poll, fetch the result.

``POST /backtests`` (risk analysts) stores the uploads under ``<instance>/backtests/<job id>/``,
creates the job and answers 202 with ``Location``; the job runs in the serving process's
worker thread (:mod:`finance_engine.api.backtest_jobs`). Admin and risk-analyst keys read jobs,
their summary JSON and their PDF report.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

from flask import Response, request
from flask.views import MethodView
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from werkzeug.datastructures import FileStorage

from finance_engine.api import backtest_jobs as jobs
from finance_engine.api.auth import current_principal, guard
from finance_engine.api.blueprint import ID, Blueprint
from finance_engine.api.pagination import page, page_of
from finance_engine.api.problems import ProblemError, validation_problem
from finance_engine.api.schemas_backtests import (
    UPLOAD_FORM,
    BacktestJobSchema,
    BacktestQuerySchema,
)
from finance_engine.api.state import EXTENSION, ApiState, state
from finance_engine.services.backtests import (
    JSON_FILE,
    PDF_FILE,
    REQUIRED_FILE_COLUMNS,
    BacktestServiceError,
    load_rule_sets,
)
from finance_engine.services.keys import Role
from finance_engine.synth.loans import HistoryFileError, file_column_names
from finance_engine.tables_backtests import BacktestJob
from products.catalog import DEFAULT_CATALOG_DIR
from scoring.backtest.patch import PATCH_FORMAT

blp = Blueprint("backtests", __name__, description="Champion/challenger backtest jobs")

READERS = (Role.ADMIN, Role.RISK_ANALYST)
API_BACKTESTS = "/api/v1/backtests"
FORM_FIELDS = frozenset({"history", "challenger", "champion"})
PDF_RESPONSE = {
    "description": "The backtest report",
    "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
}
SUMMARY_RESPONSE = {
    "description": "The summary (`backtest.json`, docs/backtests.md)",
    "content": {"application/json": {"schema": {"type": "object"}}},
}
CREATED_LINKS = {
    "GetBacktest": {"operationId": "get_backtest", "parameters": {"job_id": "$response.body#/id"}},
}


def job_dict(job: BacktestJob) -> dict[str, Any]:
    """The API view of a job (no server paths, no worker identity)."""
    return {
        "id": job.id,
        "status": job.status,
        "stage": job.stage,
        "submitted_by": job.submitted_by,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "error": job.error or None,
        "headline": job.result,
    }


def _reap_at_start(setup: Any) -> None:
    """On start-up, fail the jobs whose process is gone (a database not yet migrated is
    skipped: the jobs are reaped on poll)."""
    st: ApiState | None = setup.app.extensions.get(EXTENSION)
    if st is None:
        return
    try:
        jobs.reap_lost(st.engine)
    except Exception as exc:  # start-up must not fail on this
        jobs.log.warning("backtest jobs not reaped at start-up: %s", exc)


blp.record_once(_reap_at_start)


def _upload(name: str) -> FileStorage:
    upload = request.files.get(name)
    if upload is None:
        raise validation_problem(name, "missing: upload it as the form field of that name", "form")
    return upload


def _check_form() -> None:
    unknown = sorted((set(request.files) | set(request.form)) - FORM_FIELDS)
    if unknown:
        raise validation_problem(unknown[0], "unknown form field", "form")
    champion = request.form.get("champion")
    if "champion" in request.files or champion not in (None, "packaged"):
        raise validation_problem(
            "champion", "only 'packaged' (the packaged catalog) is supported", "form"
        )


def _save_history(folder: Path) -> str:
    """Store the ``history`` upload (CSV or Parquet); its file name. 422 on a bad file."""
    upload = _upload("history")
    data = upload.stream.read()
    if not data:
        raise validation_problem("history", "empty file", "form")
    parquet = data[:4] == b"PAR1" or (upload.filename or "").lower().endswith(".parquet")
    name = "history.parquet" if parquet else "history.csv"
    path = folder / name
    path.write_bytes(data)
    try:
        present = set(file_column_names(path))
    except HistoryFileError as exc:
        raise validation_problem("history", jobs.scrub(str(exc), folder), "form") from exc
    missing = [c for c in REQUIRED_FILE_COLUMNS if c not in present]
    if missing:
        raise validation_problem("history", f"missing column(s) {', '.join(missing)}", "form")
    return name


def _save_patch(folder: Path) -> None:
    """Store the ``challenger`` rule patch after checking it applies to the champion."""
    data = _upload("challenger").stream.read()
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise validation_problem("challenger", f"not JSON: {exc}", "form") from exc
    if not isinstance(doc, dict) or doc.get("format") != PATCH_FORMAT:
        raise validation_problem(
            "challenger", f'must be a rule patch with "format": "{PATCH_FORMAT}"', "form"
        )
    path = folder / jobs.PATCH_FILE
    path.write_bytes(data)
    try:
        load_rule_sets(DEFAULT_CATALOG_DIR, path)
    except BacktestServiceError as exc:
        message = jobs.scrub(str(exc), folder).removeprefix("challenger: ")
        raise validation_problem("challenger", message, "form") from exc


def _create(engine: Engine, root: Path, incoming: Path, history: str) -> BacktestJob:
    """Insert the job row and move the uploads to ``root/<job id>``."""
    worker = jobs.runner().worker
    with Session(engine) as session:
        job = BacktestJob(
            submitted_by=current_principal().key_id,
            created_at=jobs.now(),
            out_dir="",
            history_file=history,
            worker_host=worker.host,
            worker_pid=worker.pid,
            worker_token=worker.token,
        )
        session.add(job)
        session.flush()
        folder = root / str(job.id)
        incoming.rename(folder)
        job.out_dir = str(folder)
        session.add(job)
        session.commit()
        session.refresh(job)
        return job


def _get(session: Session, engine: Engine, job_id: int) -> BacktestJob:
    job = session.get(BacktestJob, job_id)
    if job is None:
        raise ProblemError("not-found", f"no backtest job {job_id}")
    if jobs.reap_lost(engine, [job]):
        session.refresh(job)
    return job


def _finished(job_id: int) -> BacktestJob:
    """The job, which must have succeeded (409 with the status or the failure reason)."""
    engine = state().engine
    with Session(engine) as session:
        job = _get(session, engine, job_id)
    if job.status == "failed":
        raise ProblemError("conflict", f"backtest job {job_id} failed: {job.error}")
    if job.status != "succeeded":
        raise ProblemError(
            "conflict",
            f"backtest job {job_id} is {job.status} (stage: {job.stage or 'none yet'}); "
            "poll the job and retry",
            headers={"Retry-After": "2"},
        )
    return job


@blp.route("/backtests")
class Backtests(MethodView):
    @guard(
        Role.RISK_ANALYST,
        accepts=("multipart/form-data",),
        idempotent=True,
        large_body=True,
        body=True,
    )
    @blp.response(202, BacktestJobSchema)
    @blp.doc(
        operationId="submit_backtest",
        requestBody=UPLOAD_FORM,
        responses={202: {"links": CREATED_LINKS}},
    )
    def post(self) -> Any:
        """Submit a backtest: the history file and a challenger rule patch (multipart).

        The champion is the packaged catalog. Bad files are refused with 422 naming the form
        field. The job runs in the background; poll `Location` until `status` is `succeeded`
        or `failed`. The body is at most FINANCE_ENGINE_INGEST_MAX_BODY_BYTES (64 MiB).
        """
        st = state()
        _check_form()
        root = st.settings.instance_path / "backtests"
        incoming = root / f".incoming-{uuid.uuid4().hex}"
        incoming.mkdir(parents=True)
        try:
            history = _save_history(incoming)
            _save_patch(incoming)
            job = _create(st.engine, root, incoming, history)
        except BaseException:
            shutil.rmtree(incoming, ignore_errors=True)
            raise
        assert job.id is not None
        model = st.model() if st.model_version() is not None else None
        jobs.submit(
            st.engine, st.settings, job.id, model, inline=st.settings.backtest_jobs == "inline"
        )
        with Session(st.engine) as session:
            stored = session.get(BacktestJob, job.id)
            assert stored is not None
            body = job_dict(stored)
        return body, 202, {"Location": f"{API_BACKTESTS}/{job.id}"}

    @guard(*READERS)
    @blp.arguments(BacktestQuerySchema, location="query")
    @blp.response(200, page_of(BacktestJobSchema))
    @blp.doc(operationId="list_backtests")
    def get(self, query: dict[str, Any]) -> Any:
        """List backtest jobs, newest first (optionally of one status)."""
        engine = state().engine
        statement = select(BacktestJob).order_by(col(BacktestJob.id).desc())
        if "status" in query:
            statement = statement.where(BacktestJob.status == query["status"])
        statement = statement.offset(query["offset"]).limit(query["limit"] + 1)
        with Session(engine) as session:
            rows = list(session.exec(statement))
            if jobs.reap_lost(engine, rows):
                rows = list(session.exec(statement.execution_options(populate_existing=True)))
            items = [job_dict(job) for job in rows]
        return page(items, query["limit"], query["offset"])


@blp.route(f"/backtests/<{ID}:job_id>")
class BacktestItem(MethodView):
    @guard(*READERS)
    @blp.response(200, BacktestJobSchema)
    @blp.doc(operationId="get_backtest")
    def get(self, job_id: int) -> Any:
        """One job: status, last stage finished, times, failure reason, headline figures."""
        engine = state().engine
        with Session(engine) as session:
            return job_dict(_get(session, engine, job_id))


@blp.route(f"/backtests/<{ID}:job_id>/result")
class BacktestResultView(MethodView):
    @guard(*READERS)
    @blp.doc(operationId="get_backtest_result", responses={200: SUMMARY_RESPONSE})
    def get(self, job_id: int) -> Any:
        """The summary JSON of a succeeded job; 409 while it runs, or with why it failed.

        File names are relative to the job's folder, the packaged champion is named
        `packaged catalog` (server paths are not shown).
        """
        job = _finished(job_id)
        text = (Path(job.out_dir) / JSON_FILE).read_text(encoding="utf-8")
        text = jobs.scrub(text, Path(job.out_dir), limit=None)
        text = text.replace(str(DEFAULT_CATALOG_DIR), "packaged catalog")
        return Response(text, mimetype="application/json")


@blp.route(f"/backtests/<{ID}:job_id>/report.pdf")
class BacktestPdf(MethodView):
    @guard(*READERS)
    @blp.doc(operationId="get_backtest_pdf", responses={200: PDF_RESPONSE})
    def get(self, job_id: int) -> Any:
        """The PDF report of a succeeded job; 409 while it runs, or with why it failed."""
        job = _finished(job_id)
        response = Response((Path(job.out_dir) / PDF_FILE).read_bytes(), mimetype="application/pdf")
        response.headers["Content-Disposition"] = f'attachment; filename="backtest-{job_id}.pdf"'
        return response
