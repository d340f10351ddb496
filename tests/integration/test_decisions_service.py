"""The decision service on SQLite and PostgreSQL: stored accounts and alerts in, logged decisions
out; batches equal one-by-one; tampering with stored records is found; concurrent appends keep
one unbroken chain."""

from __future__ import annotations

import importlib
import json
import multiprocessing
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from accounting.account import account_to_dict
from accounting.calc import parse_calc_document, run_calc
from accounting.factors import load_factor_set_dir
from accounting.grading import load_grading_config
from finance_engine.db import make_engine, upgrade
from finance_engine.models import Alert, CarbonAccount, Entity, Meter
from finance_engine.services.borrowers import (
    BorrowerNotVisibleError,
    account_cache,
    borrower_account,
    lookup_borrower,
)
from finance_engine.services.consents import EntityAccess, grant_consent, revoke_consent
from finance_engine.services.decision_log import ADVISORY_LOCK_KEY, SqlDecisionLog, lock_path
from finance_engine.services.decisions import (
    DecisionContext,
    DecisionServiceError,
    default_catalog,
    list_decisions,
    load_account_views,
    offers,
    score,
    score_batch,
    show_decision,
    verify_log,
)
from finance_engine.services.models import InMemoryModelStore
from finance_engine.services.prepared import request_connection
from finance_engine.synth.loans import generate_loan_history
from finance_engine.tables_api import Consent
from scoring.applications import Application, Financials
from scoring.decision_log import GENESIS_HASH, Problem, chain_records
from scoring.decision_rules import default_decision_rules
from scoring.features import feature_matrix
from scoring.risk_model import RiskModel

ON = date(2026, 6, 1)
EXAMPLE = Path(__file__).parents[2] / "examples" / "industry.json"
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def model() -> RiskModel:
    history = generate_loan_history(5, 6000)
    return RiskModel().fit(
        feature_matrix(history.feature_columns()), history["default_12m"], created_at=NOW
    )


@pytest.fixture
def context(model: RiskModel) -> DecisionContext:
    store = InMemoryModelStore()
    store.save(model)
    return DecisionContext(
        default_catalog(), store, default_decision_rules(), "Asia/Shanghai", lambda: NOW
    )


def account_result(entity_id: str, previous_intensity: float) -> dict[str, Any]:
    """The example fluorochemical firm's 2025 account (dark green, grade 3, tier 3)."""
    doc = parse_calc_document(EXAMPLE.read_text(encoding="utf-8"))
    doc["entity"]["id"] = entity_id
    doc["period"] = {"start": "2025-01-01", "end": "2025-12-31"}
    doc["previous"] = {"intensity": previous_intensity}
    result = run_calc(doc, load_factor_set_dir(), load_grading_config())
    return account_to_dict(result)


def account_row(entity_id: str, previous_intensity: float, benchmark: str = "") -> CarbonAccount:
    data = account_result(entity_id, previous_intensity)
    grade = data["grade"]
    return CarbonAccount(
        entity_id=entity_id,
        sector="industry",
        period_start=date(2025, 1, 1),
        period_end=date(2025, 12, 31),
        factor_set_version=data["factor_set"],
        benchmark_version=benchmark or data["benchmark"]["version"],
        grading_version=data["grading_version"],
        emissions_tco2e=data["emissions_tco2e"]["total"],
        scope1_tco2e=data["emissions_tco2e"]["scope1"],
        scope2_tco2e=data["emissions_tco2e"]["scope2"],
        carbon_efficiency_grade=grade["carbon_efficiency"],
        colour=grade["colour"],
        score=grade["score"],
        result=data,
    )


def store_firm(engine: Engine, entity_id: str, previous_intensity: float = 1.02) -> None:
    with Session(engine) as session:
        session.add(Entity(id=entity_id, name=entity_id, sector="industry", industry_code="C2614"))
        session.flush()
        session.add(account_row(entity_id, previous_intensity))
        session.commit()


def add_alert(
    engine: Engine, entity_id: str, severity: str, at: datetime, status: str = "open"
) -> None:
    with Session(engine) as session:
        meter = Meter(
            code=f"{entity_id}-{severity}-{at:%Y%m%d}-{status}",
            entity_id=entity_id,
            energy_type="electricity",
            unit="kWh",
        )
        session.add(meter)
        session.flush()
        assert meter.id is not None
        start = int(at.timestamp())
        session.add(
            Alert(
                meter_id=meter.id,
                entity_id=entity_id,
                kind="over_consumption",
                severity=severity,
                interval_start_s=start,
                interval_end_s=start + 900,
                status=status,
            )
        )
        session.commit()


