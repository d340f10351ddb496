"""The rendered report: embedded subset CJK font, extractable Chinese text, visible charts."""

from __future__ import annotations

from pathlib import Path

import pytest
import report_poppler as poppler
from PIL import ImageStat
from report_helpers import CODE, ContentFactory

from reports import Lang, MonthlySeries, render_report_pdf
from reports.charts import BAR, COLOUR_HEX, SCOPE1, SCOPE2


def write(tmp_path: Path, pdf: bytes, name: str = "report.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(pdf)
    return path


@pytest.fixture
def bilingual(make_content: ContentFactory, font: str, tmp_path: Path) -> Path:
    return write(tmp_path, render_report_pdf(make_content(Lang.BILINGUAL), font=font).pdf)


def test_every_font_is_embedded_and_subset(bilingual: Path) -> None:
    rows = poppler.fonts(bilingual)
    assert rows, "pdffonts listed no font"
    assert all(r["emb"] == "yes" and r["sub"] == "yes" for r in rows), rows
    assert any("WenQuanYi" in r["name"] or "Hei" in r["name"] for r in rows), rows


def test_chinese_and_english_text_is_extracted(bilingual: Path) -> None:
    text = poppler.text(bilingual)
    for expected in (
        "碳征信报告",
        "Carbon credit report",
        "深绿",
        "碳效等级",
        "月度排放趋势",
        "Example Fluorochemical Co. (synthetic)",
        "CCR-20250701-TEST0001",
        CODE,
        "第1页/共",
        "Page 1 of",
        "开发测试证书",
    ):
        assert expected in text, expected


@pytest.mark.parametrize(
    ("lang", "present", "absent"),
    [
        (Lang.ZH, "碳征信报告", "Carbon credit report"),
        (Lang.EN, "Carbon credit report", "碳征信报告"),
    ],
)
def test_one_language_reports_leave_the_other_out(
    make_content: ContentFactory, font: str, tmp_path: Path, lang: Lang, present: str, absent: str
) -> None:
    path = write(tmp_path, render_report_pdf(make_content(lang), font=font).pdf)
    text = poppler.text(path)
    assert present in text
    assert absent not in text


def test_a_declared_only_report_says_monthly_data_is_unavailable(
    make_content: ContentFactory, font: str, tmp_path: Path
) -> None:
    content = make_content(Lang.BILINGUAL, monthly=MonthlySeries(months=()))
    text = poppler.text(write(tmp_path, render_report_pdf(content, font=font).pdf))
    assert "无月度计量数据" in text
    assert "no metered monthly data" in text


def page_of(path: Path, pages: int, needle: str) -> int:
    """The 1-based number of the first page whose text contains ``needle``."""
    for n in range(1, pages + 1):
        if needle in poppler.text(path, n):
            return n
    raise AssertionError(f"{needle!r} is on no page")


def test_pages_are_not_blank_and_show_badge_and_charts(
    make_content: ContentFactory, font: str, tmp_path: Path
) -> None:
    rendered = render_report_pdf(make_content(Lang.BILINGUAL), font=font)
    path = write(tmp_path, rendered.pdf)
    images = poppler.pages(path, tmp_path)
    assert len(images) == rendered.pages >= 4
    for image in images:
        assert ImageStat.Stat(image.convert("L")).stddev[0] > 10, "a page is blank"
    assert poppler.pixels_near(images[0], COLOUR_HEX["dark_green"]) > 500  # the grade badge
    emissions = images[page_of(path, rendered.pages, "碳排放构成") - 1]
    assert poppler.pixels_near(emissions, SCOPE1.hexval().replace("0x", "#")) > 300  # pie
    assert poppler.pixels_near(emissions, SCOPE2.hexval().replace("0x", "#")) > 300
    monthly = images[page_of(path, rendered.pages, "月度排放趋势") - 1]
    assert poppler.pixels_near(monthly, BAR.hexval().replace("0x", "#")) > 1000  # 12 bars


def test_the_stamp_sits_on_the_last_page(make_content: ContentFactory, font: str) -> None:
    rendered = render_report_pdf(make_content(Lang.BILINGUAL), font=font)
    assert rendered.stamp.page_index == rendered.pages - 1
    x1, y1, x2, y2 = rendered.stamp.box
    assert (round(x2 - x1), round(y2 - y1)) == (250, 84)
    assert 0 < x1 < x2 < 595.3  # inside an A4 page
    assert 0 < y1 < y2 < 841.9


def test_rendering_is_deterministic(make_content: ContentFactory, font: str) -> None:
    content = make_content(Lang.ZH)
    assert render_report_pdf(content, font=font).pdf == render_report_pdf(content, font=font).pdf
