"""Report charts as ReportLab drawings (vector graphics inside the PDF, no image files).

Every function takes plain values and a registered font name and returns a
:class:`reportlab.graphics.shapes.Drawing` sized in points.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, Group, Rect, String
from reportlab.lib import colors

COLOUR_HEX: dict[str, str] = {
    "dark_green": "#1b7f3b",
    "light_green": "#7cc47f",
    "yellow": "#f2c200",
    "red": "#d7263d",
}
"""Quzhou colour grades as drawn."""

BAR = colors.HexColor("#2f6f9f")
BAR_ALT = colors.HexColor("#9fbcd3")
SCOPE1 = colors.HexColor("#c0504d")
SCOPE2 = colors.HexColor("#4f81bd")
INK = colors.HexColor("#222222")
GRID = colors.HexColor("#dddddd")


def grade_badge(colour: str | None, main: str, sub: str, font: str, *, size: float = 90) -> Drawing:
    """A square badge filled with the grade colour, its name in the middle.

    Parameters
    ----------
    colour
        A Quzhou colour code (``dark_green``...), or None for an ungraded account (grey).
    main, sub
        Text on the badge (e.g. ``深绿`` and ``Dark green``); ``sub`` may be empty.
    size
        Side of the badge, points.
    """
    fill = colors.HexColor(COLOUR_HEX.get(colour or "", "#9e9e9e"))
    ink = colors.black if colour == "yellow" else colors.white
    d = _drawing(size, size, font)
    d.add(Rect(0, 0, size, size, rx=10, ry=10, fillColor=fill, strokeColor=None))
    y = size / 2 + (2 if sub else -size * 0.1)
    d.add(
        String(
            size / 2,
            y,
            main,
            fontName=font,
            fontSize=size * 0.24,
            fillColor=ink,
            textAnchor="middle",
        )
    )
    if sub:
        d.add(
            String(
                size / 2,
                size * 0.28,
                sub,
                fontName=font,
                fontSize=size * 0.11,
                fillColor=ink,
                textAnchor="middle",
            )
        )
    return d


def horizontal_bars(
    labels: Sequence[str],
    values: Sequence[float],
    font: str,
    *,
    width: float = 460,
    bar_height: float = 16,
    highlight_first: bool = False,
) -> Drawing:
    """Horizontal bars, one per label, top to bottom in the given order.

    Used for emissions by energy type (tCO2e) and for intensity beside its benchmarks.
    """
    n = max(len(values), 1)
    height = n * (bar_height + 6) + 30
    d = _drawing(width, height, font)
    chart = HorizontalBarChart()
    chart.x, chart.y = 150, 20
    chart.width, chart.height = width - 190, height - 30
    chart.data = [list(reversed([float(v) for v in values])) or [0.0]]
    chart.categoryAxis.categoryNames = list(reversed(list(labels))) or [""]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 8
    chart.categoryAxis.labels.boxAnchor = "e"
    _style_values_and_bars(chart, font)
    chart.barLabelFormat = _short
    chart.barLabels.fontName = font
    chart.barLabels.fontSize = 7
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    if highlight_first and values:
        chart.bars[(0, n - 1)].fillColor = SCOPE1
    d.add(chart)
    return d


def scope_pie(
    scope1_tco2e: float, scope2_tco2e: float, labels: Sequence[str], font: str
) -> Drawing:
    """A pie of scope 1 against scope 2 emissions; ``labels`` name the two slices."""
    d = _drawing(220, 130, font)
    pie = Pie()
    pie.x, pie.y, pie.width, pie.height = 10, 15, 100, 100
    total = scope1_tco2e + scope2_tco2e
    pie.data = [scope1_tco2e, scope2_tco2e] if total > 0 else [1.0, 1.0]
    pie.slices.strokeColor = colors.white
    pie.slices[0].fillColor = SCOPE1
    pie.slices[1].fillColor = SCOPE2
    d.add(pie)
    for i, (label, value, colour) in enumerate(
        zip(labels, (scope1_tco2e, scope2_tco2e), (SCOPE1, SCOPE2), strict=True)
    ):
        y = 85 - i * 30
        d.add(Rect(120, y, 9, 9, fillColor=colour, strokeColor=None))
        share = f"{value / total:.0%}" if total > 0 else "-"
        d.add(String(133, y + 1, f"{label} {share}", fontName=font, fontSize=7, fillColor=INK))
    return d


def monthly_bars(
    months: Sequence[str],
    values: Sequence[float],
    font: str,
    *,
    width: float = 460,
    height: float = 170,
) -> Drawing:
    """Monthly emissions, tCO2e per month, as vertical bars; ``months`` are ``YYYY-MM``."""
    d = _drawing(width, height, font)
    chart = VerticalBarChart()
    chart.x, chart.y = 45, 30
    chart.width, chart.height = width - 60, height - 45
    chart.data = [[float(v) for v in values] or [0.0]]
    chart.categoryAxis.categoryNames = [m[2:] if len(m) == 7 else m for m in months] or [""]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.angle = 45 if len(months) > 12 else 0
    chart.categoryAxis.labels.boxAnchor = "ne" if len(months) > 12 else "n"
    _style_values_and_bars(chart, font)
    d.add(chart)
    d.add(String(4, height - 10, "tCO2e", fontName=font, fontSize=7, fillColor=INK))
    return d


def qr_code(value: str, font: str, *, size: float = 80) -> Drawing:
    """A QR code of ``value`` (the verification address), ``size`` points square."""
    d = _drawing(size, size, font)
    d.add(_qr_group(value, size))
    return d


@lru_cache(maxsize=32)
def _qr_group(value: str, size: float) -> Group:
    """The QR modules as rectangles, encoded once per value (encoding costs ~15 ms)."""
    widget = QrCodeWidget(value, barLevel="M", barBorder=2, barWidth=size, barHeight=size)
    group: Group = widget.draw()
    return group


def _style_values_and_bars(chart: HorizontalBarChart | VerticalBarChart, font: str) -> None:
    """The value axis (7 pt labels, from 0, grid lines) and the bars' colour, shared by charts."""
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = GRID
    chart.bars[0].fillColor = BAR
    chart.bars[0].strokeColor = None


def _drawing(width: float, height: float, font: str) -> Drawing:
    """An empty drawing whose default font is ``font`` (so no unembedded base font is used)."""
    d = Drawing(width, height)
    d.initialFontName = font
    return d


def _short(value: float) -> str:
    """A bar label: thousands separators, at most 3 significant decimals for small values."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.3g}"
