"""Residents' accounts: factors, points with daily caps, levels, validation, the calculator."""

from __future__ import annotations

import copy
import json
import math
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from accounting.calc_readings import CalcInputError
from accounting.factors import load_factor_set_dir
from accounting.resident_behaviours import (
    Behaviour,
    FactorTableError,
    behaviour_table_from_content,
    load_behaviour_table,
)
from accounting.resident_points import (
    DEFAULT_RESIDENT_DIR,
    ResidentTables,
    levels_of,
    load_points_rules,
    points_rules_from_content,
)
from accounting.residents import (
    MonthEvents,
    RawResidentEvents,
    calc_resident,
    compute_month,
    load_resident_tables,
    month_parameters,
    validate_events,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
EXAMPLE = Path(__file__).parents[3] / "examples" / "resident.json"
FACTORS_FILE = DEFAULT_RESIDENT_DIR / "behaviour-factors-v1.json"
RULES_FILE = DEFAULT_RESIDENT_DIR / "points-rules-v1.json"
# GB/T 32150 gasoline: NCV 43.070 GJ/t x CC 18.9 tC/TJ x OF 98% x 44/12 -> tCO2/t (= kg/kg)
GASOLINE_KG_PER_KG = 43.07 * 18.9 * 0.98 * 44 / 12 / 1000
CAR_G_PER_VKM = 7.0 / 100 * 0.72 * GASOLINE_KG_PER_KG * 1000  # 7 L/100km, 0.72 kg/L
CAR_G_PER_PKM = CAR_G_PER_VKM / 1.5
BUS_G = 5.0 * CAR_G_PER_PKM * (1 - 0.25)  # 5 km, bus = 1/4 of a car per person-km


@pytest.fixture(scope="module")
def tables() -> ResidentTables:
    return load_resident_tables()


@pytest.fixture(scope="module")
def may_2024(tables: ResidentTables):  # type: ignore[no-untyped-def]
    factor_set = load_factor_set_dir().effective_on(date(2024, 5, 1))
    return month_parameters(tables, factor_set, date(2024, 5, 1))


def events(rows: list[tuple[int, int, Behaviour, float]]) -> MonthEvents:
    """(resident index, 0-based day, behaviour, quantity) rows as columns."""
    return MonthEvents(
        np.array([r[0] for r in rows], dtype=np.int32),
        np.array([r[1] for r in rows], dtype=np.int8),
        np.array([r[2].code for r in rows], dtype=np.int8),
        np.array([r[3] for r in rows], dtype=np.float64),
    )


# --------------------------------------------------------------------------- factors


def test_bus_ride_is_a_five_km_car_trip_less_a_quarter(may_2024) -> None:  # type: ignore[no-untyped-def]
    assert may_2024.factors.factor(Behaviour.BUS_RIDE) == pytest.approx(BUS_G, rel=1e-12)
    assert round(BUS_G, 2) == 368.56


def test_grid_and_fuel_factors_come_from_the_factor_set(tables: ResidentTables) -> None:
    cn2022 = load_factor_set_dir().get("CN-2022")
    params = month_parameters(tables, cn2022, date(2022, 3, 1), "east_china")
    assert params.factors.factor(Behaviour.ELECTRICITY_SAVED) == pytest.approx(561.7)
    assert params.factors.factor(Behaviour.WATER_SAVED) == pytest.approx(0.6 * 561.7)
    gas_g_per_m3 = 389.31e-4 * 15.3 * 0.99 * 44 / 12 * 1000  # GJ/m3 x tC/TJ x OF x 44/12, g
    assert params.factors.factor(Behaviour.GAS_SAVED) == pytest.approx(gas_g_per_m3)
    nev = 100 / 15 * CAR_G_PER_VKM - 561.7
    assert params.factors.factor(Behaviour.NEV_CHARGING) == pytest.approx(nev)
    assert params.versions == {
        "factor_table": "residents-factors-v1",
        "points_rules": "residents-points-v1",
        "factor_set": "CN-2022",
        "grid_region": "east_china",
    }


def test_every_factor_has_a_source_and_a_status() -> None:
    table = load_behaviour_table(FACTORS_FILE)
    assert set(table.entries) == set(Behaviour)
    assert all(e.source and e.status in {"C", "P", "U"} for e in table.entries.values())


# --------------------------------------------------------------------------- points and levels


def test_twenty_bus_trips_earn_twenty_times_the_factor(may_2024) -> None:  # type: ignore[no-untyped-def]
    rows = [(0, day, Behaviour.BUS_RIDE, 1.0) for day in range(10) for _ in range(2)]
    acc = compute_month(events(rows), 1, may_2024)
    assert acc.reduction_g[0] == pytest.approx(20 * BUS_G)
    assert acc.points[0] == math.floor(20 * BUS_G)  # 7,371 points at 1 g per point
    assert acc.points[0] == 7371


def test_daily_cap_stops_points_but_not_the_reduction(may_2024) -> None:  # type: ignore[no-untyped-def]
    rows = [(0, 3, Behaviour.BUS_RIDE, 1.0)] * 9 + [(0, 4, Behaviour.BUS_RIDE, 1.0)] * 2
    acc = compute_month(events(rows), 1, may_2024)
    assert acc.reduction_g[0] == pytest.approx(11 * BUS_G)
    assert acc.capped_g[0] == pytest.approx(8 * BUS_G)  # 6 (the cap) on day 3 + 2 on day 4
    assert acc.points[0] == math.floor(8 * BUS_G)


def test_cap_applies_to_quantity_summed_over_a_day(may_2024) -> None:  # type: ignore[no-untyped-def]
    nev_g = may_2024.factors.factor(Behaviour.NEV_CHARGING)
    rows = [(1, 0, Behaviour.NEV_CHARGING, 100.0), (1, 0, Behaviour.NEV_CHARGING, 80.0)]
    acc = compute_month(events(rows), 2, may_2024)
    assert acc.capped_g.tolist() == pytest.approx([0.0, 150 * nev_g])
    assert acc.points.tolist() == [0, math.floor(150 * nev_g)]


def test_levels_start_at_their_thresholds(tables: ResidentTables) -> None:
    rules = tables.rules_on(date(2024, 1, 1))
    points = np.array([0, 1999, 2000, 9999, 10000, 49999, 50000, 199999, 200000, 10**9])
    assert levels_of(points, rules.level_min_points).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert len(rules.levels) >= 5


def test_cumulative_points_add_the_previous_month(may_2024) -> None:  # type: ignore[no-untyped-def]
    acc = compute_month(
        events([(0, 0, Behaviour.E_STATEMENT, 1.0)]),
        2,
        may_2024,
        np.array([1990, 5], dtype=np.int64),
        np.array([1990.0, 5.0]),
    )
    assert acc.points.tolist() == [67, 0]
    assert acc.cumulative_points.tolist() == [2057, 5]
    assert acc.level.tolist() == [2, 1]


def test_monthly_totals_equal_sums_of_events_in_any_order(may_2024) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    n = 5000
    ev = MonthEvents(
        rng.integers(0, 40, n).astype(np.int32),
        rng.integers(0, 31, n).astype(np.int8),
        rng.integers(1, 11, n).astype(np.int8),
        rng.integers(1, 4, n).astype(np.float64),
    )
    shuffled = compute_month(ev, 40, may_2024)
    ordered = compute_month(ev.in_canonical_order(), 40, may_2024)
    assert not shuffled.sorted_input
    assert ordered.sorted_input
    g = may_2024.g_per_unit
    caps = may_2024.daily_cap
    expected_g, expected_capped = np.zeros(40), np.zeros(40)
    days: dict[tuple[int, int, int], float] = {}
    for r, d, b, q in zip(ev.resident_index, ev.day, ev.behaviour, ev.quantity, strict=True):
        expected_g[r] += q * g[b]
        days[(int(r), int(d), int(b))] = days.get((int(r), int(d), int(b)), 0.0) + q
    for (r, _, b), q in days.items():
        expected_capped[r] += min(q, caps[b]) * g[b]
    for acc in (shuffled, ordered):
        assert acc.reduction_g == pytest.approx(expected_g)
        assert acc.capped_g == pytest.approx(expected_capped)
        assert acc.points.tolist() == np.floor(expected_capped + 1e-6).astype(int).tolist()
    assert (expected_capped < expected_g - 1).any()  # some caps did bind


def test_out_of_range_indices_are_refused(may_2024) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="resident_index"):
        compute_month(events([(3, 0, Behaviour.BUS_RIDE, 1.0)]), 3, may_2024)


