"""Shared CLI plumbing: settings, engine, JSON rendering and the one place errors are mapped."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import Engine
from tqdm import tqdm

from finance_engine.config import ConfigError, Settings, load_settings
from finance_engine.db import SchemaOutOfDateError, check_schema, make_engine

log = logging.getLogger("finance_engine")

F = TypeVar("F", bound=Callable[..., Any])


class UserError(Exception):
    """Bad input or state the user can fix; printed as one line, exit code 2."""


@dataclass
class CliContext:
    """What commands share: the settings and, lazily, the database engine."""

    settings: Settings
    _engine: Engine | None = None

    def engine(self, *, check: bool = True) -> Engine:
        """The database engine; with ``check`` the schema must be current."""
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
        if check:
            check_schema(self._engine)
        return self._engine

    def close(self) -> None:
        """Dispose of the engine's connections (called once the command has finished)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def get_context() -> CliContext:
    """The :class:`CliContext` of the running command (built on first use)."""
    ctx = click.get_current_context()
    root = ctx.find_root()
    if not isinstance(root.obj, CliContext):
        root.obj = CliContext(load_settings())
    return root.obj


def json_default(value: Any) -> Any:
    """Render values the json module does not know (dates, Decimals, paths, numpy scalars)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot render {type(value).__name__} as JSON")


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=json_default))


json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


def run_cli(group: click.Group, args: list[str] | None = None) -> int:
    """Run ``group`` and map errors to exit codes: 0 ok, 2 bad input, 1 unexpected failure."""
    try:
        with group.make_context(
            "finance-engine", list(sys.argv[1:] if args is None else args)
        ) as ctx:
            ctx.call_on_close(lambda: _close(ctx))
            group.invoke(ctx)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return 2 if exc.exit_code in (1, 2) else exc.exit_code
    except (UserError, ConfigError, SchemaOutOfDateError) as exc:
        click.echo(f"error: {exc}", err=True)
        return 2
    except Exception as exc:  # the one place unexpected errors are caught
        log.debug("unexpected failure", exc_info=True)
        click.echo(
            f"error: unexpected failure ({type(exc).__name__}: {exc}); "
            "rerun with FINANCE_ENGINE_DEBUG=1 for details",
            err=True,
        )
        if _debug():
            raise
        return 1
    return 0


def _close(ctx: click.Context) -> None:
    if isinstance(ctx.obj, CliContext):
        ctx.obj.close()


def _debug() -> bool:
    import os

    return os.environ.get("FINANCE_ENGINE_DEBUG") == "1"


def progress_enabled() -> bool:
    """Progress bars go to stderr, and only when it is a terminal."""
    return sys.stderr.isatty()


@contextmanager
def progress_bar(
    unit: str, *, total: int | None = None, desc: str | None = None, leave: bool = True
) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr when it is a terminal; yields its ``update(n)``, else None.

    ``unit`` names what ``n`` counts (``" rows"``); ``total`` (None: unknown) and ``leave``
    (keep the finished bar) are tqdm's.
    """
    if not progress_enabled():
        yield None
        return
    with tqdm(
        total=total, unit=unit, unit_scale=True, file=sys.stderr, desc=desc, leave=leave
    ) as bar:
        yield bar.update
