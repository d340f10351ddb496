"""Signed carbon credit reports: issue, list, read, download, verify.

Loan officers issue reports on entities that consent to their lender and see only the reports
their lender issued, while the entity's consent lasts (otherwise 404, stored as a denial);
admin keys see every report. Any key may verify an uploaded PDF.
``GET /reports/verify/{verification_code}`` is public (no key): it is where a report's QR code
points, and it shows only whether the registered report is valid and its registry summary,
never its content.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from hashlib import sha256
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, request
from flask.views import MethodView
from sqlmodel import Session

from finance_engine.api.auth import ALL_ROLES, current_principal, deny, guard, require_visible
from finance_engine.api.blueprint import Blueprint
from finance_engine.api.pagination import page, page_of
from finance_engine.api.problems import ProblemError, validation_problem
from finance_engine.api.public import public
from finance_engine.api.queries_reports import (
    API_REPORTS,
    find_by_code,
    find_record,
    issued_by,
    issued_by_lender,
    report_dict,
    reports_page,
    verification_dict,
)
from finance_engine.api.schemas_reports import (
    PdfQuerySchema,
    ReportIssueSchema,
    ReportQuerySchema,
    ReportSchema,
    VerificationSchema,
)
from finance_engine.api.state import ApiState, state
from finance_engine.api.verify_page import render_verification_page
from finance_engine.config import Settings
from finance_engine.services.consents import EntityAccess, entity_access
from finance_engine.services.keys import Role
from finance_engine.services.reports import (
    ReportError,
    issue_report,
    report_file,
    verify_report_file,
)
from finance_engine.services.signing import SigningConfigError
from finance_engine.tables_reports import ReportRecord
from reports import FontError, Lang, PdfVerification

log = logging.getLogger("finance_engine.api")

blp = Blueprint("reports", __name__, description="Signed carbon credit reports (碳征信报告)")

READERS = (Role.ADMIN, Role.LOAN_OFFICER)
UPLOAD_MEDIA_TYPES = ("application/pdf", "multipart/form-data")
MULTIPART_ENVELOPE_BYTES = 16 << 10
"""Room for the multipart boundaries and part headers around an uploaded file."""
REF = "string(maxlength=64):report"
REF_DOC = {
    "parameters": [
        {
            "in": "path",
            "name": "report",
            "required": True,
            "description": "Report id, report number (CCR-...) or verification code",
            "schema": {"type": "string", "minLength": 1, "maxLength": 64},
        }
    ]
}
CREATED_LINKS = {
    "GetReport": {"operationId": "get_report", "parameters": {"report": "$response.body#/id"}},
    "DownloadReport": {
        "operationId": "download_report_pdf",
        "parameters": {"report": "$response.body#/id"},
    },
    "VerifyByCode": {
        "operationId": "verify_report_by_code",
        "parameters": {"verification_code": "$response.body#/verification_code"},
    },
}
PDF_RESPONSE = {
    "description": "The signed PDF, byte for byte as issued",
    "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    "headers": {
        "Content-Disposition": {
            "description": 'attachment (or inline); filename="<report number>.pdf"',
            "schema": {"type": "string"},
        },
        "ETag": {"description": "The registered SHA-256, quoted", "schema": {"type": "string"}},
    },
}
UPLOAD_BODY = {
    "required": True,
    "description": "The report PDF: the raw body (application/pdf) or the form field `file`; at "
    "most FINANCE_ENGINE_REPORT_MAX_UPLOAD_BYTES (4 MiB by default).",
    "content": {
        "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        },
    },
}
HTML_CONTENT = {"text/html": {"schema": {"type": "string"}}}
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
"""The verification page loads nothing and runs no script."""


def _today(settings: Settings) -> date:
    return datetime.now(ZoneInfo(settings.timezone)).date()


def _unavailable(exc: Exception, what: str) -> ProblemError:
    """Signing or font set-up is missing: the reason (server paths) goes to the log only."""
    log.error("%s unavailable: %s", what, exc)
    return ProblemError("unavailable", f"{what} is not set up on this server (logged)")


def _issue(st: ApiState, doc: dict[str, Any]) -> int:
    """Issue, sign, store and register a report; its id."""
    try:
        issued = issue_report(
            st.engine,
            st.settings,
            doc["entity_id"],
            lang=Lang(doc["lang"]),
            issued_by=issued_by(current_principal()),
            base_limit_yuan=doc.get("base_limit_yuan"),
        )
    except ReportError as exc:
        raise validation_problem("entity_id", str(exc).partition(": ")[2] or str(exc)) from exc
    except SigningConfigError as exc:
        raise _unavailable(exc, "report signing") from exc
    except FontError as exc:
        raise _unavailable(exc, "the report font") from exc
    return issued.id


def _visible_record(session: Session, ref: str) -> ReportRecord:
    """The report ``ref`` names, if the caller may see it; else 404 (a denial for banks)."""
    record = find_record(session, ref)
    principal = current_principal()
    if not principal.is_bank:
        if record is None:
            raise ProblemError("not-found", f"no report {ref!r}")
        return record
    lender = principal.lender
    assert lender is not None
    detail = f"no report {ref!r} visible to lender {lender}"
    if record is None:
        raise ProblemError("not-found", detail)
    if not issued_by_lender(record, lender):
        raise deny(principal, "other_lender", 404, entity_id=record.entity_id, detail=detail)
    if entity_access(session, record.entity_id, lender) is not EntityAccess.VISIBLE:
        raise deny(principal, "no_consent", 404, entity_id=record.entity_id, detail=detail)
    return record


def _read_stored(settings: Settings, record: ReportRecord) -> bytes:
    """The stored PDF of ``record``; 500 (logged) when it cannot be read."""
    try:
        return report_file(settings, record).read_bytes()
    except OSError as exc:
        log.error("report %s: stored file unreadable: %s", record.report_number, exc)
        raise ProblemError(
            "internal-error", f"the stored file of report {record.report_number} is unreadable"
        ) from exc


def _registered_pdf(settings: Settings, record: ReportRecord) -> bytes:
    """The stored PDF, refused (500, logged) unless it is the registered file."""
    data = _read_stored(settings, record)
    if sha256(data).hexdigest() != record.sha256:
        log.error("report %s: stored file differs from the registry", record.report_number)
        raise ProblemError(
            "internal-error",
            f"the stored file of report {record.report_number} does not match its registered "
            "SHA-256",
        )
    return data


def _verify(st: ApiState, data: bytes) -> PdfVerification:
    try:
        return verify_report_file(st.engine, st.settings, data)
    except SigningConfigError as exc:
        raise _unavailable(exc, "the verification trust root") from exc


def _verified(st: ApiState, data: bytes, record: ReportRecord | None) -> dict[str, Any]:
    """Verify ``data``; attach ``record``'s summary (or the registered report it claims)."""
    result = _verify(st, data)
    if record is None and result.verification_code is not None:
        with Session(st.engine) as session:
            claimed = find_by_code(session, result.verification_code)
        if claimed is not None and claimed.report_number == result.report_number:
            record = claimed
    return verification_dict(result, record, _today(st.settings))


