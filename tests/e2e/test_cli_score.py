"""``finance-engine score | offers | decisions verify|list|show`` end to end through the CLI's
error mapping: a temporary instance folder, a model trained through ``model train``, a stored
account of the example fluorochemical firm."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from cli_helpers import Invoke, cli_invoker
from sqlmodel import Session

from accounting.account import account_to_dict
from accounting.calc import parse_calc_document, run_calc
from accounting.factors import load_factor_set_dir
from accounting.grading import load_grading_config
from finance_engine.cli import admin, model, score
from finance_engine.db import make_engine
from finance_engine.models import CarbonAccount, Entity

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "industry.json"
FEATURES = [
    "--revenue", "8000", "--leverage", "0.45", "--current-ratio", "1.6", "--roa", "0.07",
    "--years-operating", "15", "--overdue-24m", "0",
]  # fmt: skip
BASE = ["--base-limit", "2000000", "--base-rate", "5.30", "--on", "2026-06-01"]


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "instance"
    monkeypatch.setenv("FINANCE_ENGINE_INSTANCE_PATH", str(path))
    monkeypatch.delenv("FINANCE_ENGINE_DATABASE_URL", raising=False)
    return path


@pytest.fixture
def invoke(capsys: pytest.CaptureFixture[str], instance: Path) -> Invoke:
    return cli_invoker(capsys, admin.register, model.register, score.register)


def _store_account(instance: Path) -> None:
    doc = parse_calc_document(EXAMPLE.read_text(encoding="utf-8"))
    doc["entity"]["id"] = "F1"
    doc["period"] = {"start": "2025-01-01", "end": "2025-12-31"}
    data = account_to_dict(run_calc(doc, load_factor_set_dir(), load_grading_config()))
    engine = make_engine(f"sqlite:///{instance / 'finance_engine.db'}")
    with Session(engine) as session:
        session.add(Entity(id="F1", name="F1", sector="industry", industry_code="C2614"))
        session.flush()
        session.add(
            CarbonAccount(
                entity_id="F1",
                sector="industry",
                period_start=date(2025, 1, 1),
                period_end=date(2025, 12, 31),
                factor_set_version="CN-2023",
                benchmark_version="example",
                grading_version="ZJ-QZ-v1",
                emissions_tco2e=data["emissions_tco2e"]["total"],
                scope1_tco2e=0.0,
                scope2_tco2e=0.0,
                result=data,
            )
        )
        session.commit()
    engine.dispose()


@pytest.fixture
def ready(invoke: Invoke, instance: Path, tmp_path: Path) -> Invoke:
    """An initialised instance with the firm's account; no model yet."""
    assert invoke("init")[0] == 0
    _store_account(instance)
    return invoke


def _train(invoke: Invoke, tmp_path: Path) -> None:
    history = tmp_path / "history.parquet"
    assert invoke("model", "synth-history", "--out", str(history), "--n", "6000")[0] == 0
    code, _, err = invoke("model", "train", "--data", str(history))
    assert code == 0, err


def test_score_without_a_model_says_to_train_one(ready: Invoke) -> None:
    code, out, err = ready("score", "--entity", "F1", "--product", "CIB-QZ-CLL", *BASE, *FEATURES)
    assert code == 2
    assert out == ""
    assert "model: no trained risk model" in err
    assert "finance-engine model train" in err


def test_score_prints_and_logs_the_decision(ready: Invoke, tmp_path: Path) -> None:
    _train(ready, tmp_path)
    args = ["score", "--entity", "F1", "--product", "CIB-QZ-CLL", *BASE, *FEATURES]
    code, out, err = ready(*args, "--json")
    assert code == 0, err
    decision = json.loads(out)
    assert decision["outcome"] == "approve"
    assert decision["terms"]["final_rate_pct"] == "3.80"  # 5.30 - (140 + 10) bp
    assert decision["terms"]["final_limit_yuan"] == "3000000.00"
    assert decision["log"]["sequence"] == 1
    code, out, _ = ready(*args, "--application-id", "BANK-42")
    assert code == 0
    assert out.startswith("APPROVE  CIB-QZ-CLL v1 (cib-quzhou)  entity F1  grade dark_green")
    assert "rate 3.80% (base 5.30%, discount 150 bp, floor 3.40%)" in out
    assert "logged as #2" in out
    code, out, _ = ready("decisions", "list", "--json")
    rows = json.loads(out)
    assert [r["sequence"] for r in rows] == [2, 1]
    assert rows[0]["application_id"] == "BANK-42"
    code, out, _ = ready("decisions", "show", "2", "--json")
    assert json.loads(out)["log"]["prev_hash"] == decision["log"]["record_hash"]


