"""Running CLI commands in end-to-end tests.

The commands under test are mounted with their modules' ``register`` on a fresh group and run
through ``run_cli``, the same entry point (and exit-code mapping) the console script uses.
"""

from __future__ import annotations

from collections.abc import Callable

import click
import pytest

from finance_engine.cli.common import run_cli

Result = tuple[int, str, str]
"""Exit code, standard output, standard error."""

Invoke = Callable[..., Result]


def cli_invoker(
    capsys: pytest.CaptureFixture[str],
    *registers: Callable[[click.Group], None],
    prefix: tuple[str, ...] = (),
) -> Invoke:
    """``invoke(*args)``: run ``prefix + args`` on a group holding the ``registers``' commands."""

    @click.group()
    def cli() -> None:
        """Test root."""

    for register in registers:
        register(cli)

    def run(*args: str) -> Result:
        code = run_cli(cli, [*prefix, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
