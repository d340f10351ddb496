"""Reading batches: ingest meter readings (JSON, CSV or a file upload) and read batch reports."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from flask import g, request
from flask.views import MethodView
from sqlmodel import Session

from finance_engine.api.auth import current_principal, guard
from finance_engine.api.blueprint import ID, Blueprint
from finance_engine.api.pagination import PageQuerySchema, page, page_of
from finance_engine.api.problems import ProblemError, validation_problem
from finance_engine.api.queries import batch_dict, batches_page
from finance_engine.api.schemas import BatchReportSchema, ReadingBatchSchema
from finance_engine.api.state import state
from finance_engine.models import IngestBatch
from finance_engine.services.ingest import ingest_file
from finance_engine.services.keys import Role
from finance_engine.storage.formats import FormatError

blp = Blueprint("readings", __name__, description="Meter reading batches and their reports")

MEDIA_TYPES = ("application/json", "text/csv", "multipart/form-data")
_UPLOAD_SUFFIXES = {".csv": "csv", ".json": "json", ".parquet": "parquet", ".pq": "parquet"}

_READING = {
    "type": "object",
    "required": ["meter", "timestamp", "quantity"],
    "properties": {
        "meter": {"type": "string", "description": "Meter code, as registered"},
        "timestamp": {"type": "string", "description": "ISO 8601; no offset = local time"},
        "quantity": {"type": "number", "description": "Interval quantity or counter value"},
        "unit": {"type": "string", "description": "Default: the meter's unit"},
    },
}
REQUEST_BODY = {
    "required": True,
    "description": "Readings as in docs/ingest-formats.md. A bad row is rejected in the "
    "report; it never keeps good rows out.",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["readings"],
                "properties": {"readings": {"type": "array", "items": _READING}},
            }
        },
        "text/csv": {
            "schema": {"type": "string", "description": "Header meter,timestamp,quantity[,unit]"}
        },
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "A .csv, .json or .parquet reading file",
                    }
                },
            }
        },
    },
}
CREATED_LINKS = {
    "GetBatch": {
        "operationId": "get_reading_batch",
        "parameters": {"batch_id": "$response.body#/batch_id"},
    }
}


def _body_to_file(folder: Path) -> tuple[Path, str]:
    """Write the request's readings to a temporary file; return it and its format."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise validation_problem("file", "missing: upload the readings as 'file'", "body")
        suffix = Path(upload.filename or "").suffix.lower()
        fmt = _UPLOAD_SUFFIXES.get(suffix) or (
            "csv" if (upload.mimetype or "").endswith("csv") else None
        )
        if fmt is None:
            raise validation_problem(
                "file",
                f"cannot tell the format of {upload.filename!r}: use .csv, .json or .parquet",
                "body",
            )
        handle, name = tempfile.mkstemp(suffix=f".{fmt}", dir=folder)
        os.close(handle)
        upload.save(name)
        return Path(name), fmt
    fmt = "json" if request.mimetype == "application/json" else "csv"
    handle, name = tempfile.mkstemp(suffix=f".{fmt}", dir=folder)
    with os.fdopen(handle, "wb") as out:
        out.write(request.get_data(cache=True))
    return Path(name), fmt


@blp.route("/reading-batches")
class ReadingBatches(MethodView):
    @guard(Role.DATA_PROVIDER, accepts=MEDIA_TYPES, idempotent=True, large_body=True, body=True)
    @blp.doc(
        requestBody=REQUEST_BODY,
        operationId="ingest_readings",
        responses={201: {"links": CREATED_LINKS}},
    )
    @blp.response(201, BatchReportSchema)
    def post(self) -> Any:
        """Ingest a batch of readings; answer with the batch report.

        Readings are validated, cleaned and stored idempotently (re-sending stores nothing
        new); daily rollups and alerts are updated. `Location` names the stored batch.
        """
        st = state()
        folder = st.settings.instance_path / "tmp"
        folder.mkdir(parents=True, exist_ok=True)
        path, fmt = _body_to_file(folder)
        source = f"api:{current_principal().key_id}:{g.request_id}"
        try:
            report = ingest_file(st.engine, path, st.settings, fmt=fmt, source=source)
        except FormatError as exc:
            message = str(exc).replace(f"{path}: ", "").replace(str(path), "body")
            raise validation_problem("body", message, "body") from exc
        except UnicodeDecodeError as exc:  # the format readers expect UTF-8 text
            raise validation_problem("body", f"not UTF-8 text ({exc.reason})", "body") from exc
        finally:
            path.unlink(missing_ok=True)
        location = f"{request.script_root}/api/v1/reading-batches/{report.batch_id}"
        return report.to_dict(), 201, {"Location": location}

    @guard(Role.ADMIN, Role.DATA_PROVIDER)
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, page_of(ReadingBatchSchema))
    @blp.doc(operationId="list_reading_batches")
    def get(self, query: dict[str, Any]) -> Any:
        """List ingest batches, newest first (reports omitted: read one batch for its report)."""
        with Session(state().engine) as session:
            rows = batches_page(session, query["limit"], query["offset"])
        return page(rows, query["limit"], query["offset"])


@blp.route(f"/reading-batches/<{ID}:batch_id>")
class ReadingBatch(MethodView):
    @guard(Role.ADMIN, Role.DATA_PROVIDER)
    @blp.response(200, ReadingBatchSchema)
    @blp.doc(operationId="get_reading_batch")
    def get(self, batch_id: int) -> Any:
        """One ingest batch with its full report."""
        with Session(state().engine) as session:
            row = session.get(IngestBatch, batch_id)
            if row is None:
                raise ProblemError("not-found", f"no reading batch {batch_id}")
            return batch_dict(row)
