"""The content of a carbon credit report: what it says, independent of how it is laid out.

:func:`build_report_content` checks a stored account (the JSON of
:func:`accounting.account.account_to_dict`) and assembles it with the monthly series, the alerts
and the indicative product terms into a frozen :class:`ReportContent`.
:meth:`ReportContent.to_dict` is the report's data as JSON-ready values: the PDF shows it and
carries it, byte for byte, as its signed JSON attachment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from accounting.emissions import SCOPE2_TYPES
from accounting.energy import FUELS, EnergyType
from reports.i18n import Lang
from reports.offers import Offer

REPORT_FORMAT = "finance-engine/carbon-credit-report@1"
"""Format tag of the report data (the JSON attachment)."""

METHODOLOGY_VERSION = "GB/T 32150-2015 + MEE guides; ZJ carbon-efficiency code; QZ three dimensions"
"""What the emissions and grades follow (the versions of the data sit beside it)."""

ATTACHMENT_NAME = "carbon-credit-report.json"
"""File name of the report data embedded in the PDF."""


class ReportDataError(ValueError):
    """The account or another input lacks something the report needs; names the field."""


@dataclass(frozen=True)
class ReportMeta:
    """Who issued the report, when, and how to check it."""

    report_number: str
    verification_code: str
    issued_at: datetime
    """Timezone-aware issue time."""
    valid_until: date
    """Last day the report is valid (inclusive)."""
    issuer: str
    verify_url: str
    """Full verification address, ending with the verification code."""
    lang: Lang
    signer_name: str
    """Common name of the signing certificate."""
    development: bool = False
    """True when signed with a development certificate (shown on every page)."""

    def __post_init__(self) -> None:
        if self.issued_at.tzinfo is None:
            raise ReportDataError("issued_at: must be timezone-aware")
        if self.valid_until < self.issued_at.date():
            raise ReportDataError("valid_until: precedes the issue date")


@dataclass(frozen=True)
class MonthlyEmissions:
    """Emissions of one calendar month from metered energy, tCO2e."""

    month: str
    """``YYYY-MM``."""
    emissions_tco2e: float


@dataclass(frozen=True)
class MonthlySeries:
    """The monthly trend, or why there is none."""

    months: tuple[MonthlyEmissions, ...]
    declared_tco2e: float = 0.0
    """Emissions of declared (not metered) energy, which cannot be split by month."""

    @property
    def available(self) -> bool:
        """True when at least one month of metered data exists."""
        return bool(self.months)


@dataclass(frozen=True)
class AlertLine:
    """An alert shown in the report."""

    started_at: str
    """Local start of the flagged interval, ISO 8601 with offset."""
    kind: str
    severity: str
    meter: str
    message: str
    status: str


@dataclass(frozen=True)
class Versions:
    """Every version the report's figures depend on."""

    factor_set: str
    factor_set_sha256: str
    benchmark: str
    grading: str
    catalog: str
    lpr: str
    methodology: str = METHODOLOGY_VERSION
    report_format: str = REPORT_FORMAT


@dataclass(frozen=True)
class ReportContent:
    """Everything a report shows. Build with :func:`build_report_content`."""

    meta: ReportMeta
    account: Mapping[str, Any]
    monthly: MonthlySeries
    alerts: tuple[AlertLine, ...]
    offers: tuple[Offer, ...]
    base_limit_yuan: Decimal
    versions: Versions

    @property
    def entity(self) -> Mapping[str, Any]:
        """The borrower (id, name, sector, industry_code, region)."""
        entity: Mapping[str, Any] = self.account["entity"]
        return entity

    @property
    def grade(self) -> Mapping[str, Any]:
        """The account's grade block."""
        grade: Mapping[str, Any] = self.account["grade"]
        return grade

    def summary(self) -> dict[str, Any]:
        """Headline figures: grade, score, intensity beside benchmark, year-on-year change."""
        a, g = self.account, self.grade
        intensity = a["intensity"]
        bench = a.get("benchmark") or {}
        value, previous = intensity.get("value"), a.get("previous_intensity")
        return {
            "colour": g.get("colour"),
            "colour_zh": g.get("colour_zh"),
            "carbon_score": g.get("score"),
            "carbon_efficiency_grade": g.get("carbon_efficiency"),
            "carbon_label": g.get("carbon_label"),
            "k": g.get("k"),
            "provisional": bool(g.get("provisional")),
            "intensity": value,
            "intensity_unit": intensity.get("unit", ""),
            "intensity_metric": intensity.get("metric", ""),
            "benchmark": bench.get("value"),
            "benchmark_source": bench.get("source"),
            "regional_intensity": a.get("regional_intensity"),
            "previous_intensity": previous,
            "yoy_change_pct": yoy_change_pct(value, previous),
        }

    def emissions_rows(self) -> list[dict[str, Any]]:
        """Emissions per source with scope and share of the gross total, largest first.

        Sources are the energy types, plus the non-energy lines of sector accounts
        (``by_source``: ``enteric_ch4:pig``..., sinks negative, listed last without a share).
        """
        em = self.account["emissions_tco2e"]
        by_source: Mapping[str, float] = em.get("by_source") or em["by_energy"]
        total = float(em["total"]) or 1.0
        rows = [
            {
                "source": key,
                "scope": energy_scope(key, float(value)),
                "emissions_tco2e": float(value),
                "share": float(value) / total if value >= 0 else None,
            }
            for key, value in by_source.items()
        ]
        return sorted(
            rows, key=lambda r: (r["emissions_tco2e"] < 0, -abs(r["emissions_tco2e"]), r["source"])
        )

    def to_dict(self) -> dict[str, Any]:
        """The report data as JSON-ready values (the signed attachment)."""
        m, em = self.meta, self.account["emissions_tco2e"]
        return {
            "format": REPORT_FORMAT,
            "report": {
                "number": m.report_number,
                "verification_code": m.verification_code,
                "issued_at": m.issued_at.isoformat(),
                "valid_until": m.valid_until.isoformat(),
                "issuer": m.issuer,
                "signer": m.signer_name,
                "development": m.development,
                "verify_url": m.verify_url,
                "lang": m.lang.value,
            },
            "borrower": dict(self.entity),
            "period": dict(self.account["period"]),
            "summary": self.summary(),
            "emissions": {
                "total_tco2e": em["total"],
                "scope1_tco2e": em["scope1"],
                "scope2_tco2e": em["scope2"],
                "net_tco2e": em.get("net"),
                "by_source": self.emissions_rows(),
            },
            "monthly": {
                "available": self.monthly.available,
                "declared_tco2e": self.monthly.declared_tco2e,
                "months": [
                    {"month": x.month, "emissions_tco2e": x.emissions_tco2e}
                    for x in self.monthly.months
                ],
            },
            "dimensions": self.grade.get("dimensions", {}),
            "reasons": self.grade.get("reasons", []),
            "data_quality": dict(self.account["data_quality"]),
            "alerts": [asdict(a) for a in self.alerts],
            "products": {
                "base_limit_yuan": str(self.base_limit_yuan),
                "offers": [o.to_dict() for o in self.offers],
            },
            "versions": asdict(self.versions),
            "account": dict(self.account),
        }


