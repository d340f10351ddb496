"""CLI commands: ``score``, ``offers`` and ``decisions verify | list | show``.

``score`` decides one application for one product, ``offers`` ranks every product the borrower
may apply for; both log every decision in the hash-chained decision log. ``decisions verify``
exits 0 when the chain is intact and 2 naming the first broken record otherwise.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from finance_engine.cli.common import UserError, echo_json, get_context, json_option
from finance_engine.services.decisions import (
    DecisionServiceError,
    LoggedDecision,
    context_for,
    list_decisions,
    offers,
    score,
    show_decision,
    verify_log,
)
from scoring.applications import FINANCIAL_FEATURES, Application, ApplicationError, Financials
from scoring.carbon_features import ProjectMetrics

_FEATURE_OPTIONS = {
    "revenue": "revenue_10k_yuan",
    "leverage": "leverage",
    "current_ratio": "current_ratio",
    "roa": "return_on_assets",
    "years_operating": "years_operating",
    "overdue_24m": "overdue_count_24m",
}


def _decimal(option: str, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise UserError(f"{option}: {value!r} is not a decimal number") from None
    if not number.is_finite():
        raise UserError(f"{option}: {value!r} is not a finite number")
    return number


def _features_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"--features: cannot read {path} ({exc.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"--features: {path} is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise UserError(f"--features: {path} must hold a JSON object")
    return data


def _financials(path: Path | None, flags: dict[str, str | None]) -> Financials:
    values = _features_file(path)
    for option, name in _FEATURE_OPTIONS.items():
        if flags.get(option) is not None:
            values[name] = flags[option]
    missing = [name for name in FINANCIAL_FEATURES if values.get(name) is None]
    if missing:
        raise UserError(
            f"{', '.join(missing)}: financial feature(s) missing; give --features FILE.json "
            "or --revenue, --leverage, --current-ratio, --roa, --years-operating, --overdue-24m"
        )
    try:
        return Financials.from_mapping(values)
    except ApplicationError as exc:
        raise UserError(str(exc)) from None


def application_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options every scoring command shares (borrower, base terms, financial features)."""
    options = [
        click.option("--entity", "entity_id", required=True, help="Borrower (entity id)."),
        click.option("--base-limit", required=True, help="Base credit limit, yuan."),
        click.option("--base-rate", required=True, help="Base rate, percent a year."),
        click.option("--revenue", help="Revenue of the last year, 10k yuan."),
        click.option("--leverage", help="Total debt / total assets."),
        click.option("--current-ratio", help="Current assets / current liabilities."),
        click.option("--roa", help="Return on assets (0.05 = 5%)."),
        click.option("--years-operating", help="Whole years since registration."),
        click.option("--overdue-24m", help="Overdue repayments in the last 24 months."),
        click.option(
            "--features",
            "features_path",
            type=click.Path(path_type=Path),
            help="JSON object with the six financial features (options override it).",
        ),
        click.option("--requested-amount", help="Requested amount, yuan."),
        click.option("--term-months", type=int, help="Requested term, months."),
        click.option("--emissions-cut", help="Yearly emission cut of the project, tCO2e."),
        click.option("--renewable-share", help="Renewable share of electricity, percent."),
        click.option("--building-stars", type=click.IntRange(0, 3), help="Green-building stars."),
        click.option("--lender", "lender_code", help="Only this lender's products."),
        click.option("--application-id", help="The bank's application id (default: generated)."),
        click.option(
            "--on", "on_text", help="Decision date YYYY-MM-DD (default: today, local time)."
        ),
        json_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _application(product_code: str | None, args: dict[str, Any]) -> Application:
    flags = {option: args.get(option) for option in _FEATURE_OPTIONS}
    financials = _financials(args.get("features_path"), flags)
    try:
        project = ProjectMetrics(
            emissions_cut_tco2e=_decimal("--emissions-cut", args.get("emissions_cut")),
            renewable_share_pct=_decimal("--renewable-share", args.get("renewable_share")),
            green_building_stars=args.get("building_stars"),
        )
        return Application(
            application_id=args.get("application_id") or f"APP-{uuid.uuid4().hex[:16]}",
            entity_id=args["entity_id"],
            base_limit_yuan=_decimal("--base-limit", args["base_limit"]) or Decimal(0),
            base_rate_pct=_decimal("--base-rate", args["base_rate"]) or Decimal(0),
            financials=financials,
            product_code=product_code,
            requested_amount_yuan=_decimal("--requested-amount", args.get("requested_amount")),
            requested_term_months=args.get("term_months"),
            lender_code=args.get("lender_code"),
            project=project,
        )
    except ApplicationError as exc:
        raise UserError(str(exc)) from None


def _on(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"--on: {text!r} is not a date (YYYY-MM-DD)") from None


def _terms_line(payload: dict[str, Any]) -> str:
    terms = payload["terms"]
    if terms is None:
        return "no terms (declined)"
    base = payload["application"]
    return (
        f"limit {terms['final_limit_yuan']} yuan (x{terms['limit_multiplier']} of "
        f"{base['base_limit_yuan']})  rate {terms['final_rate_pct']}% (base "
        f"{base['base_rate_pct']}%, discount {terms['rate_discount_bp']} bp, floor "
        f"{terms['floor_rate_pct']}%)"
    )


def decision_lines(logged: LoggedDecision) -> list[str]:
    """The printed form of one logged decision."""
    p = logged.payload
    lines = [
        f"{p['outcome'].upper()}  {p['product_code']} v{p['product_version']} "
        f"({p['lender_code']})  entity {p['entity_id']}  grade {p['grade']} "
        f"({p['grade_basis']})",
        _terms_line(p),
        f"PD {p['pd']:.2%} (band {p['risk_band']}, model {p['versions']['model']})",
        "reasons:",
        *(f"  {r['code']} {r['text']}" for r in p["reasons"]),
        f"logged as #{logged.record.sequence} {logged.record.record_hash}",
    ]
    return lines


@click.command("score")
@click.option("--product", "product_code", required=True, help="Product code.")
@application_options
def score_command(product_code: str, as_json: bool, on_text: str | None, **args: Any) -> None:
    """Decide one application for one product (approve / refer / decline) and log it."""
    application = _application(product_code, args)
    cli = get_context()
    try:
        logged = score(cli.engine(), context_for(cli.settings), application, on=_on(on_text))
    except DecisionServiceError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        echo_json(logged.to_dict())
    else:
        click.echo("\n".join(decision_lines(logged)))


@click.command("offers")
@application_options
def offers_command(as_json: bool, on_text: str | None, **args: Any) -> None:
    """Rank every product the borrower may apply for (all decisions are logged)."""
    application = _application(None, args)
    cli = get_context()
    try:
        ranked = offers(cli.engine(), context_for(cli.settings), application, on=_on(on_text))
    except DecisionServiceError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        echo_json([item.to_dict() for item in ranked])
        return
    if not ranked:
        click.echo("no products serve this borrower on that date")
    for rank, item in enumerate(ranked, 1):
        p, terms = item.payload, item.payload["terms"]
        offer = (
            f"{terms['final_rate_pct']:>6}%  {terms['final_limit_yuan']:>16} yuan  "
            f"x{terms['limit_multiplier']}"
            if terms
            else " " * 36
        )
        why = {"eligibility", "referral"}
        codes = " ".join(r["code"] for r in p["reasons"] if r["kind"] in why)
        click.echo(f"{rank:>3}. {p['outcome']:<8} {p['product_code']:<18} {offer}  {codes}")


@click.group("decisions")
def decisions_group() -> None:
    """The hash-chained decision log: verify, list, show."""


def _head(text: str | None) -> tuple[int, str] | None:
    if text is None:
        return None
    sequence, _, digest = text.partition(":")
    if not sequence.isdigit() or len(digest) != 64:
        raise UserError(f"--head: {text!r} is not SEQUENCE:SHA256 (e.g. 1200:9f3c...)")
    return int(sequence), digest.lower()


@decisions_group.command("verify")
@click.option(
    "--head", "head_text", help="SEQUENCE:HASH of a record noted earlier (catches a cut tail)."
)
@json_option
def verify_command(head_text: str | None, as_json: bool) -> None:
    """Verify the chain; exit 0 when intact, 2 naming the first broken record."""
    report = verify_log(get_context().engine(), expected_head=_head(head_text))
    if as_json:
        echo_json(report.to_dict())
    elif report.first_broken is None:
        click.echo(
            f"decision log intact: {report.records_checked} records, head "
            f"#{report.head_sequence} {report.head_hash}"
        )
    else:
        broken = report.first_broken
        click.echo(
            f"decision log BROKEN at record {broken.sequence} ({broken.problem.value}): "
            f"{broken.message}; intact up to #{report.head_sequence}",
            err=True,
        )
    if not report.intact:
        raise click.exceptions.Exit(2)


@decisions_group.command("list")
@click.option("--entity", "entity_id", help="Only this entity's decisions.")
@click.option("--outcome", type=click.Choice(["approve", "refer", "decline"]))
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@json_option
def list_command(entity_id: str | None, outcome: str | None, limit: int, as_json: bool) -> None:
    """Logged decisions, newest first."""
    try:
        rows = list_decisions(
            get_context().engine(), entity_id=entity_id, outcome=outcome, limit=limit
        )
    except DecisionServiceError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no decisions")
    for r in rows:
        rate = "-" if r["final_rate_pct"] is None else f"{r['final_rate_pct']}%"
        click.echo(
            f"#{r['sequence']:<7} {r['created_at'][:19]}  {r['entity_id']:<16} "
            f"{r['product_code']:<18} {r['outcome']:<8} PD {r['pd']:.2%}  {rate}"
        )


@decisions_group.command("show")
@click.argument("sequence", type=click.IntRange(min=1))
@json_option
def show_command(sequence: int, as_json: bool) -> None:
    """One logged decision in full."""
    try:
        record = show_decision(get_context().engine(), sequence)
    except DecisionServiceError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        echo_json(record)
        return
    log = record["log"]
    click.echo(f"#{log['sequence']} {log['created_at']}  hash {log['record_hash']}")
    click.echo(f"{record['outcome'].upper()}  {record['product_code']}  {record['entity_id']}")
    click.echo(_terms_line(record))
    for r in record["reasons"]:
        click.echo(f"  {r['code']} {r['text']}")


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(score_command)
    cli.add_command(offers_command)
    cli.add_command(decisions_group)
