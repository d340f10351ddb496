"""Alerts service on SQLite and PostgreSQL: evaluate stored readings, store idempotently, list."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, func, insert, select

from accounting.readings import ReadingFlag
from finance_engine.models import Alert, Entity, Meter
from finance_engine.services.alerts import (
    COUNTER_RESET_FLAG,
    evaluate_alerts,
    list_alerts,
)
from finance_engine.storage.daypack import NO_BATCH
from finance_engine.storage.readings import ReadingRows, bulk_transaction

WEEK = 672
START_S = 1_704_038_400  # 2024-01-01 00:00 Asia/Shanghai
EVAL_START_S = START_S + 6 * WEEK * 900  # Monday 2024-02-12 00:00 local
EVAL_END_S = START_S + 7 * WEEK * 900
SPIKE_SLOT = 6 * WEEK + 100  # Tuesday 01:00 local
GAP_SLOTS = slice(6 * WEEK + 300, 6 * WEEK + 320)
RESET_SLOT = 6 * WEEK + 500


def _load(engine: Engine) -> dict[str, int]:
    """Two firms: an electricity meter with a spike and a reset, a gas meter with a gap, and a
    PV meter whose sunny interval must not count as over-consumption."""
    slots = np.arange(7 * WEEK)
    rng = np.random.default_rng(3)
    base = 10.0 + (slots % 96) / 10.0
    series = {
        code: base * (1 + 0.02 * rng.standard_normal(slots.size)) for code in ("E1", "G1", "PV1")
    }
    series["E1"][SPIKE_SLOT] *= 4.0
    series["PV1"][SPIKE_SLOT] *= 4.0
    with engine.begin() as conn:
        conn.execute(
            insert(Entity.__table__),
            [
                {"id": "F1", "name": "Firm one", "sector": "industry", "industry_code": "C2614"},
                {"id": "F2", "name": "Firm two", "sector": "industry", "industry_code": "C3011"},
            ],
        )
        conn.execute(
            insert(Meter.__table__),
            [
                {
                    "code": "E1",
                    "entity_id": "F1",
                    "energy_type": "electricity",
                    "unit": "kWh",
                    "reading_kind": "cumulative",
                },
                {
                    "code": "G1",
                    "entity_id": "F2",
                    "energy_type": "natural_gas",
                    "unit": "m3",
                    "reading_kind": "interval",
                },
                {
                    "code": "PV1",
                    "entity_id": "F1",
                    "energy_type": "renewable_self_consumed",
                    "unit": "kWh",
                    "reading_kind": "interval",
                },
            ],
        )
        ids = dict(conn.execute(select(Meter.__table__.c.code, Meter.__table__.c.id)).all())
    parts = []
    for code, values in series.items():
        keep = np.ones(slots.size, dtype=bool)
        if code == "G1":
            keep[GAP_SLOTS] = False
        kept = slots[keep]
        reset = (kept == RESET_SLOT) & (code == "E1")
        parts.append(
            (
                np.full(kept.size, ids[code]),
                START_S + 900 * kept,
                values[keep],
                np.full(kept.size, np.nan),  # interval meters: no counter
                np.where(reset, COUNTER_RESET_FLAG, 0),
            )
        )
    with bulk_transaction(engine) as store:
        columns = [np.concatenate(c) for c in zip(*parts, strict=True)]
        store.insert(ReadingRows.from_columns(columns), NO_BATCH)
    return ids


def _stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Alert.__table__)).scalar_one())


def test_evaluate_stores_alerts_once_and_reevaluation_adds_none(engine: Engine) -> None:
    ids = _load(engine)
    new = evaluate_alerts(engine, list(ids.values()), EVAL_START_S, EVAL_END_S, batch_id=7)
    assert new == 3
    assert _stored(engine) == 3
    assert evaluate_alerts(engine, list(ids.values()), EVAL_START_S, EVAL_END_S) == 0
    shifted = evaluate_alerts(engine, list(ids.values()), EVAL_START_S + 86_400, EVAL_END_S)
    assert shifted == 0  # the same runs, found again from a later window: same keys
    assert _stored(engine) == 3

    alerts = {a.kind: a for a in list_alerts(engine)}
    spike = alerts["over_consumption"]
    assert (spike.meter_code, spike.entity_id, spike.unit) == ("E1", "F1", "kWh")
    assert spike.interval_start_s == START_S + 900 * SPIKE_SLOT
    assert spike.interval_end_s == spike.interval_start_s + 900
    assert spike.actual == pytest.approx(4 * (10.0 + (SPIKE_SLOT % 96) / 10), rel=0.1)
    assert spike.expected == pytest.approx(10.0 + (SPIKE_SLOT % 96) / 10, rel=0.03)
    assert (spike.severity, spike.batch_id, spike.status) == ("critical", 7, "open")
    gap = alerts["gap"]
    assert (gap.meter_code, gap.actual) == ("G1", None)
    assert gap.interval_start_s == START_S + 900 * GAP_SLOTS.start
    assert gap.interval_end_s == START_S + 900 * GAP_SLOTS.stop
    reset = alerts["counter_reset"]
    assert (reset.meter_code, reset.interval_start_s) == ("E1", START_S + 900 * RESET_SLOT)


def test_list_filters_and_orders_most_severe_first(engine: Engine) -> None:
    ids = _load(engine)
    evaluate_alerts(engine, list(ids.values()), EVAL_START_S, EVAL_END_S)
    listed = [(a.severity, a.kind) for a in list_alerts(engine)]  # then the newest first
    assert listed == [
        ("critical", "over_consumption"),
        ("warning", "counter_reset"),
        ("warning", "gap"),
    ]
    assert {a.kind for a in list_alerts(engine, entity_id="F1")} == {
        "over_consumption",
        "counter_reset",
    }
    assert [a.kind for a in list_alerts(engine, entity_id="F2")] == ["gap"]
    assert [a.kind for a in list_alerts(engine, kind="counter_reset")] == ["counter_reset"]
    assert [a.kind for a in list_alerts(engine, severity="critical")] == ["over_consumption"]
    assert len(list_alerts(engine, limit=1)) == 1
    since = START_S + 900 * GAP_SLOTS.start
    assert {a.kind for a in list_alerts(engine, since=since)} == {"gap", "counter_reset"}


def test_only_the_evaluated_window_and_the_given_meters_are_evaluated(engine: Engine) -> None:
    ids = _load(engine)
    assert evaluate_alerts(engine, [ids["G1"]], EVAL_START_S, EVAL_END_S) == 1
    day_after_spike = EVAL_START_S + 2 * 86_400
    assert evaluate_alerts(engine, [ids["E1"]], day_after_spike, day_after_spike + 3600) == 0
    assert evaluate_alerts(engine, [], EVAL_START_S, EVAL_END_S) == 0


def test_bad_arguments_name_the_field(engine: Engine) -> None:
    with pytest.raises(ValueError, match="end_s"):
        evaluate_alerts(engine, [1], EVAL_END_S, EVAL_START_S)
    with pytest.raises(ValueError, match="kind"):
        list_alerts(engine, kind="spike")
    with pytest.raises(ValueError, match="severity"):
        list_alerts(engine, severity="high")
    with pytest.raises(ValueError, match="limit"):
        list_alerts(engine, limit=0)


def test_reset_flag_bit_matches_ingest() -> None:
    assert COUNTER_RESET_FLAG == int(ReadingFlag.COUNTER_RESET) == 4


def test_counter_anchors_and_multi_interval_differences_are_not_compared(engine: Engine) -> None:
    ids = _load(engine)
    # a counter difference over 5 intervals kept whole, and an anchor
    revised = [
        (6 * WEEK + 600, 5 * 15.0, ReadingFlag.SPANS_GAP),
        (6 * WEEK + 650, 0.0, ReadingFlag.ANCHOR),
    ]
    with bulk_transaction(engine) as store:
        store.revise(
            ReadingRows.from_columns(
                [
                    [ids["G1"]] * len(revised),
                    [START_S + 900 * slot for slot, _, _ in revised],
                    [q for _, q, _ in revised],
                    [np.nan] * len(revised),
                    [int(flags) for _, _, flags in revised],
                ]
            )
        )
    evaluate_alerts(engine, [ids["G1"]], EVAL_START_S, EVAL_END_S)
    assert [a.kind for a in list_alerts(engine, entity_id="F2")] == ["gap"]


def test_cli_lists_alerts_as_json_and_rejects_bad_filters(
    engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from finance_engine.cli import cli, common
    from finance_engine.cli.common import run_cli

    ids = _load(engine)
    evaluate_alerts(engine, list(ids.values()), EVAL_START_S, EVAL_END_S)
    monkeypatch.setenv("FINANCE_ENGINE_DATABASE_URL", db_url)
    engines: list[Engine] = []  # the CLI's engines, disposed at the end (no leaked connections)

    def make_engine(url: str, **kwargs: object) -> Engine:
        engines.append(real_make_engine(url, **kwargs))
        return engines[-1]

    real_make_engine = common.make_engine
    monkeypatch.setattr(common, "make_engine", make_engine)
    try:
        _run_cli_checks(run_cli, cli, capsys)
    finally:
        for created in engines:
            created.dispose()


def _run_cli_checks(run_cli: Any, cli: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(cli, ["alerts", "list", "--entity", "F2", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["kind"], row["meter_code"], row["start_local"]) == (
        "gap",
        "G1",
        "2024-02-15T03:00+08:00",
    )
    assert run_cli(cli, ["alerts", "list", "--since", "2024-02-15T04:00"]) == 0
    assert "counter_reset" in capsys.readouterr().out
    assert run_cli(cli, ["alerts", "list", "--kind", "spike"]) == 2
    assert run_cli(cli, ["alerts", "list", "--since", "yesterday"]) == 2
    assert "--since" in capsys.readouterr().err