def yoy_change_pct(current: float | None, previous: float | None) -> float | None:
    """Year-on-year change of intensity, percent (negative = fell); None when unknown."""
    if current is None or previous is None or previous == 0:
        return None
    return (current - previous) / previous * 100.0


def energy_scope(source: str, tco2e: float = 0.0) -> str:
    """``scope1`` (fuels burnt on site, non-energy emissions), ``scope2`` (purchased power, heat,
    steam), ``sink`` (a removal, negative) or ``none`` (zero-carbon renewables)."""
    try:
        etype = EnergyType(source)
    except ValueError:
        return "sink" if tco2e < 0 else "scope1"
    if etype in FUELS:
        return "scope1"
    return "scope2" if etype in SCOPE2_TYPES else "none"


_REQUIRED: tuple[tuple[str, ...], ...] = (
    ("entity", "id"),
    ("entity", "name"),
    ("entity", "sector"),
    ("period", "start"),
    ("period", "end"),
    ("emissions_tco2e", "total"),
    ("emissions_tco2e", "scope1"),
    ("emissions_tco2e", "scope2"),
    ("emissions_tco2e", "by_energy"),
    ("intensity", "unit"),
    ("grade",),
    ("data_quality", "completeness"),
    ("data_quality", "tier"),
    ("data_quality", "metered"),
    ("factor_set",),
)


def check_account(account: Mapping[str, Any]) -> None:
    """Raise :class:`ReportDataError` naming the first field a report needs that is missing."""
    for path in _REQUIRED:
        node: Any = account
        for depth, key in enumerate(path):
            if not isinstance(node, Mapping) or key not in node:
                raise ReportDataError(f"account.{'.'.join(path[: depth + 1])}: missing")
            node = node[key]


def build_report_content(
    account: Mapping[str, Any],
    *,
    meta: ReportMeta,
    monthly: MonthlySeries,
    alerts: Sequence[AlertLine],
    offers: Sequence[Offer],
    base_limit_yuan: Decimal,
    catalog_version: str,
    lpr_version: str,
) -> ReportContent:
    """Check ``account`` and assemble a report's content.

    Parameters
    ----------
    account
        A stored account as :func:`accounting.account.account_to_dict` renders it.
    base_limit_yuan
        The base credit limit the indicative limits multiply, yuan.
    catalog_version, lpr_version
        Versions of the product catalog (its digest) and the LPR history used for the offers.

    Raises
    ------
    ReportDataError
        Naming the missing or invalid field.
    """
    check_account(account)
    if base_limit_yuan <= 0:
        raise ReportDataError("base_limit_yuan: must be positive")
    bench = account.get("benchmark") or {}
    versions = Versions(
        factor_set=str(account["factor_set"]),
        factor_set_sha256=str(account.get("factor_set_sha256", "")),
        benchmark=str(bench.get("version", "")),
        grading=str(account.get("grading_version", "")),
        catalog=catalog_version,
        lpr=lpr_version,
    )
    return ReportContent(
        meta=meta,
        account=account,
        monthly=monthly,
        alerts=tuple(alerts),
        offers=tuple(offers),
        base_limit_yuan=base_limit_yuan,
        versions=versions,
    )
