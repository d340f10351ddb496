"""CLI commands: ``keys create | list | revoke`` (API keys) and ``consents grant | revoke |
list`` (which lenders may see which entities)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import click

from finance_engine.cli.common import UserError, echo_json, get_context, json_option
from finance_engine.services.consents import (
    ConsentError,
    grant_consent,
    list_consents,
    revoke_consent,
    revoke_entity_lender,
)
from finance_engine.services.decisions import default_catalog
from finance_engine.services.keys import KeyRequestError, Role, create_key, list_keys, revoke_key


def _lenders() -> tuple[str, ...]:
    return tuple(lender.code for lender in default_catalog().lenders())


def _expiry(value: datetime | None) -> datetime | None:
    """``--expires``: a date means the end of that day UTC; a naive date-time is UTC."""
    if value is None:
        return None
    if value.time() == time(0) and value.tzinfo is None:
        value = datetime.combine(value.date(), time(23, 59, 59))
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


expires_option = click.option(
    "--expires",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]),
    default=None,
    help="Expiry (YYYY-MM-DD = end of that day UTC, or YYYY-MM-DDTHH:MM[:SS] UTC); default never.",
)


@click.group("keys")
def keys_group() -> None:
    """API keys: the token is printed once at creation and never stored."""


@keys_group.command("create")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--lender", default=None, help="Lender code (required for bank roles).")
@click.option("--name", default="", help="What the key is for.")
@expires_option
@click.option("--rate-limit", type=click.IntRange(min=1), default=None, help="Requests/min/worker.")
@json_option
def create_command(
    role: str,
    lender: str | None,
    name: str,
    expires: datetime | None,
    rate_limit: int | None,
    as_json: bool,
) -> None:
    """Create an API key and print its token (once)."""
    try:
        view, token = create_key(
            get_context().engine(),
            role=role,
            lender=lender,
            name=name,
            expires_at=_expiry(expires),
            rate_limit_per_minute=rate_limit,
            created_by="cli",
            known_lenders=_lenders(),
        )
    except KeyRequestError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        echo_json({**view.to_dict(), "token": token})
        return
    click.echo(f"key {view.id} ({view.role}{', ' + view.lender if view.lender else ''})")
    click.echo(f"token (shown once, store it now): {token}")


@keys_group.command("list")
@click.option("--active", is_flag=True, help="Hide revoked keys.")
@json_option
def list_command(active: bool, as_json: bool) -> None:
    """List keys, newest first (never their secrets)."""
    rows = [
        k.to_dict()
        for k in list_keys(get_context().engine(), include_revoked=not active, limit=10_000)
    ]
    if as_json:
        echo_json(rows)
        return
    for k in rows:
        state = (
            "revoked"
            if k["revoked_at"]
            else ("expires " + k["expires_at"] if k["expires_at"] else "active")
        )
        click.echo(f"{k['id']}  {k['role']:<13} {k['lender'] or '-':<16} {state:<30} {k['name']}")


@keys_group.command("revoke")
@click.argument("key_id")
@json_option
def revoke_command(key_id: str, as_json: bool) -> None:
    """Revoke a key (running workers stop accepting it within the key cache TTL)."""
    view = revoke_key(get_context().engine(), key_id)
    if view is None:
        raise UserError(f"key_id: no key {key_id!r}")
    if as_json:
        echo_json(view.to_dict())
    else:
        click.echo(
            f"key {view.id} revoked at {view.revoked_at.isoformat() if view.revoked_at else ''}"
        )


@click.group("consents")
def consents_group() -> None:
    """Consents: an entity lets a lender see its account, alerts and reports."""


def _render_consent(data: dict[str, Any]) -> str:
    state = "active" if data["active"] else ("revoked" if data["revoked_at"] else "expired")
    who = f"{data['entity_id']:<16} {data['lender']:<16}"
    return f"{data['id']:>6}  {who} {state:<8} {data['reference']}"


@consents_group.command("grant")
@click.option("--entity", "entity_id", required=True)
@click.option("--lender", required=True, help="Lender code of the product catalog.")
@expires_option
@click.option("--reference", default="", help="Consent document or channel reference.")
@json_option
def grant_command(
    entity_id: str, lender: str, expires: datetime | None, reference: str, as_json: bool
) -> None:
    """Record an entity's consent for a lender (an active one is left as it is)."""
    try:
        view, created = grant_consent(
            get_context().engine(),
            entity_id=entity_id,
            lender=lender,
            expires_at=_expiry(expires),
            reference=reference,
            granted_by="cli",
            known_lenders=_lenders(),
        )
    except ConsentError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        echo_json({**view.to_dict(), "created": created})
    else:
        click.echo(
            ("granted: " if created else "already active: ") + _render_consent(view.to_dict())
        )


@consents_group.command("revoke")
@click.argument("consent_id", type=int, required=False)
@click.option("--entity", "entity_id", default=None, help="With --lender: every active consent.")
@click.option("--lender", default=None)
@json_option
def revoke_command_consent(
    consent_id: int | None, entity_id: str | None, lender: str | None, as_json: bool
) -> None:
    """Revoke consent CONSENT_ID, or every active consent of --entity for --lender."""
    engine = get_context().engine()
    if consent_id is not None:
        one = revoke_consent(engine, consent_id, revoked_by="cli")
        if one is None:
            raise UserError(f"consent_id: no consent {consent_id}")
        views = [one]
    elif entity_id and lender:
        views = revoke_entity_lender(engine, entity_id, lender, revoked_by="cli")
    else:
        raise UserError("give CONSENT_ID, or --entity and --lender")
    rows = [v.to_dict() for v in views]
    if as_json:
        echo_json(rows)
    else:
        click.echo(f"revoked {len(rows)} consent(s)")
        for row in rows:
            click.echo(_render_consent(row))


@consents_group.command("list")
@click.option("--entity", "entity_id", default=None)
@click.option("--lender", default=None)
@click.option("--active", is_flag=True, help="Only active consents.")
@json_option
def list_consents_command(
    entity_id: str | None, lender: str | None, active: bool, as_json: bool
) -> None:
    """List consents, newest first."""
    views = list_consents(
        get_context().engine(),
        lender=lender,
        entity_id=entity_id,
        active_only=active,
        limit=100_000,
    )
    rows = [v.to_dict() for v in views]
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        click.echo(_render_consent(row))


def register(cli: click.Group) -> None:
    """Add ``keys`` and ``consents`` to ``cli``."""
    cli.add_command(keys_group)
    cli.add_command(consents_group)