def app(entity_id: str = "F1", product: str | None = "CIB-QZ-CLL", **changes: Any) -> Application:
    values: dict[str, Any] = {
        "application_id": f"APP-{entity_id}-{product}",
        "entity_id": entity_id,
        "base_limit_yuan": Decimal("2000000.00"),
        "base_rate_pct": Decimal("5.30"),
        "financials": Financials(Decimal("8000"), 0.45, 1.6, 0.07, 15, 0),
        "product_code": product,
    }
    values.update(changes)
    return Application(**values)


def test_score_decides_from_the_stored_account_and_logs_it(
    engine: Engine, context: DecisionContext
) -> None:
    store_firm(engine, "F1")  # intensity fell 9.0%: YOY-CUT-5 applies
    logged = score(engine, context, app(), on=ON)
    d = logged.decision
    assert d.grade == "dark_green"
    assert d.outcome.value == "approve"
    assert d.terms is not None
    assert d.terms.rate_discount_bp == 150  # 140 + 10 bp, capped at 150
    assert d.terms.final_rate_pct == Decimal("3.80")
    assert d.account is not None
    assert d.account.account_id is not None
    assert logged.record.sequence == 1
    assert d.versions.factor_set == "CN-2023"
    shown = show_decision(engine, 1)
    assert shown["log"]["record_hash"] == logged.record.record_hash
    assert shown["terms"]["final_rate_pct"] == "3.80"
    assert {k: v for k, v in shown.items() if k != "log"} == logged.payload
    assert verify_log(engine).intact


def test_open_alerts_in_the_window_count_and_closed_or_old_ones_do_not(
    engine: Engine, context: DecisionContext
) -> None:
    store_firm(engine, "F1")
    add_alert(engine, "F1", "critical", datetime(2026, 3, 1, tzinfo=UTC))
    add_alert(engine, "F1", "critical", datetime(2026, 3, 2, tzinfo=UTC), status="closed")
    add_alert(engine, "F1", "critical", datetime(2025, 5, 1, tzinfo=UTC))  # > 365 days before
    add_alert(engine, "F1", "warning", datetime(2026, 5, 31, 15, 0, tzinfo=UTC))  # 1 June local
    add_alert(engine, "F1", "warning", datetime(2026, 6, 1, 16, 0, tzinfo=UTC))  # 2 June local
    d = score(engine, context, app(), on=ON).decision
    assert d.account is not None
    assert (d.account.open_alerts.critical, d.account.open_alerts.warning) == (1, 1)
    assert d.outcome.value == "refer"
    assert d.codes()[0] == "R02"  # CIB-QZ-CLL refers open critical alerts


def test_missing_account_product_or_model_is_a_clear_error(
    engine: Engine, context: DecisionContext
) -> None:
    with pytest.raises(DecisionServiceError, match=r"entity_id: .*account compute"):
        score(engine, context, app("NOBODY"), on=ON)
    store_firm(engine, "F1")
    with pytest.raises(DecisionServiceError, match="product_code: unknown product code"):
        score(engine, context, app(product="NO-SUCH"), on=ON)
    empty = DecisionContext(default_catalog(), InMemoryModelStore(), default_decision_rules())
    with pytest.raises(DecisionServiceError, match="model train"):
        score(engine, empty, app(), on=ON)
    assert list_decisions(engine) == []


def test_offers_log_every_products_decision_ranked(
    engine: Engine, context: DecisionContext
) -> None:
    store_firm(engine, "F1")
    ranked = offers(engine, context, app(product=None), on=ON)
    codes = [item.decision.product_code for item in ranked]
    assert len(codes) == len(default_catalog().for_sector("industry", ON))
    assert [item.record.sequence for item in ranked] == list(range(1, len(ranked) + 1))
    outcomes = [item.decision.outcome.value for item in ranked]
    assert outcomes[0] == "approve"
    assert outcomes == sorted(outcomes, key=["approve", "refer", "decline"].index)
    assert len(list_decisions(engine, entity_id="F1", limit=100)) == len(ranked)


