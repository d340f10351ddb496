"""Carbon credit reports: content -> PDF (ReportLab) -> PAdES signature (pyHanko); verification.

Knows ReportLab and pyHanko, never Flask or SQL. The public API:

- content: :func:`build_report_content`, :class:`ReportContent`, :class:`ReportMeta`,
  :class:`MonthlySeries`, :class:`AlertLine`; :func:`monthly_series` from per-meter months;
  :func:`indicative_offers` from catalog products;
- layout: :func:`render_report_pdf` (unsigned PDF), fonts: :func:`locate_cjk_font`,
  :func:`register_font`;
- signing: :class:`ReportSigner` (PKCS#12 or PEM, key parsed once), :func:`sign_report_pdf`,
  :func:`issue_signed_report` (render + attach + sign), :func:`generate_dev_pki`;
- verification: :func:`verify_report_pdf`.
"""

from reports.content import (
    ATTACHMENT_NAME,
    REPORT_FORMAT,
    AlertLine,
    MonthlyEmissions,
    MonthlySeries,
    ReportContent,
    ReportDataError,
    ReportMeta,
    build_report_content,
)
from reports.fonts import FontError, FontSpec, locate_cjk_font, register_font
from reports.i18n import Lang
from reports.issue import SignedReport, issue_signed_report, report_json
from reports.layout import RenderedReport, StampPlacement, render_report_pdf
from reports.monthly import MeterMonth, monthly_series
from reports.offers import Offer, indicative_offers
from reports.pki import DevPki, generate_dev_pki, is_development_certificate
from reports.signing import Attachment, ReportSigner, SigningKeyError, sign_report_pdf
from reports.verify import CheckResult, PdfVerification, verify_report_pdf

__all__ = [
    "ATTACHMENT_NAME",
    "REPORT_FORMAT",
    "AlertLine",
    "Attachment",
    "CheckResult",
    "DevPki",
    "FontError",
    "FontSpec",
    "Lang",
    "MeterMonth",
    "MonthlyEmissions",
    "MonthlySeries",
    "Offer",
    "PdfVerification",
    "RenderedReport",
    "ReportContent",
    "ReportDataError",
    "ReportMeta",
    "ReportSigner",
    "SignedReport",
    "SigningKeyError",
    "StampPlacement",
    "build_report_content",
    "generate_dev_pki",
    "indicative_offers",
    "is_development_certificate",
    "issue_signed_report",
    "locate_cjk_font",
    "monthly_series",
    "register_font",
    "render_report_pdf",
    "report_json",
    "sign_report_pdf",
    "verify_report_pdf",
]