# --------------------------------------------------------------------------- data files


def _content(path: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_factor_table_refuses_a_parameter_of_another_method() -> None:
    doc = _content(FACTORS_FILE)
    doc["behaviours"]["bus_ride"]["kwh_per_unit"] = 1.0
    with pytest.raises(FactorTableError, match=r"behaviours\.bus_ride\.kwh_per_unit: not a"):
        behaviour_table_from_content(doc, "t.json")
    del doc["behaviours"]["bus_ride"]["kwh_per_unit"]
    del doc["behaviours"]["bus_ride"]["trip_km"]
    with pytest.raises(FactorTableError, match=r"bus_ride\.trip_km: required by method"):
        behaviour_table_from_content(doc, "t.json")


def test_factor_table_is_effective_by_whole_months() -> None:
    doc = _content(FACTORS_FILE)
    doc["effective_from"] = "2021-01-02"
    with pytest.raises(FactorTableError, match="effective_from: must be the first day"):
        behaviour_table_from_content(doc, "t.json")


def test_rules_need_five_increasing_levels() -> None:
    doc = _content(RULES_FILE)
    doc["levels"] = doc["levels"][:4]
    with pytest.raises(FactorTableError, match="at least 5 levels"):
        points_rules_from_content(doc, "r.json")
    doc = _content(RULES_FILE)
    doc["levels"][2]["min_points"] = 1000
    with pytest.raises(FactorTableError, match="strictly increase"):
        points_rules_from_content(doc, "r.json")


def test_a_cap_below_the_per_event_maximum_is_refused() -> None:
    doc = _content(RULES_FILE)
    doc["daily_caps"]["nev_charging"]["quantity"] = 100
    tables = ResidentTables(
        [load_behaviour_table(FACTORS_FILE)], [points_rules_from_content(doc, "r.json")]
    )
    with pytest.raises(FactorTableError, match="daily cap of nev_charging"):
        month_parameters(tables, load_factor_set_dir().get("CN-2023"), date(2024, 5, 1))


def test_no_table_before_2021(tables: ResidentTables) -> None:
    with pytest.raises(FactorTableError, match="no behaviour factor table is effective"):
        tables.table_on(date(2020, 12, 31))
    assert load_points_rules(RULES_FILE).level_of(2000).name == "seedling"


# --------------------------------------------------------------------------- validation


def _at(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).timestamp())


