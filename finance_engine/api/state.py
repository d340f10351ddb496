"""What the API keeps per worker process: engine, key cache, rate counters, catalog, model.

One :class:`ApiState` per app (``app.extensions["finance_engine.api"]``). Things that do not
change while a worker runs (the product catalog, the risk model of a version) load once, on
first use or in :meth:`ApiState.warm_up` (gunicorn calls it after forking each worker).
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import Engine

from finance_engine.api.ratelimit import FixedWindowLimiter
from finance_engine.config import Settings
from finance_engine.services.decisions import context_for, default_catalog
from finance_engine.services.keys import KeyVerifier
from products.catalog import Catalog

EXTENSION = "finance_engine.api"


class ApiState:
    """Per-process API state."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.verifier = KeyVerifier(engine, ttl_s=settings.key_cache_ttl_s)
        self.limiter = FixedWindowLimiter(settings.rate_limit_per_minute)
        self.model_store = context_for(settings).models

    def catalog(self) -> Catalog:
        """The packaged product catalog, loaded once per process (shared with decisions)."""
        return default_catalog()

    def lender_codes(self) -> tuple[str, ...]:
        """Lender codes of the catalog (what a bank key's ``lender`` must be)."""
        return tuple(lender.code for lender in self.catalog().lenders())

    def model_version(self) -> str | None:
        """The current risk-model version, or None when no model was trained."""
        return self.model_store.current_version()

    def model(self) -> Any:
        """The current risk model (loaded once per process per version)."""
        return self.model_store.load()

    def warm_up(self) -> None:
        """Load the catalog and the current model now (after a worker forks)."""
        self.catalog()
        if self.model_version() is not None:
            self.model()


def state() -> ApiState:
    """The :class:`ApiState` of the current app."""
    found: ApiState = current_app.extensions[EXTENSION]
    return found
