"""The backtest report: a backtest summary (``finance-engine/backtest@1``) as a PDF with charts.

:func:`render_backtest_pdf` lays out the summary written by :mod:`scoring.backtest` with
ReportLab's platypus: inputs, the headline figures side by side with deltas, approval and bad
rates by colour, swap sets, model performance and calibration, stability (PSI), vintage curves
and the carbon outcomes (PCAF). Charts are vector drawings. The text is English; when a CJK font
is available (:mod:`reports.fonts`) it is embedded and the colours also carry their Chinese
names. The PDF is rendered in ReportLab's invariant mode: the same summary gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from accounting.vocab import COLOUR_NAMES_ZH, Colour
from reports.fonts import FontError, locate_cjk_font, register_font

CHAMPION = colors.HexColor("#2f6f9f")
CHALLENGER = colors.HexColor("#e08a1e")
GROUP_COLOURS = {
    "dark_green": "#1b7f3b",
    "light_green": "#7cc47f",
    "yellow": "#e0b000",
    "red": "#d7263d",
    "none": "#9e9e9e",
    "all": "#222222",
    "champion": "#2f6f9f",
    "challenger": "#e08a1e",
}
HEADER_BG = colors.HexColor("#e8eef4")
GRID = colors.HexColor("#cccccc")
WIDTH = A4[0] - 36 * mm


def _font() -> tuple[str, bool]:
    """The CJK font when one is installed (then Chinese colour names are shown), else Helvetica."""
    try:
        return register_font(locate_cjk_font()), True
    except FontError:
        return "Helvetica", False


def _num(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _pct(value: Any) -> str:
    return "-" if value is None else f"{100 * float(value):.2f}%"


def _signed(value: Any, digits: int = 4, percent: bool = False) -> str:
    if value is None:
        return "-"
    text = f"{100 * float(value):+.2f} pp" if percent else _num(value, digits)
    if not percent and not text.startswith("-") and float(value) > 0:
        text = "+" + text
    return text


class _Doc:
    """Styles and helpers bound to one font."""

    def __init__(self, font: str, cjk: bool) -> None:
        self.font, self.cjk = font, cjk
        self.h1 = ParagraphStyle("h1", fontName=font, fontSize=16, leading=20, spaceAfter=6)
        self.h2 = ParagraphStyle(
            "h2", fontName=font, fontSize=12, leading=15, spaceBefore=8, spaceAfter=4
        )
        self.body = ParagraphStyle("body", fontName=font, fontSize=8.5, leading=11)
        self.small = ParagraphStyle(
            "small", fontName=font, fontSize=7, leading=9, textColor=colors.HexColor("#555555")
        )

    def group(self, name: str) -> str:
        if self.cjk and name in {c.value for c in Colour}:
            return f"{name.replace('_', ' ')} ({COLOUR_NAMES_ZH[Colour(name)]})"
        return name.replace("_", " ")

    def table(self, rows: Sequence[Sequence[Any]], widths: Sequence[float] | None = None) -> Table:
        cells = [[str(cell) for cell in row] for row in rows]
        table = Table(cells, colWidths=widths, repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), self.font),
                    ("FONTSIZE", (0, 0), (-1, -1), 7.5),
                    ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG),
                    ("GRID", (0, 0), (-1, -1), 0.25, GRID),
                    ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        return table

    def bars(
        self,
        title: str,
        labels: Sequence[str],
        series: Sequence[Sequence[float]],
        names: Sequence[str],
        percent: bool = True,
    ) -> Drawing:
        d = Drawing(WIDTH, 170)
        d.initialFontName = self.font
        chart = VerticalBarChart()
        chart.x, chart.y, chart.width, chart.height = 40, 30, WIDTH - 150, 115
        chart.data = [[100 * v if percent else v for v in s] for s in series]
        chart.categoryAxis.categoryNames = [self.group(label) for label in labels]
        for axis in (chart.categoryAxis.labels, chart.valueAxis.labels):
            axis.fontName, axis.fontSize = self.font, 7
        chart.valueAxis.valueMin = 0
        chart.valueAxis.visibleGrid = True
        chart.valueAxis.gridStrokeColor = GRID
        for i, colour in enumerate((CHAMPION, CHALLENGER)[: len(series)]):
            chart.bars[i].fillColor = colour
            chart.bars[i].strokeColor = None
        d.add(chart)
        d.add(String(0, 155, title + (" (%)" if percent else ""), fontName=self.font, fontSize=9))
        d.add(self.legend(WIDTH - 100, 120, list(zip((CHAMPION, CHALLENGER), names, strict=False))))
        return d

    def legend(self, x: float, y: float, pairs: Sequence[tuple[Any, str]]) -> Legend:
        legend = Legend()
        legend.x, legend.y = x, y
        legend.fontName, legend.fontSize = self.font, 7
        legend.alignment = "right"
        legend.colorNamePairs = list(pairs)
        return legend

    def lines(self, title: str, curves: Mapping[str, Mapping[str, Any]]) -> Drawing:
        d = Drawing(WIDTH, 190)
        d.initialFontName = self.font
        plot = LinePlot()
        plot.x, plot.y, plot.width, plot.height = 40, 30, WIDTH - 150, 135
        names = [name for name, curve in curves.items() if curve["loans"]]
        plot.data = [
            [
                (m + 1, 100 * (v or 0.0))
                for m, v in enumerate(curves[name]["cumulative_default_rate"])
            ]
            for name in names
        ] or [[(1, 0.0)]]
        for i, name in enumerate(names):
            plot.lines[i].strokeColor = colors.HexColor(GROUP_COLOURS.get(name, "#555555"))
            plot.lines[i].strokeWidth = 1.5
        for axis in (plot.xValueAxis.labels, plot.yValueAxis.labels):
            axis.fontName, axis.fontSize = self.font, 7
        plot.xValueAxis.valueMin = 1
        plot.yValueAxis.valueMin = 0
        plot.yValueAxis.visibleGrid = True
        plot.yValueAxis.gridStrokeColor = GRID
        d.add(plot)
        d.add(String(0, 178, title, fontName=self.font, fontSize=9))
        d.add(String(WIDTH / 2 - 40, 8, "months on book", fontName=self.font, fontSize=7))
        pairs = [(colors.HexColor(GROUP_COLOURS.get(n, "#555555")), self.group(n)) for n in names]
        d.add(self.legend(WIDTH - 100, 150, pairs))
        return d


HEADLINE: tuple[tuple[str, str], ...] = (
    ("Applications", "applications"),
    ("Booked (approve + refer)", "booked"),
    ("Approval rate", "approval_rate%"),
    ("Booked volume (yuan)", "booked_volume_yuan"),
    ("Limit uplift from multipliers (yuan)", "limit_uplift_yuan"),
    ("Average rate (% a year, limit-weighted)", "average_rate_pct"),
    ("Interest forgone through discounts (yuan)", "interest_forgone_yuan"),
    ("Expected loss PD x LGD x EAD (yuan)", "expected_loss_yuan"),
    ("Realised loss (yuan)", "realised_loss_yuan"),
    ("Bad rate of booked loans", "bad_rate%"),
    ("Mean PD of booked loans", "mean_pd%"),
)
"""(label, key) of the headline table; a key ending in % is shown as a percentage."""


def _compare(doc: _Doc, sides: Mapping[str, Any], spec: Sequence[tuple[str, str]]) -> Table:
    """Champion, challenger and delta side by side, one row per (label, key) of ``spec``."""
    rows: list[list[Any]] = [["", "Champion", "Challenger", "Delta"]]
    for label, key in spec:
        name = key.rstrip("%")
        a, b, d = (sides[side][name] for side in ("champion", "challenger", "delta"))
        if key.endswith("%"):
            rows.append([label, _pct(a), _pct(b), _signed(d, percent=True)])
        else:
            rows.append([label, _num(a, 4), _num(b, 4), _signed(d, 4)])
    return doc.table(rows, [WIDTH * 0.46, WIDTH * 0.18, WIDTH * 0.18, WIDTH * 0.18])


def _inputs(doc: _Doc, summary: Mapping[str, Any]) -> list[Flowable]:
    inputs = summary["inputs"]
    history = inputs["history"]
    challenger = inputs["challenger"]
    patch = challenger.get("patch")
    rows = [
        ["Input", "Value"],
        [
            "History",
            f"{history.get('file', '')} ({history['applications']:,} applications, "
            f"{history['first_application']} to {history['last_application']})",
        ],
        ["Champion", inputs["champion"]["source"]],
        ["Challenger", challenger["source"] + (f" (patch {patch['name']})" if patch else "")],
        ["Product versions", inputs["versions"]],
        ["Model", (inputs.get("model") or {}).get("version", "-")],
        ["Decision rules / risk bands", f"{inputs['decision_rules']} / {inputs['risk_bands']}"],
    ]
    return [doc.table(rows, [WIDTH * 0.22, WIDTH * 0.78])]


def _by_colour(doc: _Doc, results: Mapping[str, Any]) -> list[Flowable]:
    sides = [results[s]["by_colour"] for s in ("champion", "challenger")]
    labels = [row["group"] for row in sides[0]]
    approval = [[row["approval_rate"] or 0.0 for row in side] for side in sides]
    bad = [[row["bad_rate"] or 0.0 for row in side] for side in sides]
    names = ("Champion", "Challenger")
    return [
        doc.bars("Approval rate by colour", labels, approval, names),
        doc.bars("Bad rate of booked loans by colour", labels, bad, names),
    ]


SWAP_COLUMNS = ("Set", "Applications", "Defaults", "Bad rate", "Mean PD", "Volume (yuan)", "Red")
MODEL_COLUMNS = ("Population", "n", "AUC", "KS", "Gini", "Brier", "ECE", "Default rate", "Mean PD")


def _swaps(doc: _Doc, swaps: Mapping[str, Any]) -> Table:
    rows: list[Sequence[Any]] = [SWAP_COLUMNS]
    for name in ("swap_out", "swap_in", "kept", "declined_by_both"):
        s = swaps[name]
        numbers = [_num(s[key]) for key in ("applications", "defaults")]
        rates = [_pct(s["bad_rate"]), _pct(s["mean_pd"])]
        volume = [_num(s.get("booked_volume_yuan")), _num(s["by_colour"]["red"])]
        rows.append([name.replace("_", " "), *numbers, *rates, *volume])
    return doc.table(rows)


def _model(doc: _Doc, model: Mapping[str, Any]) -> list[Flowable]:
    rows: list[Sequence[Any]] = [MODEL_COLUMNS]
    for name in ("all", "reference", "recent"):
        m = model.get(name) or {}
        period = m.get("period")
        label = name if period is None else f"{name} {period['start']}..{period['end']}"
        keys = ("n", "auc", "ks", "gini", "brier", "ece_decile")
        rates = [_pct(m.get("default_rate")), _pct(m.get("mean_pd"))]
        rows.append([label, *(_num(m.get(key)) for key in keys), *rates])
    out: list[Flowable] = [doc.table(rows)]
    if "oracle_auc" in model:
        oracle = f"Oracle (true PD) AUC on the same rows: {model['oracle_auc']:.4f}"
        out.append(Paragraph(oracle, doc.small))
    bands = (model.get("all") or {}).get("calibration_by_band", [])
    if bands:
        series = [[row[key] or 0.0 for row in bands] for key in ("mean_pd", "default_rate")]
        title = "Calibration by risk band: mean PD and default rate"
        labels = [row["band"] for row in bands]
        out.append(doc.bars(title, labels, series, ("Mean PD", "Default rate")))
    return out


def _stability(doc: _Doc, stable: Mapping[str, Any]) -> Table:
    rows: list[list[Any]] = [["Variable", "PSI", "Reading"]]
    rows.append(["score (PD)", _num(stable["score"]["psi"]), stable["score"]["assessment"]])
    rows.append(["risk band shares", _num(stable["risk_bands"]["psi"]), ""])
    for name, item in stable["features"].items():
        rows.append([name, _num(item["psi"]), item["assessment"]])
    return doc.table(rows, [WIDTH * 0.45, WIDTH * 0.2, WIDTH * 0.35])


CARBON_ROWS: tuple[tuple[str, str], ...] = (
    ("Financed emissions (tCO2e, PCAF)", "financed_emissions_tco2e"),
    ("Attributed emission reduction (tCO2e)", "attributed_reduction_tco2e"),
    ("Emission intensity (tCO2e per m yuan)", "emission_intensity_tco2e_per_m_yuan"),
    ("Outstanding (yuan)", "outstanding_yuan"),
    ("Weighted PCAF data quality (1 best)", "weighted_data_quality"),
    ("Declared project cuts (tCO2e a year)", "declared_project_cut_tco2e"),
    ("Loans without emissions data", "loans_without_data"),
)


def _carbon(doc: _Doc, carbon: Mapping[str, Any]) -> Flowable:
    if not carbon["champion"].get("available"):
        missing = ", ".join(carbon["champion"].get("missing_columns", []))
        return Paragraph(f"Not available: the history lacks {missing}.", doc.body)
    return _compare(doc, carbon, CARBON_ROWS)


def _reasons(doc: _Doc, results: Mapping[str, Any]) -> Table:
    a, b = results["champion"]["reasons"], results["challenger"]["reasons"]
    rows: list[Sequence[Any]] = [("Reason", "Champion", "Challenger", "Delta")]
    for code in sorted({*a, *b}):
        before, after = a.get(code, 0), b.get(code, 0)
        rows.append([code, _num(before), _num(after), _signed(after - before)])
    return doc.table(rows)


def _story(doc: _Doc, summary: Mapping[str, Any]) -> list[Flowable]:
    results = summary["rule_sets"]
    vintage = summary["vintage"]["by_colour"]
    return [
        Paragraph("Backtest: champion against challenger", doc.h1),
        *_inputs(doc, summary),
        Paragraph("Headline figures", doc.h2),
        _compare(doc, results, HEADLINE),
        Paragraph(
            "Booked = approved or referred; drawn amounts, EAD and losses scale with "
            "final limit / base limit.",
            doc.small,
        ),
        *_by_colour(doc, results),
        Paragraph("Swap sets", doc.h2),
        _swaps(doc, summary["swap_sets"]),
        Paragraph("Decision reasons (applications carrying each code)", doc.h2),
        _reasons(doc, results),
        Paragraph("Model performance", doc.h2),
        *_model(doc, summary["model_performance"]),
        Paragraph("Population stability, reference against recent period", doc.h2),
        _stability(doc, summary["stability"]),
        Paragraph("Vintage curves", doc.h2),
        doc.lines(
            "Cumulative default rate by colour, all applications (%)", vintage["all_applications"]
        ),
        doc.lines(
            "Cumulative default rate of the booked loans (%)",
            {side: vintage[side]["all"] for side in ("champion", "challenger")},
        ),
        Paragraph("Carbon: PCAF financed emissions of the green book", doc.h2),
        _carbon(doc, summary["carbon"]),
        Spacer(1, 4 * mm),
        Paragraph(
            "Figures are computed from the history given; synthetic histories and the "
            "illustrative catalog are not statistics or terms of any bank.",
            doc.small,
        ),
    ]


def render_backtest_pdf(summary: Mapping[str, Any]) -> bytes:
    """The backtest report as PDF bytes (deterministic for a given summary).

    Parameters
    ----------
    summary
        A ``finance-engine/backtest@1`` summary (:attr:`scoring.backtest.BacktestRun.summary`).
    """
    font, cjk = _font()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title="Backtest report",
        author="finance-engine",
        invariant=1,
    )
    document.build(_story(_Doc(font, cjk), summary))
    return buffer.getvalue()
