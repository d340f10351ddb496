"""The report's sections as platypus flowables, in reading order (cover first, signature last).

Data quality, alerts, products, methodology and the signature block are in
:mod:`reports.sections_annex`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    PageBreak,
    Paragraph,
    Spacer,
)

from reports import charts
from reports.content import ReportContent
from reports.flow import (
    GREY,
    Styles,
    grid,
    heading,
    label,
    num,
    pair_para,
    para,
    row_table,
    verify_block,
)
from reports.i18n import (
    CARBON_LABEL_NAMES,
    COLOUR_NAMES,
    SECTOR_NAMES,
    Lang,
    pair,
    source_pair,
    text,
)
from reports.layout import DEV_RED, format_time
from reports.sections_annex import alerts, methodology, offers, quality, signature


def build_story(
    content: ReportContent, lang: Lang, font: str, width: float, stamp: Flowable
) -> list[Flowable]:
    """Every section of the report; ``stamp`` is placed in the closing signature block."""
    st = Styles(font)
    story: list[Flowable] = []
    story += cover(content, lang, st, width)
    story += summary(content, lang, st, width)
    story += emissions(content, lang, st, width)
    story += monthly(content, lang, st, width)
    story += dimensions(content, lang, st, width)
    story += quality(content, lang, st, width)
    story += alerts(content, lang, st, width)
    story += offers(content, lang, st, width)
    story += methodology(content, lang, st, width)
    story += signature(content, lang, st, width, stamp)
    return story


def cover(content: ReportContent, lang: Lang, st: Styles, width: float) -> list[Flowable]:
    """Title, borrower and report identity, grade badge, QR code with verification code."""
    m, e, s = content.meta, content.entity, content.summary()
    main, sub = pair("title", lang)
    out: list[Flowable] = [Spacer(1, 30), Paragraph(escape(main), st.title)]
    if sub:
        out.append(Paragraph(escape(sub), st.subtitle))
    out.append(Paragraph(escape(text("subtitle", lang, sep=" · ")), st.subtitle))
    if m.development:
        dev = ParagraphStyle("dev", parent=st.subtitle, textColor=DEV_RED)
        out.append(Paragraph(escape(text("dev_only", lang)), dev))
    period = content.account["period"]
    rows = [
        ("borrower", e["name"]),
        ("entity_id", e["id"]),
        ("sector", text(str(e["sector"]), lang, SECTOR_NAMES)),
        ("industry_code", e.get("industry_code") or "-"),
        ("region", e.get("region") or "-"),
        ("period", f"{period['start']} – {period['end']}"),
        ("report_number", m.report_number),
        ("issue_date", format_time(m)),
        ("validity", m.valid_until.isoformat()),
        ("issuer", m.issuer),
    ]
    table = grid(
        [[label(k, lang, st), para(v, st)] for k, v in rows],
        [150, width - 150],
        st.font,
        header=False,
    )
    out += [Spacer(1, 24), table, Spacer(1, 24)]
    colour = s["colour"]
    badge = charts.grade_badge(colour, *pair(colour or "-", lang, COLOUR_NAMES), st.font)
    out.append(row_table([badge, verify_block(content, lang, st)], [120, width - 120], st))
    out.append(PageBreak())
    return out


def summary(content: ReportContent, lang: Lang, st: Styles, width: float) -> list[Flowable]:
    """Headline figures and the intensity beside its benchmarks."""
    s = content.summary()
    rows = [[label(k, lang, st), para(v, st)] for k, v in _summary_rows(s, lang)]
    out: list[Flowable] = [heading("summary", lang, st)]
    out.append(grid(rows, [170, width - 170], st.font, header=False))
    if s["provisional"]:
        out.append(label("provisional", lang, st, style=st.body))
    fields = (
        ("intensity", "intensity"),
        ("benchmark", "benchmark"),
        ("regional", "regional_intensity"),
        ("previous", "previous_intensity"),
    )
    bars = [(k, s[f]) for k, f in fields if s[f] is not None]
    if bars:
        labels = [text(k, lang, sep="\n") for k, _ in bars]
        values = [v for _, v in bars]
        out.append(Spacer(1, 8))
        out.append(
            charts.horizontal_bars(labels, values, st.font, width=width, highlight_first=True)
        )
    return out


def _summary_rows(s: dict[str, Any], lang: Lang) -> list[tuple[str, str]]:
    unit, yoy, grade = s["intensity_unit"], s["yoy_change_pct"], s["carbon_efficiency_grade"]

    def named(code: str | None, table: Mapping[str, tuple[str, str]]) -> str:
        return "-" if code is None else text(code, lang, table)

    def per_unit(value: float | None) -> str:
        return "-" if value is None else f"{num(value, 3)} {unit}"

    return [
        ("colour_grade", named(s["colour"], COLOUR_NAMES)),
        ("carbon_score", num(s["carbon_score"], 1)),
        ("efficiency_grade", "-" if grade is None else str(grade)),
        ("k_value", num(s["k"], 3)),
        ("carbon_label", named(s["carbon_label"], CARBON_LABEL_NAMES)),
        ("intensity", per_unit(s["intensity"])),
        ("benchmark", per_unit(s["benchmark"])),
        ("regional", per_unit(s["regional_intensity"])),
        ("previous", per_unit(s["previous_intensity"])),
        ("yoy", "-" if yoy is None else f"{yoy:+.1f}%"),
    ]


def emissions(content: ReportContent, lang: Lang, st: Styles, width: float) -> list[Flowable]:
    """Emissions by source (energy types, and non-energy lines of sector accounts) with scope
    and share; totals by scope, sinks and net when the account has them; bar chart and pie."""
    em = content.account["emissions_tco2e"]
    rows_data = content.emissions_rows()
    out: list[Flowable] = [CondPageBreak(200), heading("emissions", lang, st)]
    table = _emission_table(content, rows_data, lang, st)
    out.append(grid(table, [width * 0.4, width * 0.12, width * 0.28, width * 0.2], st.font))
    out.append(Spacer(1, 8))
    chart_rows = [r for r in rows_data if r["emissions_tco2e"] > 0]
    bars = charts.horizontal_bars(
        ["\n".join(p for p in source_pair(r["source"], lang) if p) for r in chart_rows],
        [r["emissions_tco2e"] for r in chart_rows],
        st.font,
        width=width * 0.62,
    )
    names = [pair("scope1", lang)[0], pair("scope2", lang)[0]]
    pie = charts.scope_pie(float(em["scope1"]), float(em["scope2"]), names, st.font)
    out.append(row_table([bars, pie], [width * 0.64, width * 0.36], st))
    return out


def _emission_table(
    content: ReportContent, rows_data: list[dict[str, Any]], lang: Lang, st: Styles
) -> list[list[Any]]:
    em = content.account["emissions_tco2e"]
    scopes = {"scope1": "1", "scope2": "2", "sink": text("scope_sink", lang)}
    rows: list[list[Any]] = [
        [label(k, lang, st) for k in ("emission_source", "scope", "tco2e", "share")]
    ]
    for r in rows_data:
        share = "" if r["share"] is None else f"{r['share']:.1%}"
        name = pair_para(*source_pair(r["source"], lang), st)
        rows.append([name, scopes.get(r["scope"], "-"), num(r["emissions_tco2e"]), share])
    totals = [("scope1", em["scope1"]), ("scope2", em["scope2"]), ("total", em["total"])]
    if em.get("net") is not None:
        totals += [("sinks", float(em["net"]) - float(em["total"])), ("net", em["net"])]
    rows += [[label(key, lang, st), "", num(value), ""] for key, value in totals]
    return rows


def monthly(content: ReportContent, lang: Lang, st: Styles, width: float) -> list[Flowable]:
    """Monthly emissions chart, or the reason there is none."""
    series = content.monthly
    out: list[Flowable] = [CondPageBreak(230), heading("monthly", lang, st)]
    if not series.available:
        return [*out, label("monthly_unavailable", lang, st, style=st.body)]
    out.append(
        charts.monthly_bars(
            [m.month for m in series.months],
            [m.emissions_tco2e for m in series.months],
            st.font,
            width=width,
        )
    )
    if series.declared_tco2e > 0:
        main, sub = pair("monthly_partial", lang)
        note = main.format(declared=num(series.declared_tco2e))
        if sub:
            note += f" {sub.format(declared=num(series.declared_tco2e))}"
        out.append(para(note, st, st.small))
    return out


def dimensions(content: ReportContent, lang: Lang, st: Styles, width: float) -> list[Flowable]:
    """The three grading dimensions and the reasons behind the grade."""
    dims: Mapping[str, Any] = content.grade.get("dimensions", {})
    rows: list[list[Any]] = [
        [label(k, lang, st) for k in ("dimension", "dim_value", "dim_score", "dim_weight")]
    ]
    for name, d in dims.items():
        rows.append(
            [
                label(name, lang, st),
                num(d.get("x"), 3),
                num(d.get("score"), 1),
                num(d.get("weight"), 2),
            ]
        )
    out: list[Flowable] = [CondPageBreak(160), heading("dimensions", lang, st)]
    out.append(grid(rows, [width * 0.4, width * 0.2, width * 0.2, width * 0.2], st.font))
    reasons = content.grade.get("reasons", [])
    if reasons:
        out += [Spacer(1, 6), label("reasons", lang, st, style=st.body)]
        for r in reasons:
            msg = r.get("message_zh") if lang is not Lang.EN else r.get("message")
            extra = r.get("message") if lang is Lang.BILINGUAL else None
            html = "• " + escape(str(msg or r.get("message", "")))
            if extra:
                html += f' <font size="7" color="{GREY}">{escape(str(extra))}</font>'
            out.append(Paragraph(html, st.small))
    return out
