"""Building blocks of the report layout: paragraph styles, bilingual labels, tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import (
    Paragraph,
    Table,
    TableStyle,
)

from reports import charts
from reports.content import ReportContent
from reports.i18n import (
    LABELS,
    Lang,
    pair,
)

GREY = "#666666"
HEADER_BG = colors.HexColor("#e8eef4")


class Styles:
    """Paragraph styles in one font (CJK-aware wrapping)."""

    def __init__(self, font: str) -> None:
        base = ParagraphStyle("base", fontName=font, fontSize=9, leading=13, wordWrap="CJK")
        self.font = font
        self.body = base
        self.small = ParagraphStyle("small", parent=base, fontSize=7.5, leading=10)
        self.cell = ParagraphStyle("cell", parent=base, fontSize=8, leading=10.5)
        self.h1 = ParagraphStyle(
            "h1",
            parent=base,
            fontSize=13,
            leading=18,
            spaceBefore=10,
            spaceAfter=6,
            textColor=colors.HexColor("#1f3b57"),
        )
        self.code = ParagraphStyle("code", parent=base, fontSize=11, leading=16)
        self.title = ParagraphStyle("title", parent=base, fontSize=28, leading=36, alignment=1)
        self.subtitle = ParagraphStyle(
            "subtitle",
            parent=base,
            fontSize=12,
            leading=18,
            alignment=1,
            textColor=colors.HexColor(GREY),
        )


def label(
    key: str,
    lang: Lang,
    st: Styles,
    table: Mapping[str, tuple[str, str]] = LABELS,
    style: ParagraphStyle | None = None,
) -> Paragraph:
    """A label paragraph: main text, then the secondary language smaller and grey."""
    return pair_para(*pair(key, lang, table), st, style)


def pair_para(main: str, sub: str, st: Styles, style: ParagraphStyle | None = None) -> Paragraph:
    """A paragraph of a main text and an optional secondary one, smaller and grey."""
    html = escape(main)
    if sub:
        html += f' <font size="7" color="{GREY}">{escape(sub)}</font>'
    return Paragraph(html, style or st.cell)


def heading(key: str, lang: Lang, st: Styles) -> Paragraph:
    """A section heading (Chinese first, English after in grey)."""
    main, sub = pair(key, lang)
    html = escape(main) + (f' <font size="9" color="{GREY}">{escape(sub)}</font>' if sub else "")
    return Paragraph(html, st.h1)


def para(value: Any, st: Styles, style: ParagraphStyle | None = None) -> Paragraph:
    """Plain text in a cell (a newline starts a new line)."""
    return Paragraph(escape(str(value)).replace("\n", "<br/>"), style or st.cell)


def grid(
    rows: Sequence[Sequence[Any]], widths: Sequence[float], font: str, *, header: bool = True
) -> Table:
    """A table with a light grid and, optionally, a shaded header row."""
    table = Table([list(r) for r in rows], colWidths=list(widths), repeatRows=1 if header else 0)
    commands: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#c8c8c8")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), HEADER_BG))
    table.setStyle(TableStyle(commands))
    return table


def row_table(cells: Sequence[Any], widths: Sequence[float | None], st: Styles) -> Table:
    """One row of side-by-side flowables (no grid), top-aligned."""
    table = Table([list(cells)], colWidths=list(widths))
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), st.font),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (0, 0), 0),
            ]
        )
    )
    return table


def num(value: float | None, digits: int = 2) -> str:
    """A number with thousands separators, or ``-`` when unknown."""
    return "-" if value is None else f"{value:,.{digits}f}"


def verify_block(content: ReportContent, lang: Lang, st: Styles, qr_size: float = 90) -> Table:
    """QR code of the verification address beside the code and the address."""
    m = content.meta
    lines = [
        label("verification_code", lang, st, style=st.body),
        Paragraph(escape(m.verification_code), st.code),
        label("verify_hint", lang, st, style=st.small),
        para(m.verify_url, st, st.small),
    ]
    qr = charts.qr_code(m.verify_url, st.font, size=qr_size)
    return row_table([qr, lines], [qr_size + 8, None], st)
