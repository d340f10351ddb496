"""CLI commands: ``report issue``, ``report verify``, ``report list``.

``report verify`` exits 0 when every check passes and 2 when any fails, printing which and why.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from finance_engine.cli.common import UserError, echo_json, get_context, json_option
from finance_engine.services.reports import (
    ReportError,
    issue_report,
    list_reports,
    verify_report_file,
    verify_report_ref,
)
from finance_engine.services.signing import SigningConfigError
from reports import FontError, Lang, PdfVerification, ReportDataError


@click.group("report")
def report_group() -> None:
    """Signed carbon credit reports (碳征信报告): issue, verify, list."""


@report_group.command("issue")
@click.option("--entity", "entity_id", required=True, help="The borrower's entity id.")
@click.option(
    "--lang",
    type=click.Choice([lang.value for lang in Lang]),
    default=Lang.BILINGUAL.value,
    show_default=True,
    help="Chinese, English, or Chinese with English labels.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also copy the signed PDF here (it is always stored under the reports folder).",
)
@json_option
def issue_command(entity_id: str, lang: str, out: Path | None, as_json: bool) -> None:
    """Issue a signed report on an entity's latest carbon account and register it."""
    context = get_context()
    try:
        issued = issue_report(context.engine(), context.settings, entity_id, lang=Lang(lang))
    except (ReportError, SigningConfigError, FontError, ReportDataError) as exc:
        raise UserError(str(exc)) from None
    if out is not None:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(issued.path, out)
        except OSError as exc:
            raise UserError(f"--out: cannot write {out} ({exc.strerror})") from None
    if as_json:
        echo_json({**issued.to_dict(), "out": None if out is None else str(out)})
        return
    click.echo(f"report {issued.report_number} for {issued.entity_id}")
    click.echo(f"  verification code  {issued.verification_code}  ({issued.verify_url})")
    click.echo(f"  stored             {issued.path}" + (f"  (copied to {out})" if out else ""))
    click.echo(f"  pages / size       {issued.pages} / {issued.size_bytes:,} bytes")
    click.echo(f"  signature          PAdES {issued.signature_level}, sha256 {issued.sha256}")
    if issued.development:
        click.echo("  WARNING: signed with the development certificate (not valid for lending)")


@report_group.command("verify")
@click.argument(
    "file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--id", "ref", help="A registered report's id, report number or verification code.")
@json_option
def verify_command(file: Path | None, ref: str | None, as_json: bool) -> None:
    """Verify a report PDF (signature, trust chain, integrity, registry); exit 2 if invalid."""
    if (file is None) == (ref is None):
        raise UserError("give either FILE or --id, not both or neither")
    context = get_context()
    try:
        if file is not None:
            result = verify_report_file(context.engine(), context.settings, file.read_bytes())
        else:
            assert ref is not None
            result = verify_report_ref(context.engine(), context.settings, ref)
    except (ReportError, SigningConfigError) as exc:
        raise UserError(str(exc)) from None
    if as_json:
        echo_json(result.to_dict())
    else:
        click.echo("\n".join(_lines(result)))
    if not result.valid:
        raise click.exceptions.Exit(2)


def _lines(result: PdfVerification) -> list[str]:
    head = "VALID" if result.valid else "INVALID"
    lines = [f"{head}: report {result.report_number or '?'} (sha256 {result.sha256})"]
    for check in result.checks:
        lines.append(f"  [{'ok' if check.ok else 'FAIL'}] {check.name}: {check.detail}")
    return lines


@report_group.command("list")
@click.option("--entity", "entity_id", help="Only this entity's reports.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@json_option
def list_command(entity_id: str | None, limit: int, as_json: bool) -> None:
    """List registered reports, newest first."""
    context = get_context()
    rows = list_reports(context.engine(), entity_id=entity_id, limit=limit)
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        dev = "  (development)" if row["development"] else ""
        click.echo(
            f"{row['id']:>5}  {row['report_number']}  {row['entity_id']:<16} "
            f"{row['issued_at'][:16]}  {row['verification_code']}{dev}"
        )


def register(cli: click.Group) -> None:
    """Attach the ``report`` group to the console script."""
    cli.add_command(report_group)
