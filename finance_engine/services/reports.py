"""Issue, register, store and verify carbon credit reports.

:func:`issue_report` gathers a borrower's latest stored account, its monthly emissions (daily
rollups summed per meter and month, converted with the account's own factor set), the alerts of
the period and the catalog's indicative terms; renders and signs the PDF (:mod:`reports`); stores
it under the reports folder and registers it (:class:`finance_engine.tables_reports.ReportRecord`).
:func:`verify_report_file` and :func:`verify_report_ref` check a PDF's signature, trust chain and
integrity and that the registry knows it with the same SHA-256.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pyhanko.sign.timestamps.api import TimeStamper
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from finance_engine.config import Settings
from finance_engine.models import Entity
from finance_engine.services.accounts import latest_account
from finance_engine.services.report_data import gather_report_inputs
from finance_engine.services.signing import load_report_signer, report_timestamper, trust_roots
from finance_engine.tables_reports import ReportRecord
from reports import (
    Lang,
    PdfVerification,
    ReportContent,
    ReportMeta,
    ReportSigner,
    SignedReport,
    build_report_content,
    issue_signed_report,
    locate_cjk_font,
    register_font,
    verify_report_pdf,
)
from reports.verify import REGISTERED, CheckResult

logging.getLogger("pyhanko").addHandler(logging.NullHandler())
logging.getLogger("pyhanko_certvalidator").addHandler(logging.NullHandler())

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford base32: no I, L, O or U, so codes read aloud and typed back unambiguously."""


MAX_REPORT_ID = 2**63 - 1
"""The largest report id (BIGINT)."""


class ReportError(ValueError):
    """A report cannot be issued or found; the message says which input and why."""


@dataclass(frozen=True)
class IssuedReport:
    """A report just issued and registered."""

    id: int
    report_number: str
    verification_code: str
    entity_id: str
    path: Path
    sha256: str
    size_bytes: int
    pages: int
    issued_at: datetime
    valid_until: str
    lang: str
    signature_level: str
    development: bool
    verify_url: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "report_number": self.report_number,
            "verification_code": self.verification_code,
            "entity_id": self.entity_id,
            "path": str(self.path),
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "pages": self.pages,
            "issued_at": self.issued_at.isoformat(),
            "valid_until": self.valid_until,
            "lang": self.lang,
            "signature_level": self.signature_level,
            "development": self.development,
            "verify_url": self.verify_url,
        }


def new_code(groups: int = 4, size: int = 4) -> str:
    """A random code like ``K7QF-9M2X-T4RA-8HZC`` (80 bits for the default 4 × 4)."""
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(groups * size))
    return "-".join(chars[i : i + size] for i in range(0, len(chars), size))


def issue_report(
    engine: Engine,
    settings: Settings,
    entity_id: str,
    *,
    lang: Lang = Lang.BILINGUAL,
    issued_by: str = "",
    now: datetime | None = None,
    signer: ReportSigner | None = None,
    timestamper: TimeStamper | None = None,
    base_limit_yuan: Decimal | None = None,
) -> IssuedReport:
    """Issue, sign, store and register a report on ``entity_id``'s latest account.

    Parameters
    ----------
    now
        Issue time (default: the current time in the configured zone).
    signer, timestamper
        Override the configured key and timestamp authority (tests, benchmarks).
    base_limit_yuan
        Base limit for the indicative limits (default the configured one), yuan.

    Raises
    ------
    ReportError
        Unknown entity, or no stored account.
    """
    account = _account(engine, entity_id)
    zone = ZoneInfo(settings.timezone)
    issued_at = (now or datetime.now(zone)).astimezone(zone)
    base = base_limit_yuan if base_limit_yuan is not None else settings.report_base_limit_yuan
    signer = signer or load_report_signer(settings)
    timestamper = timestamper if timestamper is not None else report_timestamper(settings)
    inputs = gather_report_inputs(engine, settings, account, issued_at.date(), base)
    content = build_report_content(
        account,
        meta=_meta(settings, signer, issued_at, lang),
        monthly=inputs.monthly,
        alerts=inputs.alerts,
        offers=inputs.offers,
        base_limit_yuan=base,
        catalog_version=inputs.catalog_version,
        lpr_version=inputs.lpr_version,
    )
    font = register_font(locate_cjk_font(settings.report_font, settings.report_font_index))
    signed = issue_signed_report(content, signer, font=font, timestamper=timestamper)
    path = _store_pdf(settings, content.meta.report_number, signed.pdf)
    level = "B-T" if timestamper is not None else "B-B"
    try:
        record = _register(engine, content, signer, path, signed, account, issued_by, level)
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return _issued(record, path, issued_at)


def _meta(settings: Settings, signer: ReportSigner, issued_at: datetime, lang: Lang) -> ReportMeta:
    """A fresh report number and verification code, validity and verification address."""
    code = new_code()
    return ReportMeta(
        report_number=f"CCR-{issued_at:%Y%m%d}-{new_code(2, 4).replace('-', '')}",
        verification_code=code,
        issued_at=issued_at,
        valid_until=issued_at.date() + timedelta(days=settings.report_validity_days),
        issuer=settings.report_issuer,
        verify_url=settings.report_verify_url.rstrip("/") + "/" + code,
        lang=lang,
        signer_name=signer.common_name,
        development=signer.development,
    )


def _account(engine: Engine, entity_id: str) -> dict[str, Any]:
    with Session(engine) as session:
        if session.get(Entity, entity_id) is None:
            raise ReportError(f"entity: {entity_id!r} is not a known entity")
    account = latest_account(engine, entity_id)
    if account is None:
        raise ReportError(
            f"entity: {entity_id!r} has no stored carbon account; run `finance-engine account "
            "compute --period ...` first"
        )
    return account


