"""CLI commands: ``account`` group (``account calc``: the pure calculator, no database)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from accounting.account import account_to_dict
from accounting.calc import CalcInputError, parse_calc_document, run_calc
from accounting.factors import load_factor_set_dir
from accounting.grading import load_grading_config
from accounting.residents import calc_resident
from finance_engine.cli.common import UserError, echo_json, json_option
from finance_engine.cli.residents import calc_summary_lines


@click.group("account")
def account_group() -> None:
    """Carbon accounts: compute, list, and the pure calculator."""


@account_group.command("calc")
@click.argument("input_path", metavar="INPUT.json", type=click.Path(path_type=Path))
@json_option
def calc_command(input_path: Path, as_json: bool) -> None:
    """Compute one graded carbon account from a self-contained JSON document (no database)."""
    try:
        text = input_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{input_path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise UserError(f"{input_path}: not UTF-8 text") from None
    try:
        doc = parse_calc_document(text)
        if _sector_of(doc) == "resident":
            resident = calc_resident(doc, factor_sets=load_factor_set_dir())
            echo_json(resident) if as_json else click.echo("\n".join(calc_summary_lines(resident)))
            return
        account = run_calc(doc, load_factor_set_dir(), load_grading_config())
    except CalcInputError as exc:
        raise UserError(f"{input_path.name}: {exc}") from None
    result = account_to_dict(account)
    if as_json:
        echo_json(result)
    else:
        click.echo("\n".join(summary_lines(result)))


def _sector_of(doc: Any) -> Any:
    entity = doc.get("entity") if isinstance(doc, dict) else None
    return entity.get("sector") if isinstance(entity, dict) else None


def _num(value: float | None, spec: str = ",.2f") -> str:
    return "-" if value is None else format(value, spec)


def summary_lines(result: dict[str, Any]) -> list[str]:
    """A readable summary of an account as :func:`accounting.account.account_to_dict` renders it."""
    e, p, em = result["entity"], result["period"], result["emissions_tco2e"]
    grade, quality, intensity = result["grade"], result["data_quality"], result["intensity"]
    lines = [
        f"{e['name']} ({e['id']}) {e['sector']} {e['industry_code']} {e['region']}, "
        f"{p['start']} to {p['end']}",
        f"emissions {_num(em['total'])} tCO2e (scope 1 {_num(em['scope1'])}, "
        f"scope 2 {_num(em['scope2'])})",
        *(f"  {k:<24} {_num(v):>14} tCO2e" for k, v in em["by_energy"].items()),
        f"intensity {_num(intensity['value'], '.4f')} {intensity['unit']} ({intensity['metric']})",
        f"grade: carbon efficiency {grade['carbon_efficiency'] or '-'} "
        f"(K {_num(grade['k'], '.3f')}), "
        f"label {grade['carbon_label'] or '-'}, colour {grade['colour'] or '-'}"
        f"{' (' + grade['colour_zh'] + ')' if grade['colour_zh'] else ''}, "
        f"score {_num(grade['score'], '.1f')}{', PROVISIONAL' if grade['provisional'] else ''}",
        f"data: completeness {quality['completeness']:.1%}, quality tier {quality['tier']}",
        f"factor set {result['factor_set']}, grading {result['grading_version']}, benchmark "
        + (
            "-"
            if result["benchmark"] is None
            else f"{result['benchmark']['value']:g} ({result['benchmark']['version']})"
        ),
        "reasons:",
        *(f"  - {r['message']}" for r in grade["reasons"]),
    ]
    return lines


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(account_group)
