"""The low-carbon loan product catalog and the emission-factor sets (reference data)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask.views import MethodView
from sqlmodel import Session, select

from accounting.vocab import Sector
from finance_engine.api.auth import ALL_ROLES, guard
from finance_engine.api.blueprint import Blueprint
from finance_engine.api.pagination import page, page_of
from finance_engine.api.problems import ProblemError
from finance_engine.api.schemas import (
    FactorSetListSchema,
    ProductOnSchema,
    ProductQuerySchema,
    ProductSchema,
)
from finance_engine.api.state import state
from finance_engine.models import FactorSetRecord
from finance_engine.services.keys import Role
from finance_engine.services.reference import factor_registry
from products.catalog import UnknownProductError
from products.documents import product_document
from products.model import Product

blp = Blueprint("products", __name__, description="Loan products and reference data")


def product_dict(product: Product) -> dict[str, Any]:
    """A product version as the API shows it: its document plus lender and provenance."""
    return {
        **product_document(product),
        "lender": product.lender.code,
        "illustrative": product.illustrative,
    }


def _today() -> date:
    return datetime.now(ZoneInfo(state().settings.timezone)).date()


@blp.route("/products")
class Products(MethodView):
    @guard(*ALL_ROLES)
    @blp.arguments(ProductQuerySchema, location="query")
    @blp.response(200, page_of(ProductSchema))
    def get(self, query: dict[str, Any]) -> Any:
        """Products in force on a date (default today), optionally by sector and lender."""
        catalog = state().catalog()
        chosen = catalog.effective_on(query.get("on") or _today())
        if (sector := query.get("sector")) is not None:
            chosen = tuple(p for p in chosen if Sector(sector) in p.sectors)
        if (lender := query.get("lender")) is not None:
            chosen = tuple(p for p in chosen if p.lender.code == lender)
        limit, offset = query["limit"], query["offset"]
        rows = [product_dict(p) for p in chosen[offset : offset + limit + 1]]
        return page(rows, limit, offset)


@blp.route("/products/<string(maxlength=64):code>")
class ProductItem(MethodView):
    @guard(*ALL_ROLES)
    @blp.arguments(ProductOnSchema, location="query")
    @blp.response(200, ProductSchema)
    def get(self, query: dict[str, Any], code: str) -> Any:
        """A product: the version in force on `on`, or its latest version."""
        try:
            return product_dict(state().catalog().get(code, query.get("on")))
        except UnknownProductError as exc:
            raise ProblemError("not-found", str(exc)) from exc


@blp.route("/factor-sets")
class FactorSets(MethodView):
    @guard(Role.ADMIN, Role.DATA_PROVIDER, Role.RISK_ANALYST)
    @blp.response(200, FactorSetListSchema)
    def get(self) -> Any:
        """Emission-factor sets: the published ones and those stored accounts used."""
        st = state()
        with Session(st.engine) as session:
            used = {r.version: r.sha256 for r in session.exec(select(FactorSetRecord)).all()}
        items: dict[str, dict[str, Any]] = {}
        for fs in factor_registry(st.settings):
            items[fs.version] = {
                "version": fs.version,
                "effective_from": fs.effective_from.isoformat(),
                "effective_to": fs.effective_to.isoformat() if fs.effective_to else None,
                "sha256": fs.sha256,
                "used_by_accounts": fs.version in used,
            }
        for version, sha in used.items():
            items.setdefault(
                version,
                {
                    "version": version,
                    "effective_from": None,
                    "effective_to": None,
                    "sha256": sha,
                    "used_by_accounts": True,
                },
            )
        return {"items": [items[k] for k in sorted(items)]}