def test_batch_equals_one_by_one_and_declines_a_borrower_without_account(
    engine: Engine, context: DecisionContext
) -> None:
    store_firm(engine, "F1")
    store_firm(engine, "F2", previous_intensity=0.80)  # intensity rose 16%
    apps = [app("F1"), app("F2", "BOC-QZ-CEL"), app("F3"), app("F2", "ICBC-QZ-IND-CRL")]
    batch = score_batch(engine, context, apps, on=ON)
    with_account = [0, 1, 3]
    single = [score(engine, context, apps[i], on=ON) for i in with_account]
    assert [batch[i].payload for i in with_account] == [s.payload for s in single]
    assert [b.record.sequence for b in batch] == [1, 2, 3, 4]
    assert batch[2].decision.codes()[:2] == ("E03", "C10")  # F3 has no account: declined
    assert verify_log(engine).records_checked == 7


def _seed_log(engine: Engine, context: DecisionContext, n: int = 6) -> None:
    store_firm(engine, "F1")
    score_batch(engine, context, [app(application_id=f"A{i}") for i in range(n)], on=ON)
    assert verify_log(engine).intact


def _payload_of(engine: Engine, sequence: int) -> dict[str, Any]:
    with engine.connect() as conn:
        value = conn.execute(
            text("SELECT payload FROM decision_log WHERE sequence = :s"), {"s": sequence}
        ).scalar_one()
    parsed: dict[str, Any] = json.loads(value)
    return parsed


TAMPERING = {
    "payload field": (
        "UPDATE decision_log SET payload = :p WHERE sequence = 3",
        3,
        Problem.HASH_MISMATCH,
    ),
    "deleted row": ("DELETE FROM decision_log WHERE sequence = 3", 4, Problem.SEQUENCE_GAP),
    "search column": (
        "UPDATE decision_log SET outcome = 'decline' WHERE sequence = 5",
        5,
        Problem.FIELD_MISMATCH,
    ),
    "prev hash": (
        "UPDATE decision_log SET prev_hash = record_hash WHERE sequence = 2",
        2,
        Problem.HASH_MISMATCH,
    ),
}


@pytest.mark.parametrize("how", list(TAMPERING))
def test_tampering_with_a_stored_record_is_found_naming_it(
    engine: Engine, context: DecisionContext, how: str
) -> None:
    _seed_log(engine, context)
    sql, sequence, problem = TAMPERING[how]
    changed = _payload_of(engine, 3)
    changed["terms"]["final_rate_pct"] = "2.10"
    with engine.begin() as conn:
        conn.execute(text(sql), {"p": json.dumps(changed, sort_keys=True, separators=(",", ":"))})
    report = verify_log(engine)
    assert not report.intact
    assert report.first_broken is not None
    assert (report.first_broken.sequence, report.first_broken.problem) == (sequence, problem)
    assert report.head_sequence < sequence  # intact up to the record before the break


def test_reordered_rows_are_found(engine: Engine, context: DecisionContext) -> None:
    _seed_log(engine, context)
    with engine.begin() as conn:
        conn.execute(text("UPDATE decision_log SET sequence = 1000 WHERE sequence = 2"))
        conn.execute(text("UPDATE decision_log SET sequence = 2 WHERE sequence = 4"))
        conn.execute(text("UPDATE decision_log SET sequence = 4 WHERE sequence = 1000"))
    broken = verify_log(engine).first_broken
    assert broken is not None
    assert (broken.sequence, broken.problem) == (2, Problem.HASH_MISMATCH)


