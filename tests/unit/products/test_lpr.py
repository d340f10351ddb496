"""LPR history: dated lookups against the published fixings, and a validated data file."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from products.lpr import DEFAULT_LPR_PATH, LprError, load_lpr, lpr_on
from products.model import LprTenor


@pytest.mark.parametrize(
    ("on", "tenor", "expected_pct"),
    [
        (date(2024, 1, 31), "1y", "3.45"),
        (date(2024, 2, 19), "5y", "4.20"),
        (date(2024, 2, 20), "5y", "3.95"),
        (date(2024, 7, 21), "1y", "3.45"),
        (date(2024, 7, 22), "1y", "3.35"),
        (date(2024, 10, 21), "1y", "3.10"),
        (date(2024, 10, 21), "5y", "3.60"),
        (date(2025, 5, 19), "1y", "3.10"),
        (date(2025, 5, 20), "1y", "3.00"),
        (date(2025, 5, 20), "5y", "3.50"),
        (date(2026, 1, 20), "5y", "3.50"),
    ],
)
def test_the_fixing_in_force_on_a_date(on: date, tenor: str, expected_pct: str) -> None:
    assert lpr_on(on, tenor) == Decimal(expected_pct)


def test_after_the_last_confirmed_fixing_the_last_rate_holds() -> None:
    history = load_lpr()
    assert history.confirmed_through == date(2026, 1, 20)
    assert history.rate_pct(date(2026, 11, 25), LprTenor.ONE_YEAR) == Decimal("3.00")


def test_a_date_before_the_history_is_refused() -> None:
    with pytest.raises(LprError, match="no LPR fixing on or before 2019-08-19"):
        lpr_on(date(2019, 8, 19), "1y")


def test_an_unknown_tenor_is_refused() -> None:
    with pytest.raises(ValueError, match="'3y' is not a valid LprTenor"):
        lpr_on(date(2025, 6, 1), "3y")


def test_every_fixing_cites_a_source() -> None:
    for fixing in load_lpr().fixings:
        assert fixing.source.strip()
        assert fixing.confidence in {"C", "P", "U"}


def test_fixings_in_force_over_a_range() -> None:
    history = load_lpr()

    def dates(start: date, end: date | None) -> list[date]:
        return [fixing.fixing_date for fixing in history.fixings_in_force(start, end)]

    assert dates(date(2024, 11, 1), date(2025, 5, 19)) == [date(2024, 10, 21)]
    assert dates(date(2024, 11, 1), date(2025, 5, 20)) == [date(2024, 10, 21), date(2025, 5, 20)]
    assert dates(date(2025, 6, 1), None) == [date(2025, 5, 20), date(2026, 1, 20)]


def _write(tmp_path: Path, changes: dict[str, object]) -> Path:
    document = json.loads(DEFAULT_LPR_PATH.read_text(encoding="utf-8"))
    document.update(changes)
    path = tmp_path / "lpr.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_fixing_dates_must_increase(tmp_path: Path) -> None:
    document = json.loads(DEFAULT_LPR_PATH.read_text(encoding="utf-8"))
    fixings = document["fixings"]
    fixings[1], fixings[2] = fixings[2], fixings[1]
    with pytest.raises(LprError, match=r"fixings\[2\]\.date: dates must strictly increase"):
        load_lpr(_write(tmp_path, {"fixings": fixings}))


def test_unknown_keys_and_bad_rates_are_named(tmp_path: Path) -> None:
    document = json.loads(DEFAULT_LPR_PATH.read_text(encoding="utf-8"))
    document["fixings"][0]["lpr_1y_pct"] = "-1"
    with pytest.raises(LprError) as caught:
        load_lpr(_write(tmp_path, {"fixings": document["fixings"], "owner": "x"}))
    assert "owner: Unknown field." in str(caught.value)
    assert "fixings[0].lpr_1y_pct:" in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(LprError, match=r"missing\.json: cannot read"):
        load_lpr(tmp_path / "missing.json")
