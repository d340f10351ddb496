"""CLI command: ``serve`` - run the API under gunicorn (``finance_engine.gunicorn_conf``)."""

from __future__ import annotations

import os
import sys

import click

from finance_engine.cli.common import get_context
from finance_engine.db import check_schema

APP_FACTORY = "finance_engine.app:create_app()"
CONFIG = "python:finance_engine.gunicorn_conf"


def gunicorn_argv(bind: str | None, workers: int | None, timeout: int | None) -> list[str]:
    """The gunicorn command line ``serve`` runs (options override the config module)."""
    argv = [sys.executable, "-m", "gunicorn", "-c", CONFIG]
    if bind:
        argv += ["--bind", bind]
    if workers:
        argv += ["--workers", str(workers)]
    if timeout:
        argv += ["--timeout", str(timeout)]
    return [*argv, APP_FACTORY]


@click.command("serve")
@click.option("--bind", default=None, help="host:port (default 127.0.0.1:8000).")
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="Default 2 x CPU cores + 1."
)
@click.option("--timeout", type=click.IntRange(min=1), default=None, help="Worker timeout, s.")
def serve_command(bind: str | None, workers: int | None, timeout: int | None) -> None:
    """Serve the HTTP API (/api/v1, docs at /api/v1/docs) under gunicorn."""
    context = get_context()
    check_schema(context.engine())  # refuse to start on an old schema, with the fix named
    context.close()
    argv = gunicorn_argv(bind, workers, timeout)
    click.echo(
        f"serving {context.settings.database_url.split('://')[0]} data: {' '.join(argv[1:])}"
    )
    sys.stdout.flush()
    os.execv(argv[0], argv)  # gunicorn takes over the process: signals reach it directly


def register(cli: click.Group) -> None:
    """Add ``serve`` to ``cli``."""
    cli.add_command(serve_command)
