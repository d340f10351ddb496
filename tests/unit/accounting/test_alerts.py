"""Alert rules on hand-built interval arrays (no database)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from accounting.alert_calendar import REST, WORKING, load_holiday_calendar
from accounting.alerts import (
    REST_DAY,
    WORKING_DAY,
    AlertConfig,
    AlertConfigError,
    AlertKind,
    DayCalendar,
    Severity,
    detect_alerts,
    load_alert_config,
    weekly_baseline,
)

WEEK = 672
START_S = 1_704_038_400  # 2024-01-01 00:00 Asia/Shanghai (a Monday), on the 15-minute grid
HISTORY = 6 * WEEK
CONFIG = load_alert_config()


def _series(weeks: int = 7, meters: int = 1, noise: float = 0.02, seed: int = 1) -> np.ndarray:
    """A weekly-periodic load (10-19.5 per interval by slot of day) with small noise."""
    slots = np.arange(weeks * WEEK)
    shape = 10.0 + (slots % 96) / 10.0
    rng = np.random.default_rng(seed)
    return shape[None, :] * (1.0 + noise * rng.standard_normal((meters, len(slots))))


def _only(alerts: list, kind: AlertKind) -> list:
    return [a for a in alerts if a.kind is kind]


def test_shipped_config_is_version_one_with_the_documented_defaults() -> None:
    assert AlertConfig(version="alerts-v1") == CONFIG


def test_a_spike_is_found_with_its_interval_expected_and_actual() -> None:
    q = _series()
    slot = HISTORY + 100
    q[0, slot] *= 4.0
    alerts = detect_alerts(q, START_S, CONFIG, eval_from_slot=HISTORY)
    assert len(alerts) == 1
    alert = alerts[0]
    expected = np.median(q[0, [slot - w * WEEK for w in range(1, 7)]])
    assert alert.kind is AlertKind.OVER_CONSUMPTION
    assert (alert.start_slot, alert.end_slot) == (slot, slot + 1)
    assert alert.interval_start_s == START_S + slot * 900
    assert alert.interval_end_s == START_S + (slot + 1) * 900
    assert alert.expected == pytest.approx(expected)
    assert alert.actual == pytest.approx(q[0, slot])
    assert alert.severity is Severity.CRITICAL  # about 4x expected
    assert "Tue 2024-02-13 01:00 local" in alert.message


def test_noise_alone_raises_nothing() -> None:
    q = _series(meters=20, noise=0.05)
    assert detect_alerts(q, START_S, CONFIG, eval_from_slot=HISTORY) == []


def test_consecutive_flagged_intervals_merge_into_one_alert_with_run_totals() -> None:
    q = _series()
    q[0, HISTORY + 40 : HISTORY + 43] *= 2.0
    (alert,) = detect_alerts(q, START_S, CONFIG, eval_from_slot=HISTORY)
    assert (alert.start_slot, alert.intervals) == (HISTORY + 40, 3)
    assert alert.actual == pytest.approx(q[0, HISTORY + 40 : HISTORY + 43].sum())
    median, _ = weekly_baseline(q, HISTORY, 6, 3)
    assert alert.expected == pytest.approx(median[0, 40:43].sum())
    assert alert.severity is Severity.WARNING  # about 2x


@pytest.mark.parametrize(
    ("factor", "severity"),
    [(1.4, Severity.INFO), (2.0, Severity.WARNING), (3.5, Severity.CRITICAL)],
)
def test_severity_follows_the_ratio_cut_offs(factor: float, severity: Severity) -> None:
    q = _series(noise=0.0)
    q[0, HISTORY + 10] *= factor
    (alert,) = detect_alerts(q, START_S, CONFIG, eval_from_slot=HISTORY)
    assert alert.severity is severity


def test_below_thirty_percent_above_baseline_is_not_over_consumption() -> None:
    q = _series(noise=0.0)
    q[0, HISTORY + 10] *= 1.25  # far above k·MAD (MAD is 0) but under +30 %
    assert detect_alerts(q, START_S, CONFIG, eval_from_slot=HISTORY) == []


def test_near_zero_baseline_does_not_fire_on_small_absolute_changes() -> None:
    q = _series()
    night = (np.arange(q.shape[1]) % 96) < 24
    q[0, night] *= 0.001  # about 0.01 per interval at night
    q[0, HISTORY + 5] = 0.05  # 5x its baseline but tiny against the meter's typical ~11
    assert detect_alerts(q, START_S, CONFIG, eval_from_slot=HISTORY) == []
    q[0, HISTORY + 5] = 3.0  # 25 % of typical: fires
    assert [a.kind for a in detect_alerts(q, START_S, CONFIG, eval_from_slot=HISTORY)] == [
        AlertKind.OVER_CONSUMPTION
    ]


def test_baseline_uses_the_same_weekday_and_slot_only() -> None:
    q = _series()
    day = (np.arange(q.shape[1]) // 96) % 7
    q[0, day == 0] *= 10.0  # Mondays run ten times higher
    median, _ = weekly_baseline(q, HISTORY, 6, 3)
    for slot in (0, 37, 95, 96 + 37, 6 * 96 + 80):  # Monday, Monday, Monday, Tuesday, Sunday
        same = [HISTORY + slot - w * WEEK for w in range(1, 7)]
        assert median[0, slot] == pytest.approx(np.median(q[0, same]))
    assert np.all(median[0, :96] > 90.0)
    assert np.all(median[0, 96:] < 20.0)
    assert detect_alerts(q, START_S, CONFIG, eval_from_slot=HISTORY) == []
    q[0, HISTORY + 96 + 50] *= 10.0  # a Monday level on a Tuesday
    (alert,) = detect_alerts(q, START_S, CONFIG, eval_from_slot=HISTORY)
    assert alert.start_slot == HISTORY + 96 + 50
    assert alert.expected == pytest.approx(15.0, rel=0.03)


def test_baseline_needs_enough_weeks_present() -> None:
    q = _series(noise=0.0)
    slot = HISTORY + 7
    for w in (1, 2, 3, 4):
        q[0, slot - w * WEEK] = np.nan
    median, _ = weekly_baseline(q, HISTORY, 6, 3)
    assert np.isnan(median[0, 7])  # 2 of 6 present
    median, _ = weekly_baseline(q, HISTORY, 6, 2)
    assert median[0, 7] == pytest.approx(10.7)


def test_a_repeated_non_zero_value_is_a_flat_line() -> None:
    q = _series()
    first = HISTORY + 200
    q[0, first + 1 : first + 20] = q[0, first]  # 20 equal values
    q[0, HISTORY + 400 : HISTORY + 414] = q[0, HISTORY + 399]  # 15 equal values: not yet
    alerts = _only(detect_alerts(q, START_S, CONFIG, eval_from_slot=HISTORY), AlertKind.FLAT_LINE)
    assert [(a.start_slot, a.end_slot) for a in alerts] == [(first, first + 20)]
    assert alerts[0].severity is Severity.INFO
    assert alerts[0].actual == pytest.approx(20 * q[0, first])


def test_zero_for_long_where_baseline_is_clearly_non_zero_is_a_flat_line() -> None:
    q = _series(meters=2)
    night = (np.arange(q.shape[1]) % 96) < 32
    q[1, night] = 0.0  # meter 1 is off at night: zeros there are normal
    q[:, HISTORY + 40 : HISTORY + 140] = 0.0  # 100 zero intervals on both meters
    alerts = _only(detect_alerts(q, START_S, CONFIG, eval_from_slot=HISTORY), AlertKind.FLAT_LINE)
    assert [(a.meter_index, a.start_slot, a.end_slot) for a in alerts] == [
        (0, HISTORY + 40, HISTORY + 140),
        (1, HISTORY + 40, HISTORY + 96),  # until midnight: its nights are zero anyway
    ]
    assert alerts[0].severity is Severity.CRITICAL  # 100 intervals >= 96
    assert alerts[0].actual == 0.0


def test_a_long_gap_is_reported_and_a_short_one_is_not() -> None:
    q = _series()
    q[0, HISTORY + 10 : HISTORY + 18] = np.nan  # 8 intervals: a gap
    q[0, HISTORY + 50 : HISTORY + 57] = np.nan  # 7 intervals: not yet
    (alert,) = detect_alerts(q, START_S, CONFIG, eval_from_slot=HISTORY)
    assert (alert.kind, alert.start_slot, alert.end_slot) == (
        AlertKind.GAP,
        HISTORY + 10,
        HISTORY + 18,
    )
    assert alert.actual is None
    assert alert.severity is Severity.INFO
    assert alert.expected == pytest.approx(sum(10.0 + s / 10.0 for s in range(10, 18)), rel=0.05)


def test_gap_reaching_into_the_window_keeps_its_true_start_and_leading_gaps_are_not_gaps() -> None:
    q = _series()
    q[0, : 2 * WEEK] = np.nan  # no data yet: not a gap
    q[0, HISTORY - 20 : HISTORY + 10] = np.nan
    (alert,) = detect_alerts(q, START_S, CONFIG, eval_from_slot=HISTORY)
    assert (alert.kind, alert.start_slot, alert.end_slot) == (
        AlertKind.GAP,
        HISTORY - 20,
        HISTORY + 10,
    )


def test_flagged_counter_resets_are_alerts() -> None:
    q = _series()
    resets = np.zeros(q.shape, dtype=bool)
    resets[0, HISTORY + 3] = True
    resets[0, 5] = True  # in the history: not reported again
    (alert,) = detect_alerts(q, START_S, CONFIG, eval_from_slot=HISTORY, reset_mask=resets)
    assert (alert.kind, alert.start_slot, alert.severity) == (
        AlertKind.COUNTER_RESET,
        HISTORY + 3,
        Severity.WARNING,
    )


def test_generation_meters_get_no_over_consumption_alerts() -> None:
    q = _series(meters=2)
    q[:, HISTORY + 5] *= 5
    alerts = detect_alerts(
        q, START_S, CONFIG, eval_from_slot=HISTORY, over_consumption_meters=np.array([True, False])
    )
    assert [a.meter_index for a in alerts] == [0]


def test_a_shorter_baseline_can_be_configured() -> None:
    q = _series(weeks=5, noise=0.0)
    q[0, 4 * WEEK + 3] *= 3
    config = replace(CONFIG, baseline_weeks=4)
    (alert,) = detect_alerts(q, START_S, config, eval_from_slot=4 * WEEK)
    assert alert.start_slot == 4 * WEEK + 3


def test_bad_inputs_name_the_argument() -> None:
    with pytest.raises(ValueError, match="start_s"):
        detect_alerts(_series(), START_S + 1, CONFIG)
    with pytest.raises(ValueError, match="quantity"):
        detect_alerts(np.zeros(10), START_S, CONFIG)
    with pytest.raises(ValueError, match="reset_mask"):
        detect_alerts(_series(), START_S, CONFIG, reset_mask=np.zeros((2, 2), dtype=bool))


def _write(tmp_path: Path, change: dict) -> Path:
    content = json.loads(
        (Path(__file__).parents[3] / "accounting/data/alerts/alerts-v1.json").read_text(
            encoding="utf-8"
        )
    )
    for section, values in change.items():
        content[section].update(values)
    path = tmp_path / "alerts-test.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    return path


def test_config_loader_rejects_unknown_keys_naming_file_and_field(tmp_path: Path) -> None:
    with pytest.raises(AlertConfigError, match=r"alerts-test.json: gap.min_interval: Unknown"):
        load_alert_config(_write(tmp_path, {"gap": {"min_interval": 3}}))


def test_config_loader_rejects_inconsistent_values(tmp_path: Path) -> None:
    with pytest.raises(AlertConfigError, match=r"baseline\.weeks"):
        load_alert_config(_write(tmp_path, {"baseline": {"weeks": 9}}))
    with pytest.raises(AlertConfigError, match=r"baseline\.min_weeks_present: must not exceed"):
        load_alert_config(_write(tmp_path, {"baseline": {"min_weeks_present": 7}}))
    with pytest.raises(AlertConfigError, match=r"severity_ratio\.critical: must not be below"):
        load_alert_config(
            _write(
                tmp_path,
                {"over_consumption": {"severity_ratio": {"warning": 2.0, "critical": 1.0}}},
            )
        )


# --------------------------------------------------------------------------- holiday calendar

HOLIDAYS = load_holiday_calendar()


def test_holiday_calendar_marks_holidays_and_exchanged_working_days() -> None:
    kinds = HOLIDAYS.day_kinds(date(2024, 2, 3), 17)  # Sat 3 Feb .. Mon 19 Feb 2024
    expected = [REST, WORKING]  # Sat 3 rest; Sun 4 worked in exchange
    expected += [WORKING] * 5  # Mon 5 - Fri 9
    expected += [REST] * 8  # Spring Festival, Sat 10 - Sat 17
    expected += [WORKING, WORKING]  # Sun 18 worked in exchange, Mon 19
    assert kinds.tolist() == expected
    assert HOLIDAYS.years[2024].spring_festival == (date(2024, 2, 10), date(2024, 2, 17))


def test_years_not_in_the_calendar_fall_back_to_weekends() -> None:
    assert HOLIDAYS.day_kinds(date(2030, 1, 5), 3).tolist() == [REST, REST, WORKING]


def test_holiday_calendar_rejects_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "cal.json"
    path.write_text(
        json.dumps(
            {
                "version": "x",
                "description": "",
                "source": "s",
                "years": {
                    "2024": {
                        "rest_days": [],
                        "working_days": [],
                        "spring_festival": ["2024-02-10", "2024-02-17"],
                        "bridge_days": [],
                    }
                },
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(AlertConfigError, match=r"cal\.json: years\.2024\.bridge_days: Unknown"):
        load_holiday_calendar(path)


def _weekly_profile(weeks: int = 7) -> np.ndarray:
    """One meter: working days at 10 per interval, weekends at 1, with 2 % noise."""
    slots = np.arange(weeks * WEEK)
    weekday = (slots // 96) % 7  # the arrays start on a Monday
    rng = np.random.default_rng(5)
    level = np.where(weekday < 5, 10.0, 1.0)
    return (level * (1 + 0.02 * rng.standard_normal(slots.size)))[None, :]


def _kinds(weeks: int = 7) -> np.ndarray:
    weekday = np.arange(weeks * 7) % 7
    return np.where(weekday < 5, WORKING_DAY, REST_DAY).astype(np.int8)


def test_a_sunday_worked_in_exchange_is_compared_with_working_days() -> None:
    q = _weekly_profile()
    sunday = HISTORY + 6 * 96
    q[0, sunday : sunday + 96] *= 10.0  # works at the weekday level
    plain = detect_alerts(q, START_S, CONFIG, eval_from_slot=HISTORY)
    assert [a.kind for a in plain] == [AlertKind.OVER_CONSUMPTION]  # same-weekday baseline fires
    kinds = _kinds()
    kinds[6 * 7 + 6] = WORKING_DAY
    assert detect_alerts(q, START_S, CONFIG, eval_from_slot=HISTORY, day_kind=kinds) == []
    median, _ = weekly_baseline(q, HISTORY, 6, 3, DayCalendar(kinds))
    fridays = [HISTORY + 4 * 96 + 10 - w * WEEK for w in range(6)]  # this week's Friday first
    assert median[0, 6 * 96 + 10] == pytest.approx(np.median(q[0, fridays]))


def test_a_weekday_holiday_is_compared_with_rest_days_and_rest_days_only() -> None:
    q = _weekly_profile()
    wednesday = HISTORY + 2 * 96
    q[0, wednesday : wednesday + 96] /= 10.0  # closed for a holiday
    thursday = HISTORY + 3 * 96
    q[0, thursday - WEEK : thursday - WEEK + 96] /= 10.0  # last Thursday was a holiday too
    kinds = _kinds()
    kinds[6 * 7 + 2] = REST_DAY
    kinds[5 * 7 + 3] = REST_DAY
    median, _ = weekly_baseline(q, HISTORY, 6, 3, DayCalendar(kinds))
    sundays = [wednesday - 3 * 96 + 7 - w * WEEK for w in range(6)]  # the Sunday before, and back
    assert median[0, 2 * 96 + 7] == pytest.approx(np.median(q[0, sundays]))
    thursdays = [thursday + 7 - w * WEEK for w in range(2, 7)]  # not last week's holiday
    assert median[0, 3 * 96 + 7] == pytest.approx(np.median(q[0, thursdays]))
    assert detect_alerts(q, START_S, CONFIG, eval_from_slot=HISTORY, day_kind=kinds) == []
    q[0, wednesday + 40] = 10.0  # a weekday load on the holiday: over-consumption
    (alert,) = detect_alerts(q, START_S, CONFIG, eval_from_slot=HISTORY, day_kind=kinds)
    assert alert.start_slot == wednesday + 40


def test_day_kinds_must_cover_the_array() -> None:
    with pytest.raises(ValueError, match="day_kind"):
        detect_alerts(
            _weekly_profile(), START_S, CONFIG, eval_from_slot=HISTORY, day_kind=_kinds()[:-1]
        )
