"""CLI command: ``init`` (database, development signing PKI, first admin API key)."""

from __future__ import annotations

from typing import Any

import click

from finance_engine.cli.common import echo_json, get_context, json_option
from finance_engine.db import current_revision, upgrade
from finance_engine.services.keys import create_key, list_keys
from finance_engine.services.signing import create_dev_pki


@click.command("init")
@json_option
def init_command(as_json: bool) -> None:
    """Create or upgrade the database, the development signing PKI and a first admin key.

    Safe to run again: the schema is upgraded in place, existing development keys are kept,
    and an admin API key is created (and printed, once) only while no active one exists.
    """
    context = get_context()
    settings = context.settings
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    engine = context.engine(check=False)
    upgrade(engine)
    result: dict[str, Any] = {
        "instance_path": str(settings.instance_path),
        "database": engine.url.render_as_string(hide_password=True),
        "schema_revision": current_revision(engine),
    }
    if settings.environment != "production":
        pki = create_dev_pki(settings.instance_path)
        result["dev_signing"] = {
            "ca_cert": str(pki.ca_cert),
            "signer_cert": str(pki.signer_cert),
            "created": pki.created,
            "note": "DEVELOPMENT ONLY: refused when FINANCE_ENGINE_ENV=production",
        }
    active = list_keys(engine, include_revoked=False, limit=10_000)
    active_admins = [k for k in active if k.role == "admin"]
    if not active_admins:
        view, token = create_key(engine, role="admin", name="init", created_by="init")
        result["admin_key"] = {"id": view.id, "token": token, "shown_once": True}
    if as_json:
        echo_json(result)
        return
    click.echo(f"database ready at {result['database']} (schema {result['schema_revision']})")
    if "dev_signing" in result:
        state = "created" if result["dev_signing"]["created"] else "kept"
        click.echo(
            f"development signing certificate {state}: {result['dev_signing']['signer_cert']}"
        )
    if "admin_key" in result:
        click.echo(f"admin API key (shown once, store it now): {result['admin_key']['token']}")
    else:
        click.echo("an active admin key exists; 'finance-engine keys create --role admin' adds one")


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(init_command)
