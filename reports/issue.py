"""Issue a report: content -> PDF -> embedded data + PAdES signature, in one call."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from pyhanko.sign.timestamps.api import TimeStamper

from reports.content import ATTACHMENT_NAME, ReportContent
from reports.layout import render_report_pdf
from reports.signing import Attachment, ReportSigner, sign_report_pdf


@dataclass(frozen=True)
class SignedReport:
    """A signed report PDF and what it carries."""

    pdf: bytes
    sha256: str
    """SHA-256 of ``pdf``, hex."""
    pages: int
    data: dict[str, Any]
    """The report data (equal to the embedded JSON attachment once parsed)."""


def report_json(data: dict[str, Any]) -> bytes:
    """The report data as embedded: UTF-8 JSON, keys sorted, Chinese kept as text."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")


def issue_signed_report(
    content: ReportContent,
    signer: ReportSigner,
    *,
    font: str,
    timestamper: TimeStamper | None = None,
    location: str = "",
) -> SignedReport:
    """Lay out ``content``, embed its data and sign.

    Parameters
    ----------
    font
        A font name from :func:`reports.fonts.register_font` (embedded and subset).
    timestamper
        Signature timestamp source for PAdES B-T; None signs B-B.
    """
    rendered = render_report_pdf(content, font=font)
    data = content.to_dict()
    attachment = Attachment(
        name=ATTACHMENT_NAME,
        data=report_json(data),
        description="Carbon credit report data (碳征信报告数据)",
    )
    pdf = sign_report_pdf(
        rendered.pdf,
        rendered.stamp,
        signer,
        attachment=attachment,
        timestamper=timestamper,
        reason=f"碳征信报告 Carbon credit report {content.meta.report_number}",
        location=location,
    )
    return SignedReport(
        pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest(), pages=rendered.pages, data=data
    )
