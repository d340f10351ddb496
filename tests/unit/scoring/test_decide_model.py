"""Decisions through a trained risk model: the fast single-row path against LightGBM's own
predictions, credit reasons from per-feature contributions, and batch equal to one-by-one."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest
from decision_builders import ON, account, application, train_small_model

from accounting.vocab import Colour
from finance_engine.synth.loans import generate_loan_history
from products import Catalog, load_catalog
from scoring._fast_contrib import FastRowContributions
from scoring.applications import ApplicationError, Financials
from scoring.carbon_features import AccountView, OpenAlerts
from scoring.decide import assess_credit, decide, decide_with_credit, feature_values, model_row
from scoring.decision_rules import default_decision_rules
from scoring.features import FeatureError
from scoring.offers import assess_credit_batch, decide_batch
from scoring.reasons import ReasonKind
from scoring.risk_model import RiskModel


@pytest.fixture(scope="module")
def model() -> RiskModel:
    return train_small_model()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def borrowers(n: int, seed: int = 9) -> list[tuple[Financials, AccountView]]:
    """``n`` borrowers with features drawn from the synthetic history (NaN carbon rows get a
    default account: the decision needs one)."""
    h = generate_loan_history(seed, n)
    out = []
    for i in range(n):
        fin = Financials(
            revenue_10k_yuan=Decimal(str(h["revenue_10k_yuan"][i])),
            leverage=float(h["leverage"][i]),
            current_ratio=float(h["current_ratio"][i]),
            return_on_assets=float(h["return_on_assets"][i]),
            years_operating=float(h["years_operating"][i]),
            overdue_count_24m=int(h["overdue_count_24m"][i]),
        )
        grade = h["carbon_efficiency_grade"][i]
        if np.isnan(grade):
            out.append((fin, account()))
            continue
        view = account(
            carbon_efficiency=int(grade),
            colour=list(Colour)[int(h["colour_rank"][i]) - 1],
            k=float(h["k_ratio"][i]),
            score=float(h["carbon_score"][i]),
            trend_pct=float(h["intensity_trend_pct"][i]),
            completeness=float(h["data_completeness"][i]),
            provisional=bool(h["data_completeness"][i] < 0.9),
            open_alerts=OpenAlerts(warning=int(h["alert_count_12m"][i])),
        )
        out.append((fin, view))
    return out


def test_fast_contributions_equal_lightgbm_pred_contrib(model: RiskModel) -> None:
    h = generate_loan_history(3, 300)
    rows = np.column_stack([h[name].astype(np.float64) for name in model.feature_names_])
    fast = FastRowContributions(model.booster_, rows.shape[1])
    assert fast.uses_c_api
    one_by_one = np.array([fast.contributions(np.ascontiguousarray(r)) for r in rows])
    assert np.array_equal(one_by_one, model.contributions(rows))


def test_decide_uses_the_models_pd_band_and_contributions(
    model: RiskModel, catalog: Catalog
) -> None:
    app, view = application(), account()
    decision = decide(app, view, catalog.get("CIB-QZ-CLL", on=ON), model, on=ON)
    row = model_row(model, feature_values(app, view))
    assert decision.pd == float(model.predict_pd(row.reshape(1, -1))[0])
    assert decision.risk_band == str(model.risk_band([decision.pd])[0])
    assert decision.versions.model == model.version


def test_credit_reasons_are_the_features_pushing_pd_up_most(model: RiskModel) -> None:
    rules = default_decision_rules()
    risky = application(
        financials=replace(
            application().financials, leverage=1.1, overdue_count_24m=3, current_ratio=0.5
        )
    )
    view = account(colour=Colour.RED, carbon_efficiency=5, k=2.6, score=30.0, trend_pct=12.0)
    credit = assess_credit(model, risky, view, rules)
    row = model_row(model, feature_values(risky, view))
    floor = rules.credit_reason_min_logodds
    own = [r for r in model.reason_codes(row, top=3) if r.contribution >= floor]
    assert [r.feature for r in credit.reasons] == [r.feature for r in own]
    assert [r.text for r in credit.reasons] == [r.text for r in own]
    assert credit.reasons[0].kind is ReasonKind.CREDIT
    assert {"leverage", "overdue_count_24m"} & {r.feature for r in credit.reasons}
    sound = assess_credit(model, application(), account(), rules)
    assert credit.pd > sound.pd


def test_batch_decisions_equal_one_by_one(model: RiskModel, catalog: Catalog) -> None:
    people = borrowers(400)
    products = list(catalog.for_sector("industry", ON))
    apps = [
        application(application_id=f"A{i}", financials=fin) for i, (fin, _) in enumerate(people)
    ]
    views = [view for _, view in people]
    chosen = [products[i % len(products)] for i in range(len(apps))]
    batch = decide_batch(apps, views, chosen, model, on=ON)
    single = [decide(a, v, p, model, on=ON) for a, v, p in zip(apps, views, chosen, strict=True)]
    assert batch == single
    outcomes = {d.outcome.value for d in batch}
    assert outcomes == {"approve", "refer", "decline"}


def test_batch_credit_is_one_model_evaluation_for_all_rows(
    model: RiskModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    original = RiskModel.predict_pd

    def counting(self: RiskModel, x: np.ndarray) -> np.ndarray:
        calls.append(len(x))
        return original(self, x)

    monkeypatch.setattr(RiskModel, "predict_pd", counting)
    monkeypatch.setattr(
        RiskModel, "predict_pd_row", lambda *_: pytest.fail("per-row model call in a batch")
    )
    people = borrowers(50)
    apps = [application(financials=fin) for fin, _ in people]
    assess_credit_batch(model, apps, [v for _, v in people])
    assert calls == [50]


def test_feature_out_of_model_range_names_the_field(model: RiskModel) -> None:
    extreme = account(k=250.0)
    with pytest.raises(ApplicationError, match="k_ratio"):
        assess_credit(model, application(), extreme)
    with pytest.raises(FeatureError, match=r"k_ratio.*row 1"):
        assess_credit_batch(model, [application()] * 2, [account(), extreme])


def test_financials_are_validated_on_creation() -> None:
    with pytest.raises(ApplicationError, match="leverage"):
        replace(application().financials, leverage=-0.1)
    with pytest.raises(ApplicationError, match="overdue_count_24m"):
        Financials.from_mapping(
            {
                "revenue_10k_yuan": 1,
                "leverage": 0.5,
                "current_ratio": 1,
                "return_on_assets": 0.1,
                "years_operating": 3,
                "overdue_count_24m": 1.5,
            }
        )
    with pytest.raises(ApplicationError, match="current_ratio"):
        Financials.from_mapping({"revenue_10k_yuan": 1, "leverage": 0.5})


def test_decide_with_credit_is_decide_given_the_same_assessment(
    model: RiskModel, catalog: Catalog
) -> None:
    product = catalog.get("BOC-QZ-CEL", on=ON)
    app, view = application(), account()
    credit = assess_credit(model, app, view)
    assert decide(app, view, product, model, on=ON) == decide_with_credit(
        app, view, product, credit, on=ON
    )