def test_a_cut_tail_is_found_against_the_head_noted_before(
    engine: Engine, context: DecisionContext
) -> None:
    _seed_log(engine, context)
    before = verify_log(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM decision_log WHERE sequence >= 5"))
    assert verify_log(engine).intact
    report = verify_log(engine, expected_head=(before.head_sequence, before.head_hash))
    assert report.first_broken is not None
    assert report.first_broken.problem is Problem.HEAD_MISMATCH


def test_concurrent_appenders_build_one_unbroken_chain(engine: Engine) -> None:
    writers, per_writer = 4, 15
    errors: list[BaseException] = []

    def write(w: int) -> None:
        log = SqlDecisionLog(engine)
        try:
            for i in range(per_writer):
                payload = {"application_id": f"W{w}-{i}", "entity_id": f"E{w}", "outcome": "refer"}
                log.append([payload, {**payload, "product_code": "X"}], created_at=NOW)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = verify_log(engine)
    assert report.intact
    assert report.records_checked == writers * per_writer * 2
    # each append's two records are adjacent: no writer slipped in between
    records = list(SqlDecisionLog(engine).records())
    for first, second in zip(records[::2], records[1::2], strict=True):
        assert second.application_id == first.application_id


def test_appended_records_hash_like_the_published_chain_whatever_the_payload_text(
    engine: Engine,
) -> None:
    """On PostgreSQL the database chains the records (migration 0002): its hashes must be the
    ones :func:`scoring.decision_log.chain_records` defines, for any text a payload holds."""
    log = SqlDecisionLog(engine)
    payloads: list[dict[str, Any]] = [
        {"application_id": "A-1", "entity_id": "E1", "outcome": "approve", "pd": 0.0123},
        {"application_id": "A-2", "entity_id": "E2", "reasons": ["深绿 dark green", '引号 "q"']},
        {"application_id": "A-3", "text": "back\\slash\ttab\u2028 emoji \U0001f600", "n": None},
    ]
    first = log.append(payloads[:1], created_at=NOW)
    more = log.append(payloads[1:], created_at=NOW + timedelta(microseconds=7))
    expected = chain_records(
        payloads[:1], after_sequence=0, after_hash=GENESIS_HASH, created_at=first[0].created_at
    ) + chain_records(
        payloads[1:],
        after_sequence=1,
        after_hash=first[0].record_hash,
        created_at=more[0].created_at,
    )
    assert first + more == expected
    assert list(log.records()) == expected
    assert verify_log(engine).intact


def test_the_migrated_append_function_uses_the_services_lock_key() -> None:
    migration = importlib.import_module(
        "finance_engine.migrations.versions.0002_decision_log_append"
    )
    assert migration.ADVISORY_LOCK_KEY == ADVISORY_LOCK_KEY


# ------------------------------------------------------------------- the request hot path


def test_the_one_query_lookup_equals_the_batch_views(
    engine: Engine, context: DecisionContext
) -> None:
    store_firm(engine, "F1")
    add_alert(engine, "F1", "critical", datetime(2026, 3, 1, tzinfo=UTC))
    add_alert(engine, "F1", "info", datetime(2026, 5, 1, tzinfo=UTC))
    add_alert(engine, "F1", "warning", datetime(2025, 5, 1, tzinfo=UTC))  # out of the window
    days, zone = context.rules.alert_window_days, context.timezone
    dbapi = engine.raw_connection()
    try:
        found = lookup_borrower(
            engine, dbapi, "F1", lender=None, on=ON, window_days=days, timezone=zone
        )
        assert found.access is EntityAccess.VISIBLE
        view = borrower_account(engine, dbapi, found, "F1", ON)
        assert view == load_account_views(engine, ["F1"], on=ON, context=context)["F1"]
        assert (view.open_alerts.critical, view.open_alerts.warning, view.open_alerts.info) == (
            1,
            0,
            1,
        )
        day = date(2025, 12, 30)
        before = lookup_borrower(
            engine, dbapi, "F1", lender=None, on=day, window_days=days, timezone=zone
        )
        assert before.account_key is None  # no period ending on or before that day
        nobody = lookup_borrower(
            engine, dbapi, "NOBODY", lender="L1", on=ON, window_days=days, timezone=zone
        )
        assert (nobody.access, nobody.account_key) == (EntityAccess.NO_ENTITY, None)
    finally:
        dbapi.close()


def test_the_cached_account_yields_to_a_newer_row_and_alerts_are_read_every_time(
    engine: Engine, context: DecisionContext
) -> None:
    store_firm(engine, "F1")
    first = score(engine, context, app(), on=ON).decision.account
    assert first is not None
    assert first.account_id is not None
    assert any(key[0] == first.account_id for key in account_cache(engine))
    add_alert(engine, "F1", "critical", datetime(2026, 3, 1, tzinfo=UTC))
    second = score(engine, context, app(), on=ON).decision.account
    assert second is not None
    assert (second.account_id, first.open_alerts.critical, second.open_alerts.critical) == (
        first.account_id,
        0,
        1,
    )
    with Session(engine) as session:  # a recomputation: a new row, intensity up 16%
        session.add(account_row("F1", 0.80, benchmark="recomputed"))
        session.commit()
    third = score(engine, context, app(), on=ON).decision.account
    assert third is not None
    assert third.trend_pct is not None
    assert first.trend_pct is not None
    assert third.account_id != first.account_id
    assert (round(first.trend_pct), round(third.trend_pct)) == (-9, 16)
    assert third.open_alerts.critical == 1


def test_a_lender_scores_only_entities_consenting_to_it_checked_first(
    engine: Engine, context: DecisionContext
) -> None:
    for firm in ("F1", "F2", "F3", "F4"):
        store_firm(engine, firm)
    grant_consent(engine, entity_id="F1", lender="L1")
    revoked, _ = grant_consent(engine, entity_id="F2", lender="L1")
    revoke_consent(engine, revoked.id)
    grant_consent(engine, entity_id="F3", lender="L1", expires_at=datetime.now(UTC) + timedelta(1))
    lapsing, _ = grant_consent(
        engine, entity_id="F4", lender="L1", expires_at=datetime.now(UTC) + timedelta(1)
    )
    with Session(engine) as session:  # F4's consent lapsed an hour ago
        consent = session.get(Consent, lapsing.id)
        assert consent is not None
        consent.expires_at = datetime.now(UTC) - timedelta(hours=1)
        session.add(consent)
        session.commit()
    assert score(engine, context, app("F1"), on=ON, lender="L1").record.sequence == 1
    assert score(engine, context, app("F3"), on=ON, lender="L1").record.sequence == 2
    refused = [("F2", "L1"), ("F4", "L1"), ("F1", "L2"), ("NOBODY", "L1")]
    for entity, lender in refused:
        with pytest.raises(BorrowerNotVisibleError) as caught:  # before the product check
            score(engine, context, app(entity, product="NO-SUCH"), on=ON, lender=lender)
        expected = EntityAccess.NO_ENTITY if entity == "NOBODY" else EntityAccess.NO_CONSENT
        assert (caught.value.entity_id, caught.value.access) == (entity, expected)
    with pytest.raises(BorrowerNotVisibleError):
        offers(engine, context, app("F2", product=None), on=ON, lender="L1")
    assert len(list_decisions(engine)) == 2


def test_the_response_json_is_the_logged_document(engine: Engine, context: DecisionContext) -> None:
    store_firm(engine, "F1")
    logged = score(engine, context, app(), on=ON)
    document = json.loads(logged.to_json())
    assert document == json.loads(json.dumps(logged.to_dict()))
    shown = show_decision(engine, logged.record.sequence)
    assert {k: v for k, v in shown.items() if k != "log"} == {
        k: v for k, v in document.items() if k != "log"
    }
    assert document["log"] == {
        k: shown["log"][k] for k in ("sequence", "record_hash", "created_at")
    }


def _append_from_process(url: str, writer: int, count: int) -> None:
    engine = make_engine(url)
    log = SqlDecisionLog(engine)
    for i in range(count):
        payload = {
            "application_id": f"P{writer}-{i}",
            "entity_id": f"E{writer}",
            "outcome": "refer",
        }
        log.append([payload, {**payload, "product_code": "X"}], created_at=NOW)
    engine.dispose()


def test_sqlite_appenders_in_several_processes_queue_on_the_lock_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    engine = make_engine(url)
    upgrade(engine)
    parent = SqlDecisionLog(engine)
    parent.append([{"application_id": "first", "outcome": "refer"}], created_at=NOW)
    forked = multiprocessing.get_context("fork")  # children inherit the parent's lock file
    children = [forked.Process(target=_append_from_process, args=(url, w, 15)) for w in range(3)]
    for child in children:
        child.start()
    for i in range(15):  # the parent appends meanwhile, through its own lock file descriptor
        parent.append([{"application_id": f"parent-{i}", "outcome": "refer"}], created_at=NOW)
    for child in children:
        child.join(60)
        assert child.exitcode == 0
    report = verify_log(engine)
    assert report.intact
    assert report.records_checked == 1 + 15 + 3 * 15 * 2
    path = lock_path(engine)
    assert path is not None
    assert Path(path).is_file()
    pairs = [r for r in SqlDecisionLog(engine).records() if r.application_id.startswith("P")]
    for first, second in zip(pairs[::2], pairs[1::2], strict=True):
        assert second.application_id == first.application_id


def test_the_request_connection_returns_to_the_pool_as_it_was_lent(engine: Engine) -> None:
    def failing_request() -> None:
        with request_connection(engine) as dbapi:
            cursor = dbapi.cursor()
            cursor.execute("SELECT 1")
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError):
        failing_request()
    SqlDecisionLog(engine).append([{"application_id": "A1", "outcome": "refer"}], created_at=NOW)
    again = engine.raw_connection()
    try:
        assert not getattr(again.driver_connection, "autocommit", False)
        cursor = again.cursor()
        cursor.execute("SELECT count(*) FROM decision_log")
        assert cursor.fetchone() == (1,)
    finally:
        again.close()