def test_features_can_come_from_a_file(ready: Invoke, tmp_path: Path) -> None:
    _train(ready, tmp_path)
    path = tmp_path / "features.json"
    path.write_text(
        json.dumps(
            {
                "revenue_10k_yuan": 8000,
                "leverage": 0.45,
                "current_ratio": 1.6,
                "return_on_assets": 0.07,
                "years_operating": 15,
                "overdue_count_24m": 0,
            }
        ),
        encoding="utf-8",
    )
    base = ["score", "--entity", "F1", "--product", "CIB-QZ-CLL", *BASE, "--json"]
    code, out, err = ready(*base, "--features", str(path))
    assert code == 0, err
    from_flags = json.loads(ready(*base, *FEATURES)[1])
    assert json.loads(out)["pd"] == from_flags["pd"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--product", "NO-SUCH", *BASE, *FEATURES], "product_code: unknown product code"),
        (["--product", "CIB-QZ-CLL", *BASE, *FEATURES[:4]], "current_ratio, return_on_assets"),
        (["--product", "CIB-QZ-CLL", *BASE, *FEATURES, "--leverage", "9"], "leverage: 9"),
        (["--product", "CIB-QZ-CLL", "--base-limit", "lots", "--base-rate", "4", *FEATURES],
         "--base-limit: 'lots' is not a decimal number"),
        (["--product", "CIB-QZ-CLL", "--base-limit", "1", "--base-rate", "40", *FEATURES],
         "base_rate_pct: 40 must be above 0 and at most 36"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_naming_the_field(
    ready: Invoke, tmp_path: Path, args: list[str], message: str
) -> None:
    _train(ready, tmp_path)
    code, out, err = ready("score", "--entity", "F1", *args)
    assert code == 2
    assert out == ""
    assert message in err
    assert "Traceback" not in err


def test_unknown_entity_says_to_compute_accounts(ready: Invoke, tmp_path: Path) -> None:
    _train(ready, tmp_path)
    code, _, err = ready("score", "--entity", "NOBODY", "--product", "CIB-QZ-CLL", *BASE, *FEATURES)
    assert code == 2
    assert "run 'finance-engine account compute' first" in err


def test_offers_rank_every_industry_product(ready: Invoke, tmp_path: Path) -> None:
    _train(ready, tmp_path)
    code, out, err = ready("offers", "--entity", "F1", *BASE, *FEATURES, "--json")
    assert code == 0, err
    ranked = json.loads(out)
    assert len(ranked) == 16
    assert ranked[0]["outcome"] == "approve"
    assert [r["log"]["sequence"] for r in ranked] == list(range(1, 17))
    code, out, _ = ready("offers", "--entity", "F1", *BASE, *FEATURES, "--lender", "cib-quzhou")
    assert code == 0
    assert out.splitlines()[0].startswith("  1. approve  CIB-QZ-CLL")


def test_verify_exits_0_when_intact_and_2_naming_a_tampered_record(
    ready: Invoke, tmp_path: Path, instance: Path
) -> None:
    _train(ready, tmp_path)
    assert ready("offers", "--entity", "F1", *BASE, *FEATURES)[0] == 0
    code, out, _ = ready("decisions", "verify")
    assert code == 0
    assert out.startswith("decision log intact: 16 records, head #16 ")
    engine = make_engine(f"sqlite:///{instance / 'finance_engine.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql(  # the PD gains a leading digit
            "UPDATE decision_log SET payload = replace(payload, '\"pd\":', '\"pd\":1') "
            "WHERE sequence = 7"
        )
    engine.dispose()
    code, out, err = ready("decisions", "verify", "--json")
    assert code == 2
    report = json.loads(out)
    assert report["intact"] is False
    assert report["first_broken"]["sequence"] == 7
    assert report["first_broken"]["problem"] == "hash_mismatch"
    code, out, err = ready("decisions", "verify")
    assert code == 2
    assert "decision log BROKEN at record 7 (hash_mismatch)" in err
    code, _, err = ready("decisions", "verify", "--head", "16:abc")
    assert code == 2
    assert "--head" in err