def raw(items: list[tuple[int, int, str, str, float, str | None]]) -> RawResidentEvents:
    """(event_id, resident_id, local time, behaviour, quantity, unit) rows, numbered from 1."""
    names = tuple(sorted({i[3] for i in items if i[3]}))
    units = tuple(sorted({i[5] for i in items if i[5]}))
    return RawResidentEvents(
        row=np.arange(1, len(items) + 1, dtype=np.int64),
        event_id=np.array([i[0] for i in items], dtype=np.int64),
        resident_id=np.array([i[1] for i in items], dtype=np.int64),
        occurred_at_s=np.array([_at(i[2]) for i in items], dtype=np.int64),
        behaviour_ref=np.array([names.index(i[3]) if i[3] else -1 for i in items], np.int32),
        behaviour_names=names,
        quantity=np.array([i[4] for i in items], dtype=np.float64),
        unit_ref=np.array([units.index(i[5]) if i[5] else -1 for i in items], np.int32),
        units=units,
    )


NOW = _at("2024-06-01T00:00:00")


def test_bad_events_are_rejected_with_field_and_reason(tables: ResidentTables) -> None:
    t = "2024-05-03T08:00:00"
    batch = raw(
        [
            (1, 7, t, "bus_ride", 1, "trip"),
            (0, 7, t, "bus_ride", 1, None),
            (3, -2, t, "bus_ride", 1, None),
            (4, 7, t, "taxi_ride", 1, None),
            (5, 7, t, "", 1, None),
            (6, 7, t, "bus_ride", 1, "kWh"),
            (7, 7, "2020-12-31T23:00:00", "bus_ride", 1, None),
            (8, 7, "2024-06-02T00:00:00", "bus_ride", 1, None),
            (9, 7, t, "bus_ride", -1, None),
            (10, 7, t, "bus_ride", 1.5, None),
            (11, 7, t, "nev_charging", 151, "kWh"),
            (12, 7, t, "nev_charging", float("nan"), None),
            (1, 7, t, "bus_ride", 2, "trips"),
            (1, 7, t, "bus_ride", 1, "trips"),
            (13, 7, t, "electricity_saved", 0.2, "MWh"),
            (14, 7, t, "water_saved", 3, "t"),
        ]
    )
    checked = validate_events(batch, tables, SHANGHAI, NOW)
    reasons = {r.row: (r.field, r.reason) for r in checked.rejections}
    assert reasons == {
        2: ("event_id", "must be a positive integer"),
        3: ("resident_id", "must be a positive integer"),
        4: ("behaviour", reasons[4][1]),
        5: ("behaviour", "missing"),
        6: ("unit", "'kWh' is not a unit of bus_ride (use trip, trips)"),
        7: ("occurred_at", "no behaviour factor table covers it (from 2021-01-01)"),
        8: ("occurred_at", "is in the future"),
        9: ("quantity", "must be positive"),
        10: ("quantity", "must be a whole number"),
        11: ("quantity", "151 kWh is implausible: above the 150 kWh one event may carry"),
        12: ("quantity", "must be a finite number"),
        13: ("event_id", "1 repeats row 1 with different content"),
    }
    assert reasons[4][1].startswith("'taxi_ride' is not a known behaviour (bus_ride, ")
    assert checked.duplicates == 1  # row 14 repeats row 1 exactly ('trips' is 'trip')
    assert checked.events.row.tolist() == [1, 15, 16]
    assert checked.events.quantity.tolist() == [1.0, 200.0, 3.0]  # 0.2 MWh, 3 t of water


