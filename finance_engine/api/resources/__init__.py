"""The API's blueprints, one per resource, mounted under ``/api/v1``."""

from __future__ import annotations

from finance_engine.api.blueprint import Blueprint
from finance_engine.api.resources import (
    access,
    accounts,
    activity,
    alerts,
    backtests,
    decisions,
    entities,
    products,
    readings,
    reports,
)

BLUEPRINTS: list[Blueprint] = [
    entities.blp,
    readings.blp,
    activity.blp,
    accounts.blp,
    alerts.blp,
    products.blp,
    decisions.blp,
    access.blp,
    reports.blp,
    backtests.blp,
]