@blp.route("/reports")
class Reports(MethodView):
    @guard(Role.LOAN_OFFICER, idempotent=True, body=True)
    @blp.arguments(ReportIssueSchema)
    @blp.response(201, ReportSchema)
    @blp.doc(operationId="issue_report", responses={201: {"links": CREATED_LINKS}})
    def post(self, doc: dict[str, Any]) -> Any:
        """Issue a signed report on the entity's latest stored carbon account.

        The entity must consent to the key's lender (else 404, stored as a denial) and have a
        stored account (else 422). The PDF is signed (PAdES), stored and registered; the answer
        is the registry record, `Location` names it. Takes 0.2-0.5 s.
        """
        st = state()
        with st.engine.connect() as conn:
            require_visible(conn, doc["entity_id"])
        report_id = _issue(st, doc)
        with Session(st.engine) as session:
            record = session.get(ReportRecord, report_id)
            assert record is not None
            body = report_dict(record)
        return body, 201, {"Location": f"{API_REPORTS}/{report_id}"}

    @guard(*READERS)
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, page_of(ReportSchema))
    @blp.doc(operationId="list_reports")
    def get(self, query: dict[str, Any]) -> Any:
        """List registered reports, newest first.

        Loan officers see the reports their lender issued on entities that consent to it now;
        with `entity_id`, an entity without that consent is a 404.
        """
        principal = current_principal()
        lender = principal.lender if principal.is_bank else None
        entity_id = query.get("entity_id")
        with Session(state().engine) as session:
            if entity_id is not None and lender is not None:
                require_visible(session, entity_id)
            rows = reports_page(
                session,
                lender=lender,
                entity_id=entity_id,
                limit=query["limit"],
                offset=query["offset"],
            )
        return page(rows, query["limit"], query["offset"])


@blp.route(f"/reports/<{REF}>")
class ReportItem(MethodView):
    @guard(*READERS)
    @blp.response(200, ReportSchema)
    @blp.doc(operationId="get_report", **REF_DOC)
    def get(self, report: str) -> Any:
        """One report's registry record, by id, report number or verification code."""
        with Session(state().engine) as session:
            return report_dict(_visible_record(session, report))


