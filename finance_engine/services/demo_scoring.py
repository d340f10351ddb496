"""The demo's scoring stage: train the risk model and score every firm against its products.

The synthetic firms get financial statements from the documented distribution of
:mod:`finance_engine.synth.loans`; their carbon features come from their stored accounts. A loan
history is generated from the documented ground-truth PD process over those firms, the LightGBM
model is trained on it and stored as the current model, and every firm with an account asks for
its best offers (all decisions are appended to the hash-chained decision log).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, select

from accounting.vocab import Colour
from finance_engine.config import Settings
from finance_engine.models import Entity
from finance_engine.services.decisions import (
    LoggedDecision,
    context_for,
    load_account_views,
    offers_batch,
)
from finance_engine.services.models import train_from_file
from finance_engine.synth.loans import generate_loan_history, sample_financials, write_loan_history
from products.lpr import lpr_on
from products.model import LprTenor
from scoring.applications import Application, Financials
from scoring.carbon_features import carbon_feature_values
from scoring.risk_model import RiskModel

_COLOUR_ORDER = {c.value: c.rank for c in Colour}

BASE_LIMIT_SHARE_OF_REVENUE = Decimal("0.10")
"""The demo bank's normal credit limit: 10% of the firm's yearly revenue."""
BASE_SPREAD_PCT = Decimal("1.00")
"""The demo bank's normal rate: the 1-year LPR plus one percentage point."""


@dataclass(frozen=True)
class ScoringSummary:
    """What the scoring stage did: model, applications and offers by colour."""

    model_version: str
    model_auc: float | None
    history_file: Path
    decided_on: date
    borrowers: int
    decisions: int
    approved_borrowers: int
    by_colour: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "model_version": self.model_version,
            "model_auc": self.model_auc,
            "history_file": str(self.history_file),
            "decided_on": self.decided_on.isoformat(),
            "borrowers": self.borrowers,
            "decisions": self.decisions,
            "approved_borrowers": self.approved_borrowers,
            "by_colour": self.by_colour,
        }


def score_city(
    engine: Engine, settings: Settings, *, seed: int, year: int, history_rows: int = 20_000
) -> ScoringSummary:
    """Train the model on a synthetic history of the city's firms and score every firm."""
    on = date(year + 1, 6, 30)  # decisions on last year's accounts, mid-following year
    context = context_for(settings)
    with engine.connect() as conn:
        ids = sorted(conn.execute(select(Entity.id)).scalars())  # type: ignore[call-overload]
    views = load_account_views(engine, ids, on=on, context=context)
    firms = sorted(views)
    carbon = [carbon_feature_values(views[e]) for e in firms]
    columns = {name: np.array([c[name] for c in carbon]) for name in carbon[0]} if carbon else {}
    rng = np.random.default_rng(seed + 1_000)
    financials = sample_financials(rng, len(firms), columns.get("k_ratio", np.ones(0)))
    history = generate_loan_history(
        seed,
        history_rows,
        start_year=year,
        years=2,
        firm_features={"entity_id": np.array(firms), **financials, **columns},
    )
    path = settings.instance_path / "demo" / "loan-history.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_loan_history(history, path)
    model = train_from_file(path)
    context.models.save(model)
    applications = [
        _application(entity, year, on, {k: float(v[i]) for k, v in financials.items()})
        for i, entity in enumerate(firms)
    ]
    offers = offers_batch(engine, context, applications, on=on)
    return _summary(model.version, model, path, on, applications, offers, views)


def _application(entity: str, year: int, on: date, fin: dict[str, float]) -> Application:
    revenue = Decimal(str(fin["revenue_10k_yuan"]))
    limit = (revenue * 10_000 * BASE_LIMIT_SHARE_OF_REVENUE).quantize(
        Decimal("1"), rounding=ROUND_DOWN
    )
    return Application(
        application_id=f"DEMO-{year}-{entity}",
        entity_id=entity,
        base_limit_yuan=max(limit, Decimal("100000")),
        base_rate_pct=lpr_on(on, LprTenor.ONE_YEAR) + BASE_SPREAD_PCT,
        financials=Financials(
            revenue_10k_yuan=revenue,
            leverage=fin["leverage"],
            current_ratio=fin["current_ratio"],
            return_on_assets=fin["return_on_assets"],
            years_operating=fin["years_operating"],
            overdue_count_24m=int(fin["overdue_count_24m"]),
        ),
    )


def _summary(
    version: str,
    model: RiskModel,
    path: Path,
    on: date,
    applications: list[Application],
    offers: list[list[LoggedDecision]],
    views: dict[str, Any],
) -> ScoringSummary:
    groups: dict[str, list[tuple[Decimal, int, bool]]] = defaultdict(list)
    approved = 0
    for app, ranked in zip(applications, offers, strict=True):
        best = next((d.decision for d in ranked if d.decision.terms is not None), None)
        colour = views[app.entity_id].colour
        key = colour.value if colour is not None else "none"
        ok = any(d.decision.outcome.value == "approve" for d in ranked)
        approved += ok
        if best is not None and best.terms is not None:
            groups[key].append((best.terms.limit_multiplier, best.terms.rate_discount_bp, ok))
        else:
            groups.setdefault(key, [])
    by_colour = {
        colour: {
            "borrowers_with_offer": len(rows),
            "approved": sum(ok for *_, ok in rows),
            "avg_limit_multiplier": _mean([m for m, _, _ in rows]),
            "avg_discount_bp": _mean([Decimal(b) for _, b, _ in rows]),
        }
        for colour, rows in sorted(groups.items(), key=lambda kv: _COLOUR_ORDER.get(kv[0], 9))
    }
    auc = model.metadata_.get("validation", {}).get("auc")
    return ScoringSummary(
        model_version=version,
        model_auc=auc,
        history_file=path,
        decided_on=on,
        borrowers=len(applications),
        decisions=sum(len(r) for r in offers),
        approved_borrowers=approved,
        by_colour=by_colour,
    )


def _mean(values: list[Decimal]) -> str | None:
    if not values:
        return None
    return str((sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01")))
