"""Load a directory of product files into a validated :class:`Catalog`.

Layout: one JSON file per lender (``<lender-code>.json``), each holding a header (format,
``illustrative`` flag, disclaimer, lender) and the lender's products, every version of a product
being its own entry. ``docs/products.md`` describes every field. Loading collects every problem
(schema, cross-field rules, cross-product rules) and raises one :class:`CatalogError` listing them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from marshmallow import ValidationError

from accounting.vocab import Sector
from products.documents import build_product
from products.errors import CatalogError, CatalogIssue
from products.lpr import LprHistory, default_lpr_history
from products.model import Lender, Product
from products.rules import check_product, check_versions, product_label
from products.schema import CatalogFileSchema, ProductSchema, flatten_messages

DEFAULT_CATALOG_DIR = Path(__file__).parent / "data" / "catalog"
"""The packaged (illustrative) product catalog."""

__all__ = [
    "DEFAULT_CATALOG_DIR",
    "Catalog",
    "CatalogError",
    "CatalogIssue",
    "UnknownProductError",
    "catalog_from_documents",
    "load_catalog",
]


class UnknownProductError(LookupError):
    """No product with that code, or no version of it in force on the date asked."""


@dataclass(frozen=True)
class Catalog:
    """Validated product versions, sorted by code then version."""

    products: tuple[Product, ...]
    lpr: LprHistory
    """The LPR history the floor rule was checked against (and reference rates use)."""
    digest: str = ""
    """SHA-256 of the catalog files (names and bytes), for decision logs."""
    _by_code: dict[str, tuple[Product, ...]] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        by_code: dict[str, list[Product]] = {}
        for product in sorted(self.products, key=lambda p: (p.code, p.version)):
            by_code.setdefault(product.code, []).append(product)
        object.__setattr__(self, "_by_code", {k: tuple(v) for k, v in by_code.items()})

    def codes(self) -> tuple[str, ...]:
        """Every product code, sorted."""
        return tuple(self._by_code)

    def versions(self, code: str) -> tuple[Product, ...]:
        """Every version of ``code``, oldest first (empty when unknown)."""
        return self._by_code.get(code, ())

    def get(self, code: str, on: date | None = None) -> Product:
        """The version of ``code`` in force on ``on``, or its latest version when ``on`` is None.

        Raises
        ------
        UnknownProductError
            If the code is unknown or no version is in force on ``on``.
        """
        versions = self.versions(code)
        if not versions:
            raise UnknownProductError(f"unknown product code {code!r}")
        if on is None:
            return versions[-1]
        for product in versions:
            if product.effective_on(on):
                return product
        spans = ", ".join(
            f"v{p.version} {p.effective_from}..{p.effective_to or 'open'}" for p in versions
        )
        raise UnknownProductError(f"product {code} has no version in force on {on} ({spans})")

    def effective_on(self, on: date) -> tuple[Product, ...]:
        """Every product version in force on ``on``, by code."""
        return tuple(
            p for versions in self._by_code.values() for p in versions if p.effective_on(on)
        )

    def for_sector(self, sector: Sector | str, on: date) -> tuple[Product, ...]:
        """Products in force on ``on`` that serve ``sector``, by code."""
        wanted = Sector(sector)
        return tuple(p for p in self.effective_on(on) if wanted in p.sectors)

    def for_lender(self, lender_code: str, on: date | None = None) -> tuple[Product, ...]:
        """A lender's products (all versions, or those in force on ``on``), by code."""
        pool = self.products if on is None else self.effective_on(on)
        return tuple(p for p in pool if p.lender.code == lender_code)

    def lenders(self) -> tuple[Lender, ...]:
        """Every lender with a product in the catalog, by code."""
        return tuple(sorted({p.lender for p in self.products}, key=lambda lender: lender.code))


