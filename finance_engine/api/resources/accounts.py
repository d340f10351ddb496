"""Carbon accounts: compute a period, list, read one, latest per entity, aggregates."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlmodel import Session

from accounting.account import Period
from finance_engine.api.auth import current_principal, guard, require_visible
from finance_engine.api.blueprint import ID, Blueprint
from finance_engine.api.pagination import page, page_of
from finance_engine.api.problems import ProblemError, validation_problem
from finance_engine.api.queries import (
    account_aggregates,
    account_by_id,
    accounts_page,
    latest_account,
)
from finance_engine.api.schemas import (
    AccountQuerySchema,
    AccountRunSchema,
    AccountSchema,
    AccountSummarySchema,
    AggregateListSchema,
    AggregateQuerySchema,
    ComputeAccountsSchema,
)
from finance_engine.api.state import state
from finance_engine.models import BenchmarkSetRecord
from finance_engine.services.accounts import compute_period_accounts
from finance_engine.services.keys import Role
from finance_engine.services.reference import ReferenceDataError

blp = Blueprint("accounts", __name__, description="Graded carbon accounts")

READERS = (Role.ADMIN, Role.DATA_PROVIDER, Role.BANK_SYSTEM, Role.LOAN_OFFICER)
COMPUTERS = (Role.ADMIN, Role.DATA_PROVIDER)


@blp.route("/accounts/compute")
class ComputeAccounts(MethodView):
    @guard(*COMPUTERS, idempotent=True, body=True)
    @blp.arguments(ComputeAccountsSchema)
    @blp.response(200, AccountRunSchema)
    def post(self, doc: dict[str, Any]) -> Any:
        """Compute, grade and store the industry and energy accounts of a period.

        Stored accounts are snapshots: computing the same period under the same factor set and
        benchmark again stores nothing new (`already_stored`). `benchmark` must be a stored
        benchmark version; without it the period's own population is the benchmark.
        """
        st = state()
        benchmark = doc.get("benchmark")
        if benchmark is not None:
            with Session(st.engine) as session:
                if session.get(BenchmarkSetRecord, benchmark) is None:
                    raise validation_problem("benchmark", f"no stored benchmark {benchmark!r}")
        period = Period(doc["period"]["start"], doc["period"]["end"])
        if period.days > 366:
            raise validation_problem("period", "at most 366 days")
        try:
            run = compute_period_accounts(
                st.engine,
                st.settings,
                period,
                factor_set=doc.get("factor_set"),
                benchmark=benchmark,
                percentile=doc["percentile"],
            )
        except ReferenceDataError as exc:
            raise validation_problem("factor_set", str(exc)) from exc
        return run.to_dict()


@blp.route("/accounts")
class Accounts(MethodView):
    @guard(*READERS)
    @blp.arguments(AccountQuerySchema, location="query")
    @blp.response(200, page_of(AccountSummarySchema))
    def get(self, query: dict[str, Any]) -> Any:
        """List stored accounts, newest period first (bank keys: consenting entities only)."""
        principal = current_principal()
        with Session(state().engine) as session:
            rows = accounts_page(
                session,
                lender=principal.lender if principal.is_bank else None,
                entity_id=query.get("entity_id"),
                sector=query.get("sector"),
                period_end=query.get("period_end"),
                colour=query.get("colour"),
                limit=query["limit"],
                offset=query["offset"],
            )
        return page(rows, query["limit"], query["offset"])


@blp.route(f"/accounts/<{ID}:account_id>")
class AccountItem(MethodView):
    @guard(*READERS)
    @blp.response(200, AccountSchema)
    def get(self, account_id: int) -> Any:
        """One stored account in full (bank keys: 404 unless the entity consents)."""
        with Session(state().engine) as session:
            found = account_by_id(session, account_id)
            if found is None:
                raise ProblemError("not-found", f"no account {account_id}")
            require_visible(session, found[0], "account of entity")
            return found[1]


@blp.route("/entities/<string(maxlength=64):entity_id>/accounts/latest")
class LatestAccount(MethodView):
    @guard(*READERS)
    @blp.response(200, AccountSchema)
    def get(self, entity_id: str) -> Any:
        """The entity's account with the latest period (bank keys: consenting entities only)."""
        with Session(state().engine) as session:
            require_visible(session, entity_id)
            account = latest_account(session, entity_id)
        if account is None:
            raise ProblemError("not-found", f"no account for entity {entity_id!r}")
        return account


@blp.route("/accounts/aggregates")
class AccountAggregates(MethodView):
    @guard(Role.ADMIN, Role.DATA_PROVIDER, Role.RISK_ANALYST)
    @blp.arguments(AggregateQuerySchema, location="query")
    @blp.response(200, AggregateListSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """Account counts and emissions by period, sector and colour (no entity-level data)."""
        with Session(state().engine) as session:
            return {"items": account_aggregates(session, query.get("period_end"))}