# --------------------------------------------------------------------------- calculator


def test_calculator_example_matches_hand_figures() -> None:
    result = calc_resident(json.loads(EXAMPLE.read_text(encoding="utf-8")))
    may, june = result["months"]
    assert may["points"] == math.floor(may["reduction_g"])
    assert june["reduction_g"] == pytest.approx(7 * BUS_G, abs=1e-3)
    assert june["capped_g"] == pytest.approx(6 * BUS_G, abs=1e-3)  # 7 trips on 3 June, cap 6
    assert june["points"] == math.floor(6 * BUS_G)
    assert june["cumulative_points"] == 1500 + may["points"] + june["points"]
    assert result["totals"]["level"] == 3
    assert result["next_level"]["points_to_go"] == 50_000 - june["cumulative_points"]


def test_calculator_names_the_bad_field() -> None:
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    bad = copy.deepcopy(doc)
    bad["events"][1]["quantity"] = -1
    with pytest.raises(CalcInputError, match=r"events\[1\]\.quantity: must be positive"):
        calc_resident(bad)
    bad = copy.deepcopy(doc)
    bad["period"]["end"] = "2024-06-15"
    with pytest.raises(CalcInputError, match=r"period\.end: must be the last day of a month"):
        calc_resident(bad)
    bad = copy.deepcopy(doc)
    bad["events"][0]["occurred_at"] = "2024-07-01T08:00:00"
    with pytest.raises(CalcInputError, match=r"events\[0\]\.occurred_at: 2024-07-01 is outside"):
        calc_resident(bad)
    bad = copy.deepcopy(doc)
    bad["entity"]["sector"] = "industry"
    with pytest.raises(CalcInputError, match=r"entity\.sector"):
        calc_resident(bad)
