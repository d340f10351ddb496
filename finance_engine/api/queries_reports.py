"""Read side of the report registry for the API: lookups, lender scoping, lists, views.

Who issued a report over the API is recorded in ``report.issued_by`` as
``lender:<lender code> key:<key id>`` (the registry has no lender column; see
``docs/reports.md``), so a loan officer's lists keep the reports whose ``issued_by`` starts with
its lender's prefix *and* whose entity has an active consent for that lender.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from finance_engine.services.consents import consented
from finance_engine.services.keys import Principal
from finance_engine.services.reports import CODE_ALPHABET, MAX_REPORT_ID
from finance_engine.tables_api import as_utc
from finance_engine.tables_reports import ReportRecord
from reports import PdfVerification

API_REPORTS = "/api/v1/reports"
CODE_LENGTH = 16
_CROCKFORD_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def normalise_code(text: str) -> str | None:
    """A verification code as registered (``XXXX-XXXX-XXXX-XXXX``), or None if ``text`` is not one.

    Case, dashes and spaces do not matter, and the Crockford look-alikes O, I and L read as 0, 1
    and 1, so a code typed from paper is found.
    """
    raw = text.upper().replace("-", "").replace(" ", "").translate(_CROCKFORD_ALIASES)
    if len(raw) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in raw):
        return None
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def find_by_code(session: Session, text: str) -> ReportRecord | None:
    """The report with verification code ``text`` (normalised), or None."""
    code = normalise_code(text)
    if code is None:
        return None
    return session.exec(select(ReportRecord).where(ReportRecord.verification_code == code)).first()


def find_record(session: Session, ref: str) -> ReportRecord | None:
    """A report by id (digits), report number or verification code, or None."""
    ref = ref.strip()
    if ref.isascii() and ref.isdigit():
        return session.get(ReportRecord, int(ref)) if 0 < int(ref) <= MAX_REPORT_ID else None
    by_number = session.exec(
        select(ReportRecord).where(ReportRecord.report_number == ref.upper())
    ).first()
    return by_number if by_number is not None else find_by_code(session, ref)


def lender_prefix(lender: str) -> str:
    """The start of ``issued_by`` for reports issued by ``lender``'s keys."""
    return f"lender:{lender} key:"


def issued_by(principal: Principal) -> str:
    """What the registry records as the issuer of a report issued by ``principal``."""
    assert principal.lender is not None
    return f"{lender_prefix(principal.lender)}{principal.key_id}"


def issued_by_lender(record: ReportRecord, lender: str) -> bool:
    """True when ``record`` was issued over the API by a key of ``lender``."""
    return record.issued_by.startswith(lender_prefix(lender))


def report_dict(record: ReportRecord) -> dict[str, Any]:
    """A registry record as the API shows it (without the report's data)."""
    issued = as_utc(record.issued_at)
    assert issued is not None
    assert record.id is not None
    data = record.data
    return {
        "id": record.id,
        "report_number": record.report_number,
        "verification_code": record.verification_code,
        "entity_id": record.entity_id,
        "borrower_name": str(data.get("borrower", {}).get("name", "")),
        "account_id": record.account_id,
        "period": dict(data.get("period", {})),
        "issuer": record.issuer,
        "issued_by": record.issued_by,
        "issued_at": issued.isoformat(),
        "valid_until": record.valid_until.isoformat(),
        "lang": record.lang,
        "sha256": record.sha256,
        "size_bytes": record.size_bytes,
        "pages": record.pages,
        "signer": record.signer_subject,
        "signature_level": record.signature_level,
        "development": record.development,
        "versions": record.versions,
        "verify_url": str(data.get("report", {}).get("verify_url", "")),
        "pdf_url": f"{API_REPORTS}/{record.id}/pdf",
    }


def reports_page(
    session: Session, *, lender: str | None, entity_id: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Registered reports, newest first; for a lender only its own, of consenting entities."""
    stmt = select(ReportRecord)
    if lender is not None:
        stmt = stmt.where(
            col(ReportRecord.issued_by).startswith(lender_prefix(lender), autoescape=True),
            consented(col(ReportRecord.entity_id), lender),
        )
    if entity_id is not None:
        stmt = stmt.where(ReportRecord.entity_id == entity_id)
    stmt = stmt.order_by(col(ReportRecord.issued_at).desc(), col(ReportRecord.id).desc())
    rows = session.exec(stmt.offset(offset).limit(limit + 1)).all()
    return [report_dict(r) for r in rows]


def public_summary(record: ReportRecord, today: date) -> dict[str, Any]:
    """The registry summary verification shows anyone holding the code: no report content."""
    issued = as_utc(record.issued_at)
    assert issued is not None
    borrower = record.data.get("borrower", {})
    return {
        "report_number": record.report_number,
        "verification_code": record.verification_code,
        "borrower": {"id": record.entity_id, "name": str(borrower.get("name", ""))},
        "period": dict(record.data.get("period", {})),
        "issuer": record.issuer,
        "issued_at": issued.isoformat(),
        "valid_until": record.valid_until.isoformat(),
        "in_validity_period": today <= record.valid_until,
        "lang": record.lang,
        "sha256": record.sha256,
        "size_bytes": record.size_bytes,
        "pages": record.pages,
        "signer": record.signer_subject,
        "signature_level": record.signature_level,
        "development": record.development,
        "versions": record.versions,
    }


def verification_dict(
    result: PdfVerification, record: ReportRecord | None, today: date
) -> dict[str, Any]:
    """A verification outcome with its status and, when registered, the registry summary.

    ``status`` is ``invalid`` when any check failed, ``expired`` when every check passed but the
    report's validity ended before ``today``, else ``valid``.
    """
    summary = None if record is None else public_summary(record, today)
    if not result.valid:
        status = "invalid"
    elif summary is not None and not summary["in_validity_period"]:
        status = "expired"
    else:
        status = "valid"
    return {**result.to_dict(), "status": status, "report": summary}
