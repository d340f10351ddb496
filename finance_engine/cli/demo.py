"""CLI command: ``demo`` — the main job on the embedded database, end to end."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import click
from tqdm import tqdm

from finance_engine.cli.accounts_db import run_lines
from finance_engine.cli.common import echo_json, get_context, json_option
from finance_engine.services.demo import DemoSummary, run_demo
from finance_engine.services.demo_access import AccessSummary
from finance_engine.services.demo_scoring import ScoringSummary


@click.command("demo")
@click.option("--seed", default=7, show_default=True, help="Synthetic city seed.")
@click.option(
    "--scale",
    default=0.02,
    show_default=True,
    type=click.FloatRange(0.001, 1.0),
    help="Share of Quzhou's 2,392 industrial firms and 97 energy producers (1.0 = full city).",
)
@click.option("--year", default=2025, show_default=True, type=click.IntRange(2023, 2025))
@json_option
def demo_command(seed: int, scale: float, year: int, as_json: bool) -> None:
    """Build a synthetic Quzhou-like city, ingest a year of meter data, grade every account."""
    settings = get_context().settings
    started = time.perf_counter()
    bars: list[Any] = []

    def progress(total: int, label: str) -> Callable[[int], None]:
        for done in bars:  # one bar at a time: a new stage closes the previous one
            done.close()
        unit = " " + (label.split()[-1] if " " in label else "readings")
        bar = tqdm(
            total=total, desc=label, unit=unit, unit_scale=True, disable=as_json, leave=False
        )
        bars.append(bar)

        def update(n: int) -> None:
            bar.update(n)

        return update

    try:
        summary = run_demo(settings, seed=seed, scale=scale, year=year, progress=progress)
    finally:
        for bar in bars:
            bar.close()
    if as_json:
        echo_json({**summary.to_dict(), "seconds": round(time.perf_counter() - started, 1)})
    else:
        click.echo("\n".join(summary_lines(summary, time.perf_counter() - started)))


def summary_lines(summary: DemoSummary, seconds: float) -> list[str]:
    """The demo's printed summary."""
    lines = [
        f"synthetic city (seed {summary.seed}, scale {summary.scale}, year {summary.year}): "
        f"{summary.entities} firms and energy producers, {summary.meters} meters",
        *(
            f"  + {sector}: {row['entities']} entities, {row['meters']} meters, "
            f"{row['readings']:,} readings"
            for sector, row in summary.sectors.items()
        ),
        f"ingest: {summary.readings:,} readings -> {summary.accepted:,} stored, "
        f"{summary.duplicates:,} duplicates ignored, {summary.rejected:,} rejected"
        + (f" ({_reasons(summary.rejection_reasons)})" if summary.rejection_reasons else ""),
        f"alerts raised: {summary.alerts_raised:,}",
        "",
        "accounts:",
        *run_lines(summary.run),
        "",
        f"top critical alerts (of {summary.alerts_raised:,}; 'finance-engine alerts list'):",
    ]
    lines += [f"  {a.entity_id:<12} {a.meter_code:<16} {a.message}" for a in summary.top_alerts]
    if summary.residents:
        lines += ["", *resident_lines(summary.residents)]
    if summary.scoring is not None:
        lines += ["", *scoring_lines(summary.scoring)]
    if summary.access is not None:
        lines += ["", *access_lines(summary.access)]
    lines += [
        "",
        f"benchmarks published from {summary.benchmark_file}",
        f"done in {seconds:.0f} s. Next: 'finance-engine account list', "
        "'finance-engine account show ENTITY', 'finance-engine alerts list --severity critical', "
        "'finance-engine decisions list'",
    ]
    return lines


def scoring_lines(scoring: ScoringSummary) -> list[str]:
    """The offers summary: approvals, average multiplier and discount by colour."""
    auc = "-" if scoring.model_auc is None else f"{scoring.model_auc:.3f}"
    lines = [
        f"risk model {scoring.model_version} (validation AUC {auc}) trained on "
        f"{scoring.history_file}",
        f"offers on {scoring.decided_on}: {scoring.borrowers} borrowers, {scoring.decisions} "
        f"decisions logged, {scoring.approved_borrowers} borrowers with an approved offer",
        f"  {'colour':<12} {'with offer':>10} {'approved':>9} {'avg multiplier':>15} "
        f"{'avg discount':>13}",
    ]
    for colour, row in scoring.by_colour.items():
        discount = f"{row['avg_discount_bp'] or '-'} bp"
        lines.append(
            f"  {colour:<12} {row['borrowers_with_offer']:>10} {row['approved']:>9} "
            f"{row['avg_limit_multiplier'] or '-':>15} {discount:>13}"
        )
    return lines


def access_lines(access: AccessSummary) -> list[str]:
    """Sample reports, the demo bank key and the curl example."""
    lines = [f"signed sample reports ({len(access.reports)}; 'finance-engine report verify FILE'):"]
    lines += [f"  {r.entity_id:<12} {r.report_number}  {r.path}" for r in access.reports]
    lines += [
        "",
        f"API: {access.consents_granted} new consents for lender {access.lender}; its bank_system "
        "key (shown once):",
        f"  {access.token}",
        "start the API with 'finance-engine serve', then score a demo firm:",
        f"  {access.curl}",
    ]
    return lines


def resident_lines(residents: dict[str, Any]) -> list[str]:
    """Personal carbon accounts: events, reduction and the level distribution."""
    levels = ", ".join(
        f"{level} {row['name']} {row['residents']:,}" for level, row in residents["levels"].items()
    )
    return [
        f"residents: {residents['residents']:,} personal carbon accounts, "
        f"{residents['events']:,} behaviour events ({residents['accepted']:,} stored, "
        f"{residents['duplicates']:,} duplicates, {residents['rejected']:,} rejected)",
        f"  {residents['reduction_t']:,.1f} tCO2 avoided, {residents['points']:,} points; "
        f"levels: {levels}",
    ]


def _reasons(reasons: dict[str, int]) -> str:
    return ", ".join(f"{field}: {n}" for field, n in sorted(reasons.items()))


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(demo_command)