def _store_pdf(settings: Settings, number: str, pdf: bytes) -> Path:
    folder = settings.reports_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{number}.pdf"
    tmp = folder / f".{number}.pdf.tmp"
    tmp.write_bytes(pdf)
    os.replace(tmp, path)
    return path


def _register(
    engine: Engine,
    content: ReportContent,
    signer: ReportSigner,
    path: Path,
    signed: SignedReport,
    account: dict[str, Any],
    issued_by: str,
    level: str,
) -> ReportRecord:
    meta, data = content.meta, signed.data
    record = ReportRecord(
        report_number=meta.report_number,
        verification_code=meta.verification_code,
        entity_id=str(content.entity["id"]),
        account_id=account.get("id"),
        issuer=meta.issuer,
        issued_by=issued_by,
        issued_at=meta.issued_at.astimezone(UTC),
        valid_until=meta.valid_until,
        lang=meta.lang.value,
        sha256=signed.sha256,
        size_bytes=len(signed.pdf),
        pages=signed.pages,
        path=path.name,
        signer_subject=signer.certificate.subject.human_friendly,
        signer_cert_sha256=hashlib.sha256(signer.certificate.dump()).hexdigest(),
        development=signer.development,
        signature_level=level,
        versions=dict(data["versions"]),
        data=data,
    )
    with Session(engine) as session:
        session.add(record)
        session.commit()
        session.refresh(record)
    return record


def _issued(record: ReportRecord, path: Path, issued_at: datetime) -> IssuedReport:
    assert record.id is not None
    return IssuedReport(
        id=record.id,
        report_number=record.report_number,
        verification_code=record.verification_code,
        entity_id=record.entity_id,
        path=path,
        sha256=record.sha256,
        size_bytes=record.size_bytes,
        pages=record.pages,
        issued_at=issued_at,
        valid_until=record.valid_until.isoformat(),
        lang=record.lang,
        signature_level=record.signature_level,
        development=record.development,
        verify_url=str(record.data["report"]["verify_url"]),
    )


def find_report(engine: Engine, ref: str) -> ReportRecord | None:
    """A registered report by id (digits), report number or verification code."""
    ref = ref.strip()
    with Session(engine) as session:
        if ref.isascii() and ref.isdigit():  # ids fit a BIGINT; larger ones name no report
            return session.get(ReportRecord, int(ref)) if int(ref) <= MAX_REPORT_ID else None
        stmt = select(ReportRecord).where(
            (col(ReportRecord.report_number) == ref)
            | (col(ReportRecord.verification_code) == ref.upper())
        )
        return session.exec(stmt).first()


def report_file(settings: Settings, record: ReportRecord) -> Path:
    """Where a registered report's PDF is stored."""
    return settings.reports_path / record.path


def verify_report_file(engine: Engine, settings: Settings, data: bytes) -> PdfVerification:
    """Verify an uploaded PDF: signature, trust, integrity, and the registry entry."""
    result = verify_report_pdf(data, trust_roots(settings))
    return result.with_check(_registry_check(engine, result))


def verify_report_ref(engine: Engine, settings: Settings, ref: str) -> PdfVerification:
    """Verify a registered report's stored PDF, found by id, report number or code.

    Raises
    ------
    ReportError
        When no report has that reference, or its file is missing.
    """
    record = find_report(engine, ref)
    if record is None:
        raise ReportError(f"report: no registered report has id, number or code {ref!r}")
    path = report_file(settings, record)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReportError(
            f"report {record.report_number}: its file cannot be read ({exc})"
        ) from exc
    return verify_report_file(engine, settings, data)


def _registry_check(engine: Engine, result: PdfVerification) -> CheckResult:
    code = result.verification_code
    if code is None:
        return CheckResult(REGISTERED, False, "no report data to look the report up by")
    record = find_report(engine, code)
    if record is None or record.report_number != result.report_number:
        return CheckResult(
            REGISTERED,
            False,
            f"report {result.report_number} (code {code}) is not in the registry",
        )
    if record.sha256 != result.sha256:
        return CheckResult(
            REGISTERED,
            False,
            f"report {record.report_number} is registered with SHA-256 {record.sha256[:16]}…, "
            f"this file's is {result.sha256[:16]}…: not the issued file",
        )
    return CheckResult(
        REGISTERED,
        True,
        f"report {record.report_number} issued {record.issued_at:%Y-%m-%d} is registered with "
        "this SHA-256",
    )


def list_reports(
    engine: Engine, *, entity_id: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Registered reports (newest first), without their data."""
    if not 1 <= limit <= 10_000:
        raise ReportError(f"limit: {limit} is not between 1 and 10000")
    with Session(engine) as session:
        stmt = select(ReportRecord)
        if entity_id is not None:
            stmt = stmt.where(ReportRecord.entity_id == entity_id)
        stmt = stmt.order_by(col(ReportRecord.issued_at).desc(), col(ReportRecord.id).desc())
        return [record_summary(r) for r in session.exec(stmt.limit(limit)).all()]


def record_summary(record: ReportRecord) -> dict[str, Any]:
    """The registry fields of a report."""
    return {
        "id": record.id,
        "report_number": record.report_number,
        "verification_code": record.verification_code,
        "entity_id": record.entity_id,
        "account_id": record.account_id,
        "issuer": record.issuer,
        "issued_by": record.issued_by,
        "issued_at": record.issued_at.isoformat(),
        "valid_until": record.valid_until.isoformat(),
        "lang": record.lang,
        "sha256": record.sha256,
        "size_bytes": record.size_bytes,
        "pages": record.pages,
        "path": record.path,
        "signer": record.signer_subject,
        "development": record.development,
        "signature_level": record.signature_level,
        "versions": record.versions,
    }
