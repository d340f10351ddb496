"""Best offers: candidate products, ranking, one model evaluation per borrower, batches."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from decision_builders import ON, account, application, credit, train_small_model

from accounting.vocab import Colour, Sector
from products import Catalog, load_catalog
from scoring.decide import Outcome, decide, decide_with_credit
from scoring.offers import best_offers, best_offers_batch, candidate_products, rank_offers
from scoring.risk_model import RiskModel

D = Decimal


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def model() -> RiskModel:
    return train_small_model()


def test_candidates_are_the_sectors_products_in_force_and_the_lenders_only(
    catalog: Catalog,
) -> None:
    industry = candidate_products(application(), account(), catalog, ON)
    assert {p.code for p in industry} == {p.code for p in catalog.for_sector(Sector.INDUSTRY, ON)}
    assert all(p.effective_on(ON) for p in industry)
    assert len(industry) == 16  # docs/products.md: industry 16 on 2026-06-01
    cib = candidate_products(application(lender_code="cib-quzhou"), account(), catalog, ON)
    assert {p.code for p in cib} == {"CIB-QZ-CLL", "CIB-QZ-EMC", "CIB-QZ-SLL"}


def test_ranking_puts_approvals_first_then_lowest_rate_then_highest_limit(
    catalog: Catalog,
) -> None:
    app = application(base_limit_yuan=D("4000000.00"), base_rate_pct=D("4.50"))
    view = account(quality_tier=3)
    decisions = [
        decide_with_credit(app, view, product, credit(0.035), on=ON)
        for product in candidate_products(app, view, catalog, ON)
    ]
    ranked = rank_offers(decisions)
    outcomes = [d.outcome for d in ranked]
    assert outcomes == sorted(outcomes, key=[Outcome.APPROVE, Outcome.REFER, Outcome.DECLINE].index)
    offered = [d for d in ranked if d.terms is not None]
    assert offered
    for better, worse in itertools.pairwise(offered):
        assert better.terms is not None
        assert worse.terms is not None
        if better.outcome is worse.outcome:
            key_better = (better.terms.final_rate_pct, -better.terms.final_limit_yuan)
            key_worse = (worse.terms.final_rate_pct, -worse.terms.final_limit_yuan)
            assert key_better <= key_worse
    assert all(d.terms is None for d in ranked if d.outcome is Outcome.DECLINE)


GOLDEN_RANKING = [
    # code, final rate %, final limit yuan: hand-computed from the product files for a
    # dark-green grade-1 firm (6% cut, tier 1) asking 4,000,000 yuan at 4.50%, PD 1%.
    ("CIB-QZ-CLL", "3.40", "6000000.00"),  # 140 + 10 bp capped at 150: 3.00 -> floor 3.40
    ("BOC-QZ-CEL", "3.80", "6000000.00"),  # 60 + 10 bp, x1.50
    ("BOCOM-QZ-CCR", "3.80", "6000000.00"),  # 60 + 10 bp, x1.50
    ("ICBC-QZ-IND-CRL", "3.80", "6000000.00"),  # v2: 60 + 10 bp, x1.50
    ("ICBC-QZ-CLIMATE", "3.80", "5600000.00"),  # 70 bp, x1.40
    ("SPDB-QZ-CAL", "3.85", "6000000.00"),  # 55 + 10 bp, x1.50
    ("ABC-QZ-ESR", "3.90", "5600000.00"),  # 50 + 10 bp, x1.40
    ("BOCOM-QZ-TRN", "3.90", "5600000.00"),  # 45 + 15 bp, x1.40
    ("CCB-QZ-CEL", "4.00", "5600000.00"),  # 50 bp, x1.40
    ("QJRCB-CRL", "4.00", "5200000.00"),  # 50 bp, x1.30
    ("CIB-QZ-EMC", "4.10", "5200000.00"),  # 40 bp, x1.30
    ("BOC-QZ-STOR", "4.15", "5200000.00"),  # 35 bp, x1.30
    ("SPDB-QZ-STOR", "4.15", "5200000.00"),  # 35 bp, x1.30
    ("ICBC-QZ-PV", "4.20", "5200000.00"),  # 30 bp, x1.30
    ("TLCB-QZ-SME", "4.20", "5000000.00"),  # 3.90 -> floor 4.20; 5.2m capped at 5m
]


def test_ranking_golden_for_a_dark_green_firm(catalog: Catalog) -> None:
    app = application(base_limit_yuan=D("4000000.00"), base_rate_pct=D("4.50"))
    ranked = rank_offers(
        [
            decide_with_credit(app, account(), p, credit(0.01), on=ON)
            for p in candidate_products(app, account(), catalog, ON)
        ]
    )
    offered = [
        (d.product_code, str(d.terms.final_rate_pct), str(d.terms.final_limit_yuan))
        for d in ranked
        if d.terms is not None
    ]
    assert offered == GOLDEN_RANKING
    assert all(d.outcome is Outcome.APPROVE for d in ranked[: len(GOLDEN_RANKING)])
    declined = ranked[len(GOLDEN_RANKING) :]
    assert [(d.product_code, d.outcome, d.codes()[0]) for d in declined] == [
        ("CIB-QZ-SLL", Outcome.DECLINE, "E11")  # 5.6m below its 10m minimum
    ]


def test_best_offers_equal_one_decision_per_product(model: RiskModel, catalog: Catalog) -> None:
    app, view = application(), account(colour=Colour.LIGHT_GREEN, carbon_efficiency=2)
    offers = best_offers(app, view, catalog, model, on=ON)
    singles = {
        p.code: decide(app, view, p, model, on=ON)
        for p in candidate_products(app, view, catalog, ON)
    }
    assert {d.product_code for d in offers} == set(singles)
    for d in offers:
        assert d == singles[d.product_code]


def test_best_offers_batch_equals_best_offers_one_by_one(
    model: RiskModel, catalog: Catalog
) -> None:
    apps = [
        application(application_id="A1"),
        application(application_id="A2", entity_id="E2"),
        application(application_id="A3", entity_id="E3"),
    ]
    views = [
        account(),
        account(entity_id="E2", colour=Colour.YELLOW, carbon_efficiency=3, trend_pct=2.0),
        account(entity_id="E3", sector=Sector.TRANSPORT, carbon_efficiency=None),
    ]
    batch = best_offers_batch(apps, views, catalog, model, on=ON)
    assert batch == [
        best_offers(a, v, catalog, model, on=ON) for a, v in zip(apps, views, strict=True)
    ]
    assert {d.product_code for d in batch[2]} == {
        p.code for p in catalog.for_sector(Sector.TRANSPORT, ON)
    }
