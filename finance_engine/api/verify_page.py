"""The page a browser gets from ``GET /api/v1/reports/verify/{verification_code}`` (a QR code).

A self-contained HTML page (no scripts, no external files) with the verification outcome and
the registry summary, Chinese first with English labels. Every value is HTML-escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any

STATUS_TEXT = {
    "valid": ("#1b7f3b", "报告有效 · Report valid"),
    "expired": ("#b07d00", "报告已过有效期 · Report expired"),
    "invalid": ("#b3261e", "报告无效 · Report invalid"),
}
SUMMARY_ROWS = (
    ("report_number", "报告编号 Report number"),
    ("borrower", "借款人 Borrower"),
    ("period", "核算期 Accounting period"),
    ("issuer", "出具机构 Issuer"),
    ("issued_at", "出具时间 Issued (UTC)"),
    ("valid_until", "有效期至 Valid until"),
    ("signer", "签名证书 Signer"),
    ("signature_level", "签名级别 PAdES level"),
    ("sha256", "SHA-256"),
)
STYLE = (
    "body{font-family:sans-serif;max-width:44rem;margin:1rem auto;padding:0 1rem;color:#222}"
    "table{border-collapse:collapse;width:100%}td{border-bottom:1px solid #ddd;padding:.4rem;"
    "vertical-align:top;word-break:break-all}td:first-child{width:38%;color:#555}"
    ".status{color:#fff;padding:.8rem;border-radius:.3rem;font-size:1.3rem}"
)


def _value(name: str, report: dict[str, Any]) -> str:
    value = report[name]
    if name == "borrower":
        return f"{value['name']} ({value['id']})"
    if name == "period":
        return f"{value.get('start', '?')} – {value.get('end', '?')}"
    return str(value)


def _rows(report: dict[str, Any] | None) -> list[str]:
    if report is None:
        return []
    rows = [
        f"<tr><td>{escape(label)}</td><td>{escape(_value(name, report))}</td></tr>"
        for name, label in SUMMARY_ROWS
    ]
    if report["development"]:
        rows.append(
            "<tr><td>注意 Note</td><td>开发用密钥签名，不可用于放贷 · "
            "Signed with a development key: not valid for lending</td></tr>"
        )
    return rows


def render_verification_page(result: dict[str, Any]) -> str:
    """HTML for a verification outcome (as :func:`verification_dict` returns it)."""
    colour, headline = STATUS_TEXT[result["status"]]
    checks = "".join(
        f"<li>{'✔' if c['ok'] else '✘'} {escape(c['name'])}: {escape(c['detail'])}</li>"
        for c in result["checks"]
    )
    return (
        '<!doctype html><html lang="zh"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>碳征信报告验证 Report verification</title><style>{STYLE}</style></head><body>"
        "<h1>碳征信报告验证<br><small>Carbon credit report verification</small></h1>"
        f'<p class="status" style="background:{colour}">{escape(headline)}</p>'
        f"<table>{''.join(_rows(result['report']))}</table>"
        f"<h2>检查 Checks</h2><ul>{checks}</ul>"
        "<p>请核对您所持报告的 SHA-256 与上表一致。Check that the SHA-256 of your copy matches "
        "the one above.</p></body></html>"
    )