def load_catalog(
    path: Path | str = DEFAULT_CATALOG_DIR, *, lpr: LprHistory | None = None
) -> Catalog:
    """Load and validate every ``*.json`` product file in a directory (or one file).

    Parameters
    ----------
    path
        A catalog directory or a single product file.
    lpr
        LPR history for the floor rule; the packaged history when None.

    Raises
    ------
    CatalogError
        Listing every problem found, each naming file, product and field.
    """
    path = Path(path)
    files = _catalog_files(path)
    if not files:
        issue = CatalogIssue(str(path), None, "(directory)", "no product files (*.json)")
        raise CatalogError([issue], str(path))
    documents: dict[str, Any] = {}
    unreadable: list[CatalogIssue] = []
    for file in files:
        name = file.name if path.is_dir() else str(file)
        try:
            documents[name] = json.loads(file.read_text(encoding="utf-8"), parse_float=Decimal)
        except OSError as exc:
            unreadable.append(CatalogIssue(name, None, "(file)", f"cannot read: {exc.strerror}"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            unreadable.append(CatalogIssue(name, None, "(file)", f"invalid JSON: {exc}"))
    return catalog_from_documents(
        documents, lpr=lpr, directory=str(path), digest=_digest(files), prior_issues=unreadable
    )


def catalog_from_documents(
    documents: Mapping[str, Any],
    *,
    lpr: LprHistory | None = None,
    directory: str = "",
    digest: str = "",
    prior_issues: Sequence[CatalogIssue] = (),
) -> Catalog:
    """Validate already-parsed product files (name -> JSON document) into a :class:`Catalog`.

    Numbers in the documents should be ``Decimal`` or ``int`` (parse JSON with
    ``parse_float=Decimal``); ``prior_issues`` (e.g. unreadable files) are reported with the rest.

    Raises
    ------
    CatalogError
        Listing every problem found, each naming file, product and field.
    """
    history = lpr or default_lpr_history()
    products: list[Product] = []
    issues = list(prior_issues)
    for name, raw in documents.items():
        loaded, problems = _load_document(raw, name, history)
        products.extend(loaded)
        issues.extend(problems)
    issues.extend(check_versions(products))
    if issues:
        raise CatalogError(issues, directory)
    ordered = tuple(sorted(products, key=lambda p: (p.code, p.version)))
    return Catalog(products=ordered, lpr=history, digest=digest)


def _catalog_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(path.glob("*.json"))
    return [path] if path.exists() else []


def _digest(files: list[Path]) -> str:
    sha = hashlib.sha256()
    for file in files:
        try:
            sha.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
        except OSError:
            sha.update(file.name.encode() + b"\0unreadable\0")
    return sha.hexdigest()


def _load_document(
    raw: Any, name: str, lpr: LprHistory
) -> tuple[list[Product], list[CatalogIssue]]:
    if not isinstance(raw, dict):
        return [], [CatalogIssue(name, None, "(file)", "must hold a JSON object")]
    issues: list[CatalogIssue] = []
    try:
        header = CatalogFileSchema().load(raw)
    except ValidationError as exc:
        issues += [CatalogIssue(name, None, f, m) for f, m in flatten_messages(exc.messages)]
        header = exc.valid_data if isinstance(exc.valid_data, dict) else {}
    lender = _lender(header.get("lender"))
    items = raw.get("products")
    products: list[Product] = []
    for index, item in enumerate(items if isinstance(items, list) else []):
        product, problems = _load_product(item, index, name, lender, raw.get("illustrative"), lpr)
        issues += problems
        if product is not None:
            products.append(product)
    return products, issues


def _lender(data: Any) -> Lender:
    """The file's lender, or a placeholder when the header was invalid (products still checked)."""
    if isinstance(data, dict) and {"code", "name_zh", "name_en"} <= data.keys():
        return Lender(code=data["code"], name_zh=data["name_zh"], name_en=data["name_en"])
    return Lender(code="?", name_zh="?", name_en="?")


def _load_product(
    item: Any, index: int, name: str, lender: Lender, illustrative: Any, lpr: LprHistory
) -> tuple[Product | None, list[CatalogIssue]]:
    label = _raw_label(item, index)
    if not isinstance(item, dict):
        return None, [CatalogIssue(name, label, "(product)", "must be a JSON object")]
    try:
        data = ProductSchema().load(item)
    except ValidationError as exc:
        return None, [CatalogIssue(name, label, f, m) for f, m in flatten_messages(exc.messages)]
    product = build_product(data, lender, name, illustrative is not False)
    label = product_label(product)
    return product, [CatalogIssue(name, label, f, m) for f, m in check_product(product, lpr)]


def _raw_label(item: Any, index: int) -> str:
    code = item.get("code") if isinstance(item, dict) else None
    version = item.get("version") if isinstance(item, dict) else None
    if isinstance(code, str) and code:
        return f"{code} v{version}" if isinstance(version, int) else code
    return f"products[{index}]"
