"""The low-carbon loan product catalog: product definitions as validated data plus a loader.

Imports only :mod:`accounting` (see the import-linter contracts in ``pyproject.toml``). The public
API is re-exported here; ``docs/products.md`` describes the product file format.
"""

from products.catalog import DEFAULT_CATALOG_DIR, Catalog, UnknownProductError, load_catalog
from products.errors import CatalogError, CatalogIssue
from products.lpr import DEFAULT_LPR_PATH, LprError, LprHistory, load_lpr, lpr_on
from products.model import MAX_LIMIT_MULTIPLIER, GradeBasis, Metric, Policy, Product, Terms

__all__ = [
    "DEFAULT_CATALOG_DIR",
    "DEFAULT_LPR_PATH",
    "MAX_LIMIT_MULTIPLIER",
    "Catalog",
    "CatalogError",
    "CatalogIssue",
    "GradeBasis",
    "LprError",
    "LprHistory",
    "Metric",
    "Policy",
    "Product",
    "Terms",
    "UnknownProductError",
    "load_catalog",
    "load_lpr",
    "lpr_on",
]
