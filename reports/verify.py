"""Verify a signed report PDF: signature, trust chain, later changes, embedded report data.

:func:`verify_report_pdf` runs every check it can and says, for each, whether it passed and why
not. The registry check (known report, matching SHA-256) needs the database and is added by the
application (``finance_engine.services.reports``) with :meth:`PdfVerification.with_check`.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from reports.content import ATTACHMENT_NAME, REPORT_FORMAT

log = logging.getLogger(__name__)

READABLE = "readable"
SIGNED = "signed"
INTACT = "signature_intact"
TRUSTED = "certificate_trusted"
TIMESTAMP = "timestamp_valid"
UNMODIFIED = "unmodified_since_signing"
REPORT_DATA = "report_data"
REGISTERED = "registered"

ALLOWED_LATER_CHANGES = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
"""Later revisions that do not change content: validation data and document timestamps."""


@dataclass(frozen=True)
class CheckResult:
    """One verification check: its name, whether it passed, and a sentence saying why."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class PdfVerification:
    """The outcome of verifying one PDF."""

    sha256: str
    """SHA-256 of the file as given, hex."""
    checks: tuple[CheckResult, ...]
    signer: str | None = None
    signing_time: str | None = None
    timestamp_time: str | None = None
    report_data: dict[str, Any] | None = None
    """The embedded report data, from the signed revision, when it could be read."""

    @property
    def valid(self) -> bool:
        """True when every check passed."""
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        """The checks that failed."""
        return tuple(c for c in self.checks if not c.ok)

    @property
    def report_number(self) -> str | None:
        """The report number in the embedded data, if readable."""
        return None if self.report_data is None else self.report_data["report"]["number"]

    @property
    def verification_code(self) -> str | None:
        """The verification code in the embedded data, if readable."""
        return None if self.report_data is None else self.report_data["report"]["verification_code"]

    def with_check(self, check: CheckResult) -> PdfVerification:
        """A copy with one more check appended."""
        return replace(self, checks=(*self.checks, check))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (without the report data)."""
        return {
            "valid": self.valid,
            "sha256": self.sha256,
            "report_number": self.report_number,
            "verification_code": self.verification_code,
            "signer": self.signer,
            "signing_time": self.signing_time,
            "timestamp_time": self.timestamp_time,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
            "failures": [f"{c.name}: {c.detail}" for c in self.failures],
        }


def verify_report_pdf(data: bytes, trust_roots: Sequence[asn1_x509.Certificate]) -> PdfVerification:
    """Verify a report PDF against ``trust_roots`` (no network: no fetching of revocation data).

    Checks, in order: the file is a readable PDF; it holds a signature; the signature is intact
    (the signed bytes match and the signature value verifies); the signer's certificate chains
    to a trust root; a signature timestamp, if any, is valid and trusted; nothing but validation
    data was added after signing; the signed revision embeds the report data.
    """
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_regular_signatures
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        return PdfVerification(
            sha256, (CheckResult(READABLE, False, f"not a readable PDF: {exc}"),)
        )
    checks = [CheckResult(READABLE, True, "the file is a readable PDF")]
    if not signatures:
        checks.append(CheckResult(SIGNED, False, "the PDF holds no signature"))
        return PdfVerification(sha256, tuple(checks))
    sig = signatures[0]
    checks.append(CheckResult(SIGNED, True, f"signed in revision {sig.signed_revision + 1}"))
    context = ValidationContext(
        trust_roots=list(trust_roots), allow_fetching=False, revocation_mode="soft-fail"
    )
    try:
        status = validate_pdf_signature(sig, context)
    except (SignatureValidationError, PdfError, ValueError, KeyError) as exc:
        log.debug("signature validation failed", exc_info=True)
        checks.append(CheckResult(INTACT, False, f"the signature cannot be validated: {exc}"))
        return PdfVerification(sha256, tuple(checks))
    checks += _status_checks(status, reader, sig)
    report, detail = _report_data(reader, sig)
    checks.append(CheckResult(REPORT_DATA, report is not None, detail))
    return PdfVerification(
        sha256,
        tuple(checks),
        signer=status.signing_cert.subject.human_friendly,
        signing_time=_iso(status.signer_reported_dt),
        timestamp_time=_iso(status.timestamp_validity.timestamp)
        if status.timestamp_validity is not None
        else None,
        report_data=report,
    )


def _status_checks(
    status: PdfSignatureStatus, reader: PdfFileReader, sig: EmbeddedPdfSignature
) -> list[CheckResult]:
    intact = _intact(status)
    if not intact.ok:  # trust and coverage mean nothing for bytes that no longer match
        return [intact]
    checks = [intact, _trusted(status)]
    ts = status.timestamp_validity
    if ts is not None:
        ok = bool(ts.intact and ts.valid and ts.trusted)
        checks.append(
            CheckResult(
                TIMESTAMP,
                ok,
                f"signature timestamp {ts.timestamp.isoformat()} is valid and trusted"
                if ok
                else "the signature timestamp is invalid or its authority is not trusted",
            )
        )
    checks.append(_unmodified(status, reader, sig))
    return checks


def _intact(status: PdfSignatureStatus) -> CheckResult:
    if not status.intact:
        return CheckResult(
            INTACT,
            False,
            "the signed bytes were changed after signing (their digest no longer matches)",
        )
    if not status.valid:
        return CheckResult(
            INTACT, False, "the signature value does not verify with the signer's certificate"
        )
    return CheckResult(INTACT, True, "the signed bytes are unchanged and the signature verifies")


TRUST_PROBLEMS: dict[str, str] = {
    "NO_CERTIFICATE_CHAIN_FOUND": "does not chain to the configured trust root",
    "CERTIFICATE_CHAIN_GENERAL_FAILURE": "does not chain to the configured trust root",
    "EXPIRED": "has expired",
    "OUT_OF_BOUNDS_NO_POE": "was used outside its validity period",
    "OUT_OF_BOUNDS_NOT_REVOKED": "was used outside its validity period",
    "NOT_YET_VALID": "is not valid yet",
    "REVOKED": "is revoked",
    "REVOKED_NO_POE": "is revoked",
    "REVOKED_CA_NO_POE": "has a revoked issuer",
    "CHAIN_CONSTRAINTS_FAILURE": "breaks a chain constraint (e.g. key usage)",
    "CRYPTO_CONSTRAINTS_FAILURE": "uses a disallowed algorithm",
}
"""Explanations of pyHanko's AdES sub-indications for an untrusted signer."""


