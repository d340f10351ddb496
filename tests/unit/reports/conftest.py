"""Fixtures for report tests: an example account, the CJK font, a development signer, poppler.

Tools that are missing (the CJK font, poppler-utils) skip their tests with a visible reason
outside CI; under CI (``CI=true``) a missing tool fails, so these tests can never silently vanish.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from report_helpers import (
    CODE,
    EXAMPLE,
    ISSUED,
    VERIFY_URL,
    ContentFactory,
    missing,
    sample_offer,
    twelve_months,
)

from accounting.account import account_to_dict
from accounting.calc import parse_calc_document, run_calc
from accounting.factors import (
    DEFAULT_FACTOR_SET_DIR,
    FactorSet,
    FactorSetRegistry,
    load_factor_set_dir,
)
from accounting.grading import load_grading_config
from reports import (
    AlertLine,
    DevPki,
    FontError,
    Lang,
    ReportContent,
    ReportMeta,
    ReportSigner,
    build_report_content,
    generate_dev_pki,
    locate_cjk_font,
    register_font,
)


@pytest.fixture(scope="session")
def registry() -> FactorSetRegistry:
    return FactorSetRegistry(list(load_factor_set_dir(DEFAULT_FACTOR_SET_DIR)))


@pytest.fixture(scope="session")
def cn2023(registry: FactorSetRegistry) -> FactorSet:
    return registry.get("CN-2023")


@pytest.fixture(scope="session")
def example_account(registry: FactorSetRegistry) -> dict[str, Any]:
    """The account of examples/industry.json as stored (JSON types only)."""
    doc = parse_calc_document(EXAMPLE.read_text(encoding="utf-8"))
    result = run_calc(doc, registry, load_grading_config())
    account: dict[str, Any] = json.loads(json.dumps(account_to_dict(result)))
    return account


@pytest.fixture(scope="session")
def font() -> str:
    """The CJK font registered with ReportLab."""
    try:
        return register_font(locate_cjk_font())
    except FontError as exc:
        missing(f"a CJK font ({exc})")
        raise


@pytest.fixture(scope="session")
def dev_pki() -> DevPki:
    return generate_dev_pki(datetime.now(UTC))


@pytest.fixture(scope="session")
def signer(dev_pki: DevPki) -> ReportSigner:
    return ReportSigner.from_pem(dev_pki.signer_key_pem, dev_pki.signer_cert_pem)


@pytest.fixture(scope="session")
def make_content(example_account: dict[str, Any], signer: ReportSigner) -> ContentFactory:
    """Build report content for the example account; keyword arguments override parts."""

    def make(lang: Lang = Lang.BILINGUAL, **changes: Any) -> ReportContent:
        meta = ReportMeta(
            report_number="CCR-20250701-TEST0001",
            verification_code=CODE,
            issued_at=ISSUED,
            valid_until=date(2025, 9, 29),
            issuer="衢州碳账户金融服务平台 (synthetic)",
            verify_url=VERIFY_URL,
            lang=lang,
            signer_name=signer.common_name,
            development=signer.development,
        )
        parts: dict[str, Any] = {
            "meta": meta,
            "monthly": twelve_months(),
            "alerts": [
                AlertLine(
                    "2023-05-03T10:15:00+08:00",
                    "over_consumption",
                    "warning",
                    "E-MAIN",
                    "usage 3.1x the same-slot baseline",
                    "open",
                )
            ],
            "offers": [sample_offer()],
            "base_limit_yuan": Decimal("1000000"),
            "catalog_version": "0" * 64,
            "lpr_version": "2026-01-20",
        }
        parts.update(changes)
        account = parts.pop("account", example_account)
        return build_report_content(account, **parts)

    return make
