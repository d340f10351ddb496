"""The ``finance-engine`` console script.

Commands parse their arguments, call one service and render the result (text, or JSON with
``--json``). Bad input exits with code 2 and a one-line message; no traceback reaches a user.
"""

from __future__ import annotations

import sys

import click

from finance_engine.cli.common import run_cli


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="finance-engine")
def cli() -> None:
    """Green finance engine: carbon accounts, scoring and carbon credit reports."""


def _register() -> None:
    from finance_engine.cli import (
        account,
        accounts_db,
        admin,
        alerts,
        backtest,
        demo,
        ingest,
        keys,
        model,
        products,
        readings,
        report,
        residents,
        score,
        serve,
    )

    del accounts_db  # its commands attach to the account group on import

    for module in (
        admin,
        account,
        ingest,
        readings,
        alerts,
        demo,
        products,
        model,
        score,
        report,
        keys,
        serve,
        residents,
        backtest,
    ):
        module.register(cli)


_register()


def main() -> None:
    """Console-script entry point."""
    sys.exit(run_cli(cli))
