"""CLI commands: ``products list | show | validate`` over the low-carbon loan product catalog."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from accounting.vocab import Sector
from finance_engine.cli.common import UserError, echo_json, get_context, json_option
from products.catalog import (
    DEFAULT_CATALOG_DIR,
    Catalog,
    CatalogError,
    UnknownProductError,
    load_catalog,
)
from products.documents import product_document
from products.lpr import LprError
from products.model import BP_PER_PERCENT, Product

catalog_option = click.option(
    "--catalog",
    "catalog_dir",
    type=click.Path(path_type=Path),
    default=DEFAULT_CATALOG_DIR,
    show_default="the packaged illustrative catalog",
    help="Directory of product files.",
)
on_option = click.option(
    "--on",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Date (YYYY-MM-DD) the products must be in force on.",
)


def _load(catalog_dir: Path) -> Catalog:
    try:
        return load_catalog(catalog_dir)
    except (CatalogError, LprError) as exc:
        raise UserError(str(exc)) from exc


def _today() -> date:
    return datetime.now(ZoneInfo(get_context().settings.timezone)).date()


def _rate_text(product: Product) -> str:
    rate = product.rate
    return f"{rate.lpr_tenor.value} LPR {rate.spread_bp:+d} bp, floor {rate.floor_rate_pct}%"


def product_summary(product: Product, catalog: Catalog, on: date) -> dict[str, Any]:
    """The one-line view of a product version with its rates, percent, on ``on`` (clamped into
    the version's effective range)."""
    day = max(on, product.effective_from)
    if product.effective_to is not None:
        day = min(day, product.effective_to)
    lpr_pct = catalog.lpr.rate_pct(day, product.rate.lpr_tenor)
    reference_pct = product.reference_rate_pct(lpr_pct)
    lowest_pct = reference_pct - Decimal(product.largest_discount_bp) / BP_PER_PERCENT
    return {
        "code": product.code,
        "version": product.version,
        "name_zh": product.name_zh,
        "name_en": product.name_en,
        "lender": product.lender.code,
        "sectors": [sector.value for sector in product.sectors],
        "grade_basis": product.grade_basis.value,
        "max_limit_multiplier": product.max_limit_multiplier,
        "largest_discount_bp": product.largest_discount_bp,
        "lpr_tenor": product.rate.lpr_tenor.value,
        "spread_bp": product.rate.spread_bp,
        "floor_rate_pct": product.rate.floor_rate_pct,
        "reference_rate_pct": reference_pct,
        "lowest_rate_pct": max(lowest_pct, product.rate.floor_rate_pct),
        "cerf_eligible": product.cerf_eligible,
        "effective_from": product.effective_from,
        "effective_to": product.effective_to,
        "illustrative": product.illustrative,
    }


@click.group("products")
def products_group() -> None:
    """The low-carbon loan product catalog (illustrative products modelled on public reports)."""


@products_group.command("list")
@click.option("--sector", type=click.Choice([sector.value for sector in Sector]), default=None)
@click.option("--lender", default=None, help="Lender code, e.g. icbc-quzhou.")
@on_option
@click.option("--all-versions", is_flag=True, help="Every version, whatever its dates.")
@catalog_option
@json_option
def list_command(
    sector: str | None,
    lender: str | None,
    on: datetime | None,
    all_versions: bool,
    catalog_dir: Path,
    as_json: bool,
) -> None:
    """List products in force today (or --on DATE), optionally by sector and lender."""
    catalog = _load(catalog_dir)
    day = on.date() if on else _today()
    chosen = catalog.products if all_versions else catalog.effective_on(day)
    if sector:
        chosen = tuple(p for p in chosen if Sector(sector) in p.sectors)
    if lender:
        chosen = tuple(p for p in chosen if p.lender.code == lender.lower())
    rows = [product_summary(product, catalog, day) for product in chosen]
    if as_json:
        echo_json({"on": None if all_versions else day, "count": len(rows), "products": rows})
        return
    for row in rows:
        click.echo(
            f"{row['code']:<18} v{row['version']:<2} {row['lender']:<15} "
            f"{','.join(row['sectors']):<26} x{row['max_limit_multiplier']:<5} "
            f"{'-' + str(row['largest_discount_bp']):>5} bp  {row['name_en']}"
        )
    click.echo(f"{len(rows)} product version(s)" + ("" if all_versions else f" in force on {day}"))


@products_group.command("show")
@click.argument("code")
@on_option
@click.option("--version", "version", type=int, default=None, help="A version number.")
@catalog_option
@json_option
def show_command(
    code: str, on: datetime | None, version: int | None, catalog_dir: Path, as_json: bool
) -> None:
    """Show one product: the version in force --on DATE, --version N, or the latest."""
    catalog = _load(catalog_dir)
    product = _pick(catalog, code.upper(), on.date() if on else None, version)
    day = on.date() if on else max(_today(), product.effective_from)
    detail = {
        **product_summary(product, catalog, day),
        **product_document(product),
        "version_id": product.version_id,
        "lender": {
            "code": product.lender.code,
            "name_zh": product.lender.name_zh,
            "name_en": product.lender.name_en,
        },
        "source_file": product.source_file,
        "rates_on": day,
    }
    if as_json:
        echo_json(detail)
    else:
        _echo_product(product, detail)


def _pick(catalog: Catalog, code: str, on: date | None, version: int | None) -> Product:
    try:
        product = catalog.get(code, on)
    except UnknownProductError as exc:
        raise UserError(str(exc)) from exc
    if version is None:
        return product
    for candidate in catalog.versions(code):
        if candidate.version == version:
            return candidate
    raise UserError(f"product {code} has no version {version}")


def _echo_product(product: Product, detail: dict[str, Any]) -> None:
    until = product.effective_to or "open"
    click.echo(f"{product.version_id}  {product.name_zh} / {product.name_en}")
    click.echo(f"lender:      {product.lender.name_en} ({product.lender.code})")
    click.echo(f"sectors:     {', '.join(detail['sectors'])}")
    click.echo(f"purpose:     {product.purpose}")
    click.echo(f"amount:      {product.min_amount_yuan} - {product.max_amount_yuan} yuan")
    click.echo(f"term:        {product.min_term_months} - {product.max_term_months} months")
    click.echo(f"pricing:     {_rate_text(product)}; reference {detail['reference_rate_pct']}%")
    click.echo(f"in force:    {product.effective_from} .. {until}")
    click.echo(f"grades ({product.grade_basis.value}):")
    for row in product.grade_table:
        click.echo(f"  {row.grade:<12} x{row.limit_multiplier:<5} -{row.rate_discount_bp} bp")
    for adjustment in product.adjustments:
        condition = adjustment.condition
        click.echo(
            f"  adjustment {adjustment.code}: -{adjustment.discount_bp} bp when "
            f"{condition.metric.value} {condition.op.value} {condition.value}"
        )
    rules = product.eligibility
    click.echo(
        f"eligibility: minimum grade {rules.minimum_grade}; provisional grade "
        f"{rules.provisional_grade.value}; open critical alerts {rules.open_critical_alerts.value};"
        f" max PD {rules.max_pd}; quality tier <= {rules.max_quality_tier}; excluded "
        f"industries {', '.join(rules.excluded_industries) or 'none'}"
    )
    click.echo(f"CERF:        {product.cerf_category.value if product.cerf_category else 'no'}")
    click.echo(f"source:      {product.source}")
    if product.illustrative:
        click.echo("illustrative: modelled on public reports, not the bank's actual terms")


@products_group.command("validate")
@click.argument("directory", type=click.Path(path_type=Path), default=DEFAULT_CATALOG_DIR)
@json_option
def validate_command(directory: Path, as_json: bool) -> None:
    """Validate a directory of product files (default: the packaged catalog); exit 2 if invalid."""
    try:
        catalog = load_catalog(directory)
    except CatalogError as exc:
        if as_json:
            issues = [issue.as_dict() for issue in exc.issues]
            echo_json({"valid": False, "directory": directory, "errors": issues})
            plural = "s" if len(issues) != 1 else ""
            raise UserError(
                f"product catalog {directory} is invalid ({len(issues)} error{plural})"
            ) from exc
        raise UserError(str(exc)) from exc
    except LprError as exc:
        raise UserError(str(exc)) from exc
    result = {
        "valid": True,
        "directory": directory,
        "products": len(catalog.codes()),
        "versions": len(catalog.products),
        "lenders": len(catalog.lenders()),
        "digest": catalog.digest,
        "errors": [],
    }
    if as_json:
        echo_json(result)
    else:
        click.echo(
            f"{result['products']} products valid ({result['versions']} versions from "
            f"{result['lenders']} lenders) in {directory}"
        )


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(products_group)
