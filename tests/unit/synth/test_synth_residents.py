"""The synthetic residents: deterministic, canonical order, every level occurs, caps bind."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from accounting.factors import load_factor_set_dir
from accounting.residents import (
    compute_month,
    load_resident_tables,
    month_parameters,
    validate_events,
)
from finance_engine.synth.residents import (
    FULL_SCALE_RESIDENTS,
    SyntheticResidents,
    bad_events,
    build_residents,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def residents() -> SyntheticResidents:
    return build_residents(seed=7, year=2024)


def test_default_scale_is_small_and_full_scale_is_quzhou() -> None:
    assert build_residents(seed=1).n_residents == 2330
    full = round(FULL_SCALE_RESIDENTS * 1.0)
    assert full == 2_330_000


def test_same_seed_same_events(residents: SyntheticResidents) -> None:
    a, b = residents.month_events(3), build_residents(seed=7, year=2024).month_events(3)
    assert np.array_equal(a.event_id, b.event_id)
    assert np.array_equal(a.occurred_at_s, b.occurred_at_s)
    assert np.array_equal(a.events.quantity, b.events.quantity)
    assert not np.array_equal(
        build_residents(seed=8).month_events(3).event_id[:50], a.event_id[:50]
    )


def test_events_are_canonical_unique_and_inside_their_month(residents: SyntheticResidents) -> None:
    month = residents.month_events(2)
    key = month.events.group_keys()
    assert bool(np.all(key[1:] >= key[:-1]))
    assert len(np.unique(month.event_id)) == len(month)
    first = int(datetime(2024, 2, 1, tzinfo=SHANGHAI).timestamp())
    end = int(datetime(2024, 3, 1, tzinfo=SHANGHAI).timestamp())
    assert first <= int(month.occurred_at_s.min())
    assert int(month.occurred_at_s.max()) < end
    local_day = (month.occurred_at_s - first) // 86_400  # Shanghai: no DST
    assert np.array_equal(local_day, month.events.day)
    assert np.array_equal(month.resident_id - 1, month.events.resident_index)


def test_generated_events_pass_validation(residents: SyntheticResidents) -> None:
    month = residents.month_events(5)
    now = int(datetime(2025, 1, 1, tzinfo=SHANGHAI).timestamp())
    checked = validate_events(month.to_raw(), load_resident_tables(), SHANGHAI, now)
    assert checked.rejections == ()
    assert checked.duplicates == 0
    assert len(checked.events) == len(month)


def test_every_level_occurs_in_a_year_and_caps_bind(residents: SyntheticResidents) -> None:
    tables, factor_sets = load_resident_tables(), load_factor_set_dir()
    points = np.zeros(residents.n_residents, dtype=np.int64)
    grams = np.zeros(residents.n_residents)
    capped_somewhere = False
    for m in range(1, 13):
        first = date(2024, m, 1)
        params = month_parameters(tables, factor_sets.effective_on(first), first)
        acc = compute_month(
            residents.month_events(m).events, residents.n_residents, params, points, grams
        )
        points, grams = acc.cumulative_points, acc.cumulative_reduction_g
        capped_somewhere |= bool((acc.capped_g < acc.reduction_g - 1).any())
    counts = acc.level_counts()
    assert sorted(counts) == [1, 2, 3, 4, 5]
    assert all(n > 0 for n in counts.values()), counts
    assert capped_somewhere


def test_bad_events_fail_for_the_stated_reasons(residents: SyntheticResidents) -> None:
    month = residents.month_events(1)
    now = int(datetime(2025, 1, 1, tzinfo=SHANGHAI).timestamp())
    checked = validate_events(bad_events(month, now), load_resident_tables(), SHANGHAI, now)
    assert [(r.row, r.field) for r in checked.rejections] == [
        (1, "behaviour"),
        (2, "quantity"),
        (3, "quantity"),
        (4, "occurred_at"),
        (6, "event_id"),
    ]
    assert checked.events.row.tolist() == [5]
