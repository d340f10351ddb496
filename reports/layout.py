"""Page layout: A4 pages with a header, a footer with page numbers, and the signature block.

:func:`render_report_pdf` lays out a :class:`reports.content.ReportContent` with ReportLab's
platypus and returns the PDF bytes with the place of the signature stamp, which
:func:`reports.signing.sign_report_pdf` turns into the visible signature. The stamp is drawn once
as a form XObject (:data:`STAMP_FORM`) on the last page; the signature widget shows the same form.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate

from reports.content import ReportContent
from reports.i18n import Lang, pair, text

STAMP_FORM = "signature-stamp"
"""ReportLab name of the stamp form; the PDF resource is ``/FormXob.signature-stamp``."""

STAMP_SIZE: tuple[float, float] = (250.0, 84.0)
"""Width and height of the signature stamp, points."""

MARGIN = 18 * mm
DEV_RED = colors.HexColor("#c62828")


@dataclass(frozen=True)
class StampPlacement:
    """Where the signature stamp sits: page index (0-based) and box in PDF points."""

    page_index: int
    box: tuple[float, float, float, float]
    """(x1, y1, x2, y2) from the page's lower-left corner."""
    form_name: str = STAMP_FORM

    @property
    def resource_name(self) -> str:
        """The form's name in the page's ``/XObject`` resources."""
        return f"/FormXob.{self.form_name}"


@dataclass(frozen=True)
class RenderedReport:
    """An unsigned report PDF and where its signature stamp goes."""

    pdf: bytes
    stamp: StampPlacement
    pages: int


@dataclass
class _StampHolder:
    placement: StampPlacement | None = None
    pages: list[int] = field(default_factory=list)


class SignatureStamp(Flowable):  # type: ignore[misc]
    """Draws the stamp as a form XObject where it lands and records that place."""

    def __init__(self, content: ReportContent, lang: Lang, font: str, holder: _StampHolder):
        super().__init__()
        self.width, self.height = STAMP_SIZE
        self._content, self._lang, self._font, self._holder = content, lang, font, holder

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canv: Canvas = self.canv
        canv.beginForm(STAMP_FORM, 0, 0, self.width, self.height)
        draw_stamp(canv, self._content, self._lang, self._font, self.width, self.height)
        canv.endForm()
        canv.doForm(STAMP_FORM)
        x1, y1 = canv.absolutePosition(0, 0)
        self._holder.placement = StampPlacement(
            canv.getPageNumber() - 1, (x1, y1, x1 + self.width, y1 + self.height)
        )


def draw_stamp(
    canv: Canvas, content: ReportContent, lang: Lang, font: str, width: float, height: float
) -> None:
    """The stamp's drawing: signer, time, report number, development marker."""
    meta = content.meta
    red = colors.HexColor("#b71c1c")
    canv.setStrokeColor(red)
    canv.setLineWidth(1.2)
    canv.roundRect(1, 1, width - 2, height - 2, 6, stroke=1, fill=0)
    canv.setFillColor(red)
    canv.setFont(font, 10)
    canv.drawString(8, height - 16, text("signature", lang))
    canv.setFillColor(colors.black)
    canv.setFont(font, 7.5)
    lines = [
        f"{text('signed_by', lang)}: {meta.signer_name}",
        f"{text('signed_at', lang)}: {format_time(meta)}",
        f"{text('report_number', lang)}: {meta.report_number}",
    ]
    for i, line in enumerate(lines):
        canv.drawString(8, height - 30 - 11 * i, line)
    if meta.development:
        canv.setFillColor(DEV_RED)
        canv.drawString(8, 7, text("dev_only", lang))


def format_time(meta: Any) -> str:
    """The issue time as ``YYYY-MM-DD HH:MM UTC+hh:mm``."""
    stamp = meta.issued_at
    offset = stamp.strftime("%z")
    return f"{stamp:%Y-%m-%d %H:%M} UTC{offset[:3]}:{offset[3:]}"


def _numbered_canvas(content: ReportContent, lang: Lang, font: str) -> type[Canvas]:
    """A canvas class that defers pages so each footer can say "page n of N"."""

    class NumberedCanvas(Canvas):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._saved: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (ReportLab's name)
            self._saved.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._saved)
            for state in self._saved:
                self.__dict__.update(state)
                _page_furniture(self, content, lang, font, total)
                Canvas.showPage(self)
            Canvas.save(self)

    return NumberedCanvas


def _page_furniture(
    canv: Canvas, content: ReportContent, lang: Lang, font: str, total: int
) -> None:
    """Header and footer of one page (called once the page count is known)."""
    width, height = A4
    meta = content.meta
    canv.saveState()
    canv.setFont(font, 8)
    canv.setFillColor(colors.HexColor("#555555"))
    canv.drawString(MARGIN, height - 12 * mm, text("title", lang))
    name = str(content.entity["name"])
    room = width - 2 * MARGIN - canv.stringWidth(text("title", lang), font, 8) - 20
    while name and canv.stringWidth(name, font, 8) > room:
        name = name[:-2] + "…"
    canv.drawRightString(width - MARGIN, height - 12 * mm, name)
    if meta.development:
        canv.setFillColor(DEV_RED)
        canv.drawCentredString(width / 2, height - 8 * mm, text("dev_only", lang))
        canv.setFillColor(colors.HexColor("#555555"))
    canv.setStrokeColor(colors.HexColor("#cccccc"))
    canv.line(MARGIN, height - 13.5 * mm, width - MARGIN, height - 13.5 * mm)
    canv.line(MARGIN, 13.5 * mm, width - MARGIN, 13.5 * mm)
    code = f"{text('report_number', lang)} {meta.report_number} · "
    code += f"{text('verification_code', lang)} {meta.verification_code}"
    canv.drawString(MARGIN, 9 * mm, code)
    main, sub = pair("page", lang)
    n = canv.getPageNumber()
    page = main.format(n=n, total=total) + (" " + sub.format(n=n, total=total) if sub else "")
    canv.drawRightString(width - MARGIN, 9 * mm, page)
    canv.restoreState()


def render_report_pdf(
    content: ReportContent, *, font: str, lang: Lang | None = None
) -> RenderedReport:
    """Lay out ``content`` as an A4 PDF (unsigned) with ``font`` embedded and subset.

    Parameters
    ----------
    font
        A font name registered with :func:`reports.fonts.register_font`.
    lang
        Overrides ``content.meta.lang``.
    """
    from reports.sections import build_story

    lang = lang or content.meta.lang
    holder = _StampHolder()
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{text('title', lang)} {content.meta.report_number}",
        author=content.meta.issuer,
        subject=str(content.entity["name"]),
        creator="finance-engine",
        invariant=True,
        initialFontName=font,
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    story = build_story(content, lang, font, doc.width, SignatureStamp(content, lang, font, holder))
    doc.build(story, canvasmaker=_numbered_canvas(content, lang, font))
    if holder.placement is None:  # pragma: no cover - the stamp is always the last flowable
        raise RuntimeError("the signature stamp was not placed")
    pdf = buffer.getvalue()
    return RenderedReport(pdf=pdf, stamp=holder.placement, pages=doc.page)
