"""CLI commands: ``model train | evaluate | show | synth-history`` for the LightGBM PD model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from accounting.vocab import Sector
from finance_engine.cli.common import UserError, echo_json, get_context, json_option
from finance_engine.services.models import (
    FileModelStore,
    ModelServiceError,
    evaluate_file,
    load_model_dir,
    train_from_file,
)
from finance_engine.synth.loans import (
    HistoryFileError,
    generate_loan_history,
    write_loan_history,
)
from products.catalog import DEFAULT_CATALOG_DIR, CatalogError, load_catalog
from products.lpr import LprError
from scoring.risk_model import RiskModel

data_option = click.option(
    "--data",
    "data",
    type=click.Path(path_type=Path),
    required=True,
    help="History file (.csv or .parquet) with the feature columns and default_12m.",
)


def _store() -> FileModelStore:
    return FileModelStore.for_settings(get_context().settings)


def _summary(model: RiskModel, where: Path) -> dict[str, Any]:
    meta = model.metadata_
    return {
        "version": model.version,
        "path": where,
        "created_at": meta["created_at"],
        "best_iteration": meta["best_iteration"],
        "training": meta["training"],
        "validation": meta["validation"],
    }


@click.group("model")
def model_group() -> None:
    """Train, evaluate and inspect the LightGBM probability-of-default model."""


@model_group.command("train")
@data_option
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder to write the model to (default: <instance>/models/<version>, made current).",
)
@click.option("--calibration", type=click.Choice(["platt", "isotonic"]), default="platt")
@click.option("--seed", type=int, default=None, help="Seed of the split and of LightGBM.")
@json_option
def train_command(
    data: Path, out: Path | None, calibration: str, seed: int | None, as_json: bool
) -> None:
    """Train the PD model on a history file and save it (text model + JSON metadata)."""
    params: dict[str, Any] = {"calibration": calibration}
    if seed is not None:
        params["seed"] = seed
    try:
        model = train_from_file(data, params=params)
        if out is None:
            store = _store()
            where = store.path(store.save(model))
        else:
            where = model.save(out)
    except ModelServiceError as exc:
        raise UserError(str(exc)) from exc
    summary = _summary(model, where)
    if as_json:
        echo_json(summary)
        return
    valid = summary["validation"]
    click.echo(f"trained {model.version} -> {where}")
    click.echo(
        f"validation ({valid['n']} rows): AUC {valid['auc']:.4f}  KS {valid['ks']:.4f}  "
        f"Gini {valid['gini']:.4f}  Brier {valid['brier']:.4f}  "
        f"mean PD {valid['mean_pd']:.4f} vs default rate {valid['default_rate']:.4f}"
    )


def _load(model_dir: Path | None) -> RiskModel:
    try:
        return _store().load() if model_dir is None else load_model_dir(model_dir)
    except ModelServiceError as exc:
        raise UserError(str(exc)) from exc


model_dir_option = click.option(
    "--model",
    "model_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Model folder (default: the current model under <instance>/models).",
)


@model_group.command("evaluate")
@data_option
@model_dir_option
@json_option
def evaluate_command(data: Path, model_dir: Path | None, as_json: bool) -> None:
    """AUC, KS, Gini, Brier and calibration by risk band of a model on a history file."""
    model = _load(model_dir)
    try:
        report = evaluate_file(data, model)
    except ModelServiceError as exc:
        raise UserError(str(exc)) from exc
    if as_json:
        echo_json(report)
        return
    click.echo(f"model {report['model_version']} on {data} ({report['n']} rows)")
    click.echo(
        f"AUC {report['auc']:.4f}  KS {report['ks']:.4f}  Gini {report['gini']:.4f}  "
        f"Brier {report['brier']:.4f}  ECE {report['ece_decile']:.4f}"
    )
    if "oracle" in report:
        click.echo(f"oracle (true PD) AUC {report['oracle']['auc']:.4f}")
    click.echo("band        n  defaults  mean PD  default rate")
    for row in report["calibration_by_band"]:
        mean_pd = "-" if row["mean_pd"] is None else f"{row['mean_pd']:.4f}"
        rate = "-" if row["default_rate"] is None else f"{row['default_rate']:.4f}"
        click.echo(f"{row['band']:<4} {row['n']:>8} {row['defaults']:>9} {mean_pd:>8} {rate:>13}")


@model_group.command("show")
@model_dir_option
@json_option
def show_command(model_dir: Path | None, as_json: bool) -> None:
    """A model's metadata: version, features and constraints, training data, metrics."""
    model = _load(model_dir)
    if as_json:
        echo_json(model.metadata_)
        return
    meta = model.metadata_
    click.echo(
        f"{model.version}  created {meta['created_at']}  LightGBM {meta['lightgbm_version']}"
    )
    for feature in meta["features"]:
        click.echo(f"  {feature['name']:<24} {feature['monotone']:+d}  {feature['unit']}")
    click.echo(f"training data sha256 {meta['training']['data_sha256']}")


@model_group.command("synth-history")
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    required=True,
    help="File to write (.csv or .parquet).",
)
@click.option("--n", "n", type=click.IntRange(min=1), default=100_000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--start-year", type=int, default=2024, show_default=True)
@click.option("--years", type=click.IntRange(min=1), default=2, show_default=True)
@click.option(
    "--products/--no-products",
    default=True,
    show_default=True,
    help="Draw product codes from the packaged catalog's industry products (else leave empty).",
)
@json_option
def synth_history_command(
    out: Path, n: int, seed: int, start_year: int, years: int, products: bool, as_json: bool
) -> None:
    """Write a synthetic loan history drawn from the documented ground-truth PD process."""
    codes = _industry_product_codes() if products else ()
    try:
        history = generate_loan_history(seed, n, start_year, years, product_codes=codes)
        write_loan_history(history, out)
    except (HistoryFileError, ValueError) as exc:
        raise UserError(str(exc)) from exc
    defaults = history["default_12m"]
    result = {
        "path": out,
        "rows": len(history),
        "seed": seed,
        "ground_truth": history.ground_truth_version,
        "default_rate": float(defaults.mean()),
        "mean_true_pd": float(history["true_pd"].mean()),
    }
    if as_json:
        echo_json(result)
    else:
        click.echo(
            f"wrote {result['rows']} applications to {out} (default rate "
            f"{result['default_rate']:.4f}, ground truth {result['ground_truth']})"
        )


def _industry_product_codes() -> tuple[str, ...]:
    try:
        catalog = load_catalog(DEFAULT_CATALOG_DIR)
    except (CatalogError, LprError) as exc:
        raise UserError(str(exc)) from exc
    return tuple(sorted({p.code for p in catalog.products if Sector.INDUSTRY in p.sectors}))


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(model_group)
