"""The report's closing sections: data quality, alerts, products, methodology, signature."""

from __future__ import annotations

from typing import Any

from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Spacer,
)

from reports.content import ReportContent
from reports.flow import Styles, grid, heading, label, para, row_table, verify_block
from reports.i18n import (
    ALERT_KIND_NAMES,
    ENERGY_NAMES,
    SEVERITY_NAMES,
    Lang,
    pair,
    text,
)

MAX_ALERT_ROWS = 20


def quality(content: ReportContent, lang: Lang, st: Styles, width: float) -> list[Flowable]:
    """Completeness, quality tier and where the data came from."""
    q = content.account["data_quality"]
    received, expected = q.get("received_intervals"), q.get("expected_intervals")
    rows = [
        ("completeness", f"{float(q['completeness']):.1%}"),
        ("quality_tier", str(q["tier"])),
        ("data_source", text("metered" if q["metered"] else "declared", lang)),
        ("intervals", "-" if expected is None else f"{received:,} / {expected:,}"),
    ]
    return [
        CondPageBreak(120),
        heading("quality", lang, st),
        grid(
            [[label(k, lang, st), para(v, st)] for k, v in rows],
            [170, width - 170],
            st.font,
            header=False,
        ),
    ]


def alerts(content: ReportContent, lang: Lang, st: Styles, width: float) -> list[Flowable]:
    """Alerts raised on the borrower's meters in the period (most severe first)."""
    out: list[Flowable] = [CondPageBreak(120), heading("alerts", lang, st)]
    if not content.alerts:
        return [*out, label("no_alerts", lang, st, style=st.body)]
    rows: list[list[Any]] = [
        [label(k, lang, st) for k in ("alert_time", "alert_kind", "severity", "meter", "status")]
    ]
    for a in content.alerts[:MAX_ALERT_ROWS]:
        rows.append(
            [
                a.started_at[:16].replace("T", " "),
                label(a.kind, lang, st, ALERT_KIND_NAMES),
                label(a.severity, lang, st, SEVERITY_NAMES),
                para(a.meter, st),
                para(a.status, st),
            ]
        )
    out.append(
        grid(rows, [width * 0.22, width * 0.24, width * 0.16, width * 0.22, width * 0.16], st.font)
    )
    if len(content.alerts) > MAX_ALERT_ROWS:
        out.append(para(f"+{len(content.alerts) - MAX_ALERT_ROWS} …", st, st.small))
    return out


def offers(content: ReportContent, lang: Lang, st: Styles, width: float) -> list[Flowable]:
    """Products open to the grade with indicative terms."""
    out: list[Flowable] = [CondPageBreak(160), heading("products", lang, st)]
    if not content.offers:
        return [*out, label("no_products", lang, st, style=st.body)]
    keys = ("product", "lender", "multiplier", "discount", "indicative_limit", "indicative_rate")
    rows: list[list[Any]] = [[label(k, lang, st) for k in keys]]
    review = text("refer", lang)
    for o in content.offers:
        name = o.name_en if lang is Lang.EN else o.name_zh
        lender = o.lender_en if lang is Lang.EN else o.lender_zh
        rate = f"{o.indicative_rate_pct}%" + (f" ({review})" if o.review else "")
        rows.append(
            [
                para(f"{name}\n{o.product}", st),
                para(lender, st),
                f"{o.limit_multiplier}×",
                str(o.rate_discount_bp),
                f"{o.indicative_limit_yuan:,.2f}",
                para(rate, st),
            ]
        )
    w = [0.26, 0.2, 0.1, 0.1, 0.18, 0.16]
    out.append(grid(rows, [width * f for f in w], st.font))
    main, sub = pair("products_note", lang)
    base = f"{content.base_limit_yuan:,.2f}"
    note = main.format(base=base) + (" " + sub.format(base=base) if sub else "")
    if any(o.illustrative for o in content.offers):
        note += f" ({text('illustrative', lang)})"
    out.append(para(note, st, st.small))
    return out


def methodology(content: ReportContent, lang: Lang, st: Styles, width: float) -> list[Flowable]:
    """Method, versions of every input, and the emission factors used."""
    v = content.versions
    rows = [
        ("factor_set", f"{v.factor_set} (sha256 {v.factor_set_sha256[:16]})"),
        ("benchmark_version", v.benchmark or "-"),
        ("grading_version", v.grading or "-"),
        ("catalog_version", v.catalog[:16] or "-"),
        ("lpr_version", v.lpr or "-"),
        ("report_format", v.report_format),
    ]
    out: list[Flowable] = [CondPageBreak(200), heading("methodology", lang, st)]
    out.append(label("methodology_text", lang, st, style=st.small))
    out.append(Spacer(1, 6))
    out.append(
        grid(
            [[label(k, lang, st), para(val, st)] for k, val in rows],
            [170, width - 170],
            st.font,
            header=False,
        )
    )
    factors = content.account.get("factors_used", [])
    if factors:
        out += [Spacer(1, 6), label("factors_used", lang, st, style=st.body)]
        frows: list[list[Any]] = [[label(k, lang, st) for k in ("energy_type", "factor", "source")]]
        for f in factors:
            frows.append(
                [
                    label(f["energy_type"], lang, st, ENERGY_NAMES),
                    f"{f['value']:.6g} {f['unit']}",
                    para(f"{f.get('basis', '')}; {f.get('source', '')}", st, st.small),
                ]
            )
        out.append(grid(frows, [width * 0.22, width * 0.2, width * 0.58], st.font))
    out.append(Spacer(1, 4))
    out.append(label("attachment_note", lang, st, style=st.small))
    return out


def signature(
    content: ReportContent, lang: Lang, st: Styles, width: float, stamp: Flowable
) -> list[Flowable]:
    """The closing block: the signature stamp beside the QR code and verification code."""
    block = row_table(
        [stamp, verify_block(content, lang, st, qr_size=72)],
        [stamp.width + 12, width - stamp.width - 12],
        st,
    )
    return [KeepTogether([heading("signature", lang, st), block])]