@blp.route(f"/reports/<{REF}>/pdf")
class ReportPdf(MethodView):
    @guard(*READERS)
    @blp.arguments(PdfQuerySchema, location="query")
    @blp.doc(operationId="download_report_pdf", responses={200: PDF_RESPONSE}, **REF_DOC)
    def get(self, query: dict[str, Any], report: str) -> Any:
        """Download the signed PDF, exactly as issued and registered."""
        st = state()
        with Session(st.engine) as session:
            record = _visible_record(session, report)
        data = _registered_pdf(st.settings, record)
        response = Response(data, mimetype="application/pdf")
        response.headers["Content-Disposition"] = (
            f'{query["disposition"]}; filename="{record.report_number}.pdf"'
        )
        response.headers["ETag"] = f'"{record.sha256}"'
        response.headers["Cache-Control"] = "private, no-store"
        return response


@blp.route(f"/reports/<{REF}>/verification")
class ReportVerification(MethodView):
    @guard(*READERS)
    @blp.response(200, VerificationSchema)
    @blp.doc(operationId="verify_registered_report", **REF_DOC)
    def get(self, report: str) -> Any:
        """Verify a registered report's stored PDF: signature, trust chain, integrity, registry."""
        st = state()
        with Session(st.engine) as session:
            record = _visible_record(session, report)
        return _verified(st, _read_stored(st.settings, record), record)


def _uploaded_pdf(settings: Settings) -> bytes:
    """The PDF of the request (raw body or form field ``file``), within the upload limit."""
    limit = settings.report_max_upload_bytes
    multipart = request.mimetype == "multipart/form-data"
    allowed = limit + MULTIPART_ENVELOPE_BYTES if multipart else limit
    request.max_content_length = allowed
    too_large = ProblemError(
        "payload-too-large",
        f"body: a report upload may be at most {limit} bytes "
        "(FINANCE_ENGINE_REPORT_MAX_UPLOAD_BYTES)",
    )
    if request.content_length is not None and request.content_length > allowed:
        raise too_large
    if multipart:
        upload = request.files.get("file")
        if upload is None:
            raise validation_problem(
                "file", "missing: upload the PDF as the form field 'file'", "body"
            )
        data = upload.stream.read(limit + 1)
    else:
        data = request.get_data(cache=False)
    if len(data) > limit:
        raise too_large
    if not data:
        raise validation_problem(
            "file" if multipart else "body", "empty: send the report PDF", "body"
        )
    return data


@blp.route("/reports/verify")
class UploadVerification(MethodView):
    @guard(*ALL_ROLES, accepts=UPLOAD_MEDIA_TYPES, body=True)
    @blp.response(200, VerificationSchema)
    @blp.doc(operationId="verify_uploaded_report", requestBody=UPLOAD_BODY)
    def post(self) -> Any:
        """Verify an uploaded report PDF; every failed check says why.

        Checks: readable PDF, signed, signature intact, certificate chains to the trust root,
        timestamp (B-T), unmodified since signing, embedded report data, registered with this
        SHA-256. An invalid file is a 200 with `valid: false`, not an error.
        """
        st = state()
        return _verified(st, _uploaded_pdf(st.settings), None)


@blp.route("/reports/verify/<string(maxlength=64):verification_code>")
class PublicVerification(MethodView):
    @public
    @blp.response(200, VerificationSchema)
    @blp.doc(operationId="verify_report_by_code", responses={200: {"content": HTML_CONTENT}})
    def get(self, verification_code: str) -> Any:
        """Verify a report by its verification code: public, no key (the QR code points here).

        Shows whether the registered report is valid (its stored PDF's signature, trust chain
        and registry hash) and its registry summary: number, borrower, period, issuer, dates,
        SHA-256. Never the report's content. Compare the SHA-256 with your copy, or upload it
        to `POST /reports/verify`. Browsers (`Accept: text/html`) get a page.
        """
        st = state()
        with Session(st.engine) as session:
            record = find_by_code(session, verification_code)
        if record is None:
            raise ProblemError(
                "not-found", f"no report has the verification code {verification_code!r}"
            )
        body = _verified(st, _read_stored(st.settings, record), record)
        best = request.accept_mimetypes.best_match(["application/json", "text/html"])
        if best == "text/html":
            page_response = Response(render_verification_page(body), mimetype="text/html")
            page_response.headers["Content-Security-Policy"] = PAGE_POLICY
            return page_response
        return body
