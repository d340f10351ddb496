"""Constants and helpers shared by the report tests (plain module: tests import it by name)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from reports import MonthlyEmissions, MonthlySeries, Offer, ReportContent

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "industry.json"
CST = timezone(timedelta(hours=8))
ISSUED = datetime(2025, 7, 1, 10, 30, tzinfo=CST)
CODE = "K7QF-9M2X-T4RA-8HZC"
VERIFY_URL = f"http://localhost:8000/api/v1/reports/verify/{CODE}"


def missing(what: str) -> None:
    """Skip (outside CI) or fail (under CI) because ``what`` is not installed."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is required under CI")
    pytest.skip(f"{what} is not installed")


def need_tool(name: str) -> str:
    """The path of a poppler command, or skip/fail when poppler-utils is missing."""
    path = shutil.which(name)
    if path is None:
        missing(f"{name} (apt-get install poppler-utils)")
    assert path is not None
    return path


def sample_offer() -> Offer:
    """One offer with hand-picked terms (the layout only prints it)."""
    return Offer(
        product="TEST-LOAN@v1",
        name_zh="测试贷",
        name_en="Test loan",
        lender_zh="测试银行",
        lender_en="Test Bank",
        grade_basis="colour",
        grade="dark_green",
        limit_multiplier=Decimal("1.50"),
        rate_discount_bp=60,
        adjustments=("YOY-CUT-5",),
        indicative_limit_yuan=Decimal("1000000.00"),
        lpr_pct=Decimal("3.00"),
        reference_rate_pct=Decimal("4.00"),
        indicative_rate_pct=Decimal("3.40"),
        floor_rate_pct=Decimal("3.00"),
        at_floor=False,
        review=False,
        illustrative=True,
    )


def twelve_months() -> MonthlySeries:
    """A year of monthly emissions, 100 + 10 × month tCO2e."""
    return MonthlySeries(
        months=tuple(MonthlyEmissions(f"2023-{m:02d}", 100.0 + 10 * m) for m in range(1, 13)),
        declared_tco2e=1900.3,
    )


ContentFactory = Callable[..., ReportContent]