def _trusted(status: PdfSignatureStatus) -> CheckResult:
    subject = status.signing_cert.subject.human_friendly
    if status.trusted:
        return CheckResult(TRUSTED, True, f"the certificate of {subject} chains to a trust root")
    indic = status.trust_problem_indic
    code = "UNKNOWN" if indic is None else str(getattr(indic, "name", indic))
    why = TRUST_PROBLEMS.get(code, "is not trusted")
    return CheckResult(TRUSTED, False, f"the certificate of {subject} {why} ({code})")


def _unmodified(
    status: PdfSignatureStatus, reader: PdfFileReader, sig: EmbeddedPdfSignature
) -> CheckResult:
    later = reader.xrefs.total_revisions - 1 - sig.signed_revision
    coverage = status.coverage
    if coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return CheckResult(UNMODIFIED, True, "the signature covers the entire file")
    level = status.modification_level
    if (
        coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and level in ALLOWED_LATER_CHANGES
        and status.docmdp_ok is not False
    ):
        return CheckResult(UNMODIFIED, True, f"{later} later revision(s) add only validation data")
    what = "unknown changes" if level is None else f"modification level {level.name}"
    return CheckResult(
        UNMODIFIED,
        False,
        f"the file was changed after signing: {later} later incremental update(s) with {what}",
    )


def _report_data(
    reader: PdfFileReader, sig: EmbeddedPdfSignature
) -> tuple[dict[str, Any] | None, str]:
    """The report data attachment as it was in the signed revision."""
    try:
        root = reader.get_historical_root(sig.signed_revision)
        names = root["/Names"]["/EmbeddedFiles"]["/Names"]
        files = {str(names[i]): names[i + 1].get_object() for i in range(0, len(names), 2)}
        spec = files[ATTACHMENT_NAME]
        data = json.loads(spec["/EF"]["/F"].get_object().data)
    except (KeyError, IndexError, TypeError, ValueError, PdfError) as exc:
        return None, f"the signed revision embeds no readable {ATTACHMENT_NAME} ({exc!r})"
    if not isinstance(data, dict) or data.get("format") != REPORT_FORMAT:
        return None, f"{ATTACHMENT_NAME} is not {REPORT_FORMAT} data"
    return data, f"{ATTACHMENT_NAME} ({REPORT_FORMAT}) is embedded and covered by the signature"


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()
