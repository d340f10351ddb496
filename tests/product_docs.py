"""Builders for small product documents: one valid product, changed field by field in tests.

A plain module (not conftest) so tests can import the helpers by name; it sits in ``tests/``,
which pytest puts on ``sys.path`` for the root ``conftest.py``, so every test folder can.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

Document = dict[str, Any]


def valid_product(**changes: Any) -> Document:
    """A valid product: 1y LPR + 100 bp, floor 3.00%, largest discount 50 + 10 = 60 bp.

    Dark green 1.5× / 50 bp, light green 1.2× / 20 bp; +10 bp when intensity fell >= 5%;
    100,000 to 1,000,000 yuan; industries B06 and C3011 excluded. From 2025-06-01 the 1y LPR
    is 3.00%, so the lowest rate is 3.00 + 1.00 - 0.60 = 3.40%.
    """
    product: Document = {
        "code": "TEST-LOAN",
        "version": 1,
        "name_zh": "测试贷",
        "name_en": "Test loan",
        "sectors": ["industry"],
        "purpose": "Testing.",
        "min_amount_yuan": "100000.00",
        "max_amount_yuan": "1000000.00",
        "min_term_months": 6,
        "max_term_months": 36,
        "rate": {"lpr_tenor": "1y", "spread_bp": 100, "floor_rate_pct": "3.00"},
        "grade_basis": "colour",
        "grade_table": {
            "dark_green": {"limit_multiplier": "1.50", "rate_discount_bp": 50},
            "light_green": {"limit_multiplier": "1.20", "rate_discount_bp": 20},
        },
        "adjustments": [
            {
                "code": "YOY-CUT-5",
                "description": "Intensity fell at least 5% year on year",
                "condition": {"metric": "intensity_cut_yoy_pct", "op": ">=", "value": "5"},
                "discount_bp": 10,
            }
        ],
        "eligibility": {
            "minimum_grade": "light_green",
            "provisional_grade": "refer",
            "open_critical_alerts": "decline",
            "excluded_industries": ["B06", "C3011"],
            "max_pd": "0.05",
            "max_quality_tier": 3,
        },
        "cerf_eligible": False,
        "effective_from": "2025-06-01",
        "effective_to": None,
        "source": "Test fixture.",
    }
    product.update(copy.deepcopy(changes))
    return product


def valid_document(*products: Document, lender: str = "test-bank") -> Document:
    """A product file holding ``products`` (one valid product when none are given)."""
    return {
        "format": "finance-engine/product-catalog@1",
        "illustrative": True,
        "disclaimer": "Test data.",
        "lender": {"code": lender, "name_zh": "测试银行", "name_en": "Test Bank"},
        "products": list(products) or [valid_product()],
    }


def as_parsed(document: Document) -> Document:
    """``document`` as :func:`json.loads` with ``parse_float=Decimal`` would return it."""
    parsed: Document = json.loads(json.dumps(document), parse_float=Decimal)
    return parsed


def write_catalog(directory: Path, files: dict[str, Document]) -> Path:
    """Write ``files`` (name -> document) as JSON into ``directory`` and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, document in files.items():
        (directory / name).write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return directory
