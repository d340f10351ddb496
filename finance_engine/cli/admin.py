"""CLI commands: ``init`` (database, development keys)."""

from __future__ import annotations

import click

from finance_engine.cli.common import echo_json, get_context, json_option
from finance_engine.db import current_revision, upgrade


@click.command("init")
@json_option
def init_command(as_json: bool) -> None:
    """Create or upgrade the database in the instance folder (or FINANCE_ENGINE_DATABASE_URL)."""
    context = get_context()
    settings = context.settings
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    engine = context.engine(check=False)
    upgrade(engine)
    result = {
        "instance_path": str(settings.instance_path),
        "database": engine.url.render_as_string(hide_password=True),
        "schema_revision": current_revision(engine),
    }
    if as_json:
        echo_json(result)
    else:
        click.echo(f"database ready at {result['database']} (schema {result['schema_revision']})")


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(init_command)
