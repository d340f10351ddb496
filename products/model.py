"""Product definitions as frozen values: grade tables, adjustments, eligibility rules, pricing.

Everything here is pure: a :class:`Product` is built by the loader (:mod:`products.catalog`) from a
validated data file, and its methods turn a borrower's grade and metrics into catalog terms
(limit multiplier, rate discount). Caps are enforced twice: the loader refuses a file that breaks
them, and the dataclasses refuse to be built with values that break them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from accounting.vocab import CARBON_EFFICIENCY_GRADES, QUALITY_TIERS, Colour, Sector

MAX_LIMIT_MULTIPLIER = Decimal("1.5")
"""Hard cap on any credit-limit multiplier. Not configurable: data files cannot raise it."""

BP_PER_PERCENT = Decimal(100)
"""Basis points in one percentage point."""


class GradeBasis(StrEnum):
    """Which grade scale a product's grade table is keyed by (every scale lists its best first)."""

    COLOUR = "colour"
    """Quzhou four colours: dark_green, light_green, yellow, red."""
    CARBON_EFFICIENCY = "carbon_efficiency"
    """Zhejiang carbon-efficiency grade "1" (best) to "5" (worst)."""
    RESIDENT_LEVEL = "resident_level"
    """Personal carbon-account level "1" (best) to "5" (worst)."""

    @property
    def grades(self) -> tuple[str, ...]:
        """The grades of this scale, best first."""
        return GRADES[self]

    def rank(self, grade: str) -> int:
        """1 for the best grade of this scale, rising for worse grades.

        Raises
        ------
        ValueError
            If ``grade`` is not a grade of this scale.
        """
        try:
            return self.grades.index(grade) + 1
        except ValueError:
            allowed = ", ".join(self.grades)
            raise ValueError(f"grade {grade!r} is not a {self.value} grade ({allowed})") from None


GRADES: dict[GradeBasis, tuple[str, ...]] = {
    GradeBasis.COLOUR: tuple(colour.value for colour in Colour),
    GradeBasis.CARBON_EFFICIENCY: tuple(str(grade) for grade in CARBON_EFFICIENCY_GRADES),
    GradeBasis.RESIDENT_LEVEL: ("1", "2", "3", "4", "5"),
}

BASIS_SECTORS: dict[GradeBasis, frozenset[Sector]] = {
    GradeBasis.COLOUR: frozenset(Sector) - {Sector.RESIDENT},
    GradeBasis.CARBON_EFFICIENCY: frozenset({Sector.INDUSTRY, Sector.ENERGY}),
    GradeBasis.RESIDENT_LEVEL: frozenset({Sector.RESIDENT}),
}
"""The sectors whose accounts carry each grade scale (residents have levels, not colours)."""


class LprTenor(StrEnum):
    """Loan Prime Rate tenor a product is priced off."""

    ONE_YEAR = "1y"
    """The 1-year LPR: reference for loans of up to five years (60 months)."""
    FIVE_YEAR = "5y"
    """The over-5-year LPR: reference for loans longer than five years (mortgages, projects)."""


MAX_ONE_YEAR_TENOR_TERM_MONTHS = 60
"""Products priced off the 1-year LPR may not run longer than this; longer ones use the 5-year."""


class Policy(StrEnum):
    """What an eligibility rule does when its condition is met."""

    ALLOW = "allow"
    REFER = "refer"
    """Send to a loan officer for manual review."""
    DECLINE = "decline"


class CerfCategory(StrEnum):
    """PBOC Carbon Emission Reduction Facility scope (domain.md section 4.1)."""

    CLEAN_ENERGY = "clean_energy"
    ENERGY_SAVING = "energy_saving_environmental"
    CARBON_REDUCTION_TECH = "carbon_reduction_technology"


class Metric(StrEnum):
    """Borrower metrics an adjustment condition may test (units in the names)."""

    INTENSITY_CUT_YOY_PCT = "intensity_cut_yoy_pct"
    """Year-on-year cut in carbon intensity, percent (5 means intensity fell 5%)."""
    EMISSIONS_CUT_TCO2E = "emissions_cut_tco2e"
    """Expected yearly emission cut of the financed project, tCO2e."""
    QUALITY_TIER = "quality_tier"
    """Data-quality tier of the account, 1 (best) to 5 (worst)."""
    COMPLETENESS_PCT = "completeness_pct"
    """Metered-data completeness of the account period, percent."""
    CARBON_POINTS = "carbon_points"
    """Personal carbon-account points."""
    GREEN_BUILDING_STARS = "green_building_stars"
    """China green-building label, 0 (basic) to 3 stars (GB/T 50378-2019)."""
    RENEWABLE_SHARE_PCT = "renewable_share_pct"
    """Share of the borrower's electricity that is renewable, percent."""
    CONSECUTIVE_GREEN_YEARS = "consecutive_green_years"
    """Consecutive years the account was graded green (dark or light), years."""


METRIC_RANGES: dict[Metric, tuple[Decimal, Decimal]] = {
    Metric.INTENSITY_CUT_YOY_PCT: (Decimal(-100), Decimal(100)),
    Metric.EMISSIONS_CUT_TCO2E: (Decimal(0), Decimal(10_000_000)),
    Metric.QUALITY_TIER: (Decimal(min(QUALITY_TIERS)), Decimal(max(QUALITY_TIERS))),
    Metric.COMPLETENESS_PCT: (Decimal(0), Decimal(100)),
    Metric.CARBON_POINTS: (Decimal(0), Decimal(1_000_000)),
    Metric.GREEN_BUILDING_STARS: (Decimal(0), Decimal(3)),
    Metric.RENEWABLE_SHARE_PCT: (Decimal(0), Decimal(100)),
    Metric.CONSECUTIVE_GREEN_YEARS: (Decimal(0), Decimal(50)),
}
"""Plausible threshold range of each metric; a condition value outside it is refused."""


class Op(StrEnum):
    """Comparison of an observed metric against a condition's threshold."""

    GE = ">="
    GT = ">"
    LE = "<="
    LT = "<"
    EQ = "=="


@dataclass(frozen=True)
class Condition:
    """``observed <op> value`` on one borrower metric."""

    metric: Metric
    op: Op
    value: Decimal

    def holds(self, observed: Decimal | int | None) -> bool:
        """Whether the observed value meets the condition; an unknown (None) value never does."""
        if observed is None:
            return False
        seen = Decimal(observed)
        return {
            Op.GE: seen >= self.value,
            Op.GT: seen > self.value,
            Op.LE: seen <= self.value,
            Op.LT: seen < self.value,
            Op.EQ: seen == self.value,
        }[self.op]


@dataclass(frozen=True)
class Adjustment:
    """An extra rate discount earned when a condition holds (stacks with the grade discount)."""

    code: str
    description: str
    condition: Condition
    discount_bp: int

    def __post_init__(self) -> None:
        if self.discount_bp < 0:
            raise ValueError(f"adjustment {self.code}: discount_bp must be >= 0")


@dataclass(frozen=True)
class GradeTerms:
    """The terms one grade earns: a credit-limit multiplier and a rate discount."""

    grade: str
    limit_multiplier: Decimal
    """Multiplier on the bank's base credit limit, in (0, 1.5]."""
    rate_discount_bp: int
    """Discount off the reference rate, basis points (>= 0)."""

    def __post_init__(self) -> None:
        if not Decimal(0) < self.limit_multiplier <= MAX_LIMIT_MULTIPLIER:
            raise ValueError(
                f"grade {self.grade}: limit_multiplier {self.limit_multiplier} "
                f"outside (0, {MAX_LIMIT_MULTIPLIER}]"
            )
        if self.rate_discount_bp < 0:
            raise ValueError(f"grade {self.grade}: rate_discount_bp must be >= 0")


@dataclass(frozen=True)
class RateReference:
    """How a product is priced: LPR of a tenor plus a spread, never below a floor."""

    lpr_tenor: LprTenor
    spread_bp: int
    """Spread over the LPR, basis points (may be negative, e.g. mortgages)."""
    floor_rate_pct: Decimal
    """Lowest rate the product may ever charge, percent a year."""


@dataclass(frozen=True)
class Eligibility:
    """Who may apply, and what happens on a provisional grade or open critical alerts."""

    minimum_grade: str
    """Worst grade still eligible (on the product's grade scale)."""
    provisional_grade: Policy
    """What to do when the borrower's grade is provisional (data below 90% completeness)."""
    open_critical_alerts: Policy
    """What to do when the borrower has at least one open critical alert."""
    excluded_industries: tuple[str, ...]
    """GB/T 4754-2017 code prefixes (section letter + 2-4 digits, e.g. "C31") not served."""
    max_pd: Decimal
    """Highest probability of default accepted, as a fraction in (0, 1]."""
    max_quality_tier: int
    """Worst data-quality tier accepted (1 best .. 5 worst)."""

    def excludes_industry(self, industry_code: str) -> bool:
        """Whether a GB/T 4754 code ("C3011" or "3011") falls under an excluded prefix.

        Divisions are numbered uniquely across sections, so matching is on the digits; an empty
        (unknown) code is never excluded here; the caller decides how to treat unknown codes.
        """
        digits = industry_code.strip().upper().lstrip("ABCDEFGHIJKLMNOPQRST")
        if not digits:
            return False
        return any(digits.startswith(prefix[1:]) for prefix in self.excluded_industries)


@dataclass(frozen=True)
class Lender:
    """The bank offering a product."""

    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class Terms:
    """Catalog terms for one borrower: the grade's multiplier and the total discount earned."""

    grade: str
    limit_multiplier: Decimal
    grade_discount_bp: int
    adjustment_discount_bp: int
    rate_discount_bp: int
    """Total discount after the product's cap, basis points."""
    adjustments_applied: tuple[str, ...]


@dataclass(frozen=True)
class Product:
    """One version of a low-carbon loan product."""

    code: str
    version: int
    name_zh: str
    name_en: str
    lender: Lender
    sectors: tuple[Sector, ...]
    purpose: str
    min_amount_yuan: Decimal
    max_amount_yuan: Decimal
    min_term_months: int
    max_term_months: int
    rate: RateReference
    grade_basis: GradeBasis
    grade_table: tuple[GradeTerms, ...]
    """Best grade first."""
    adjustments: tuple[Adjustment, ...]
    max_total_discount_bp: int | None
    """Cap on grade plus adjustment discounts, basis points; None means no cap."""
    eligibility: Eligibility
    cerf_eligible: bool
    cerf_category: CerfCategory | None
    effective_from: date
    effective_to: date | None
    """Last day in force (inclusive); None means open-ended."""
    source: str
    """What the product was modelled on (public reports), or the bank's document reference."""
    notes: str = ""
    illustrative: bool = True
    """True when the product is modelled on public reports, not a bank's actual terms."""
    source_file: str = ""

    @property
    def version_id(self) -> str:
        """``CODE@vN``: the identifier decision logs record."""
        return f"{self.code}@v{self.version}"

    @property
    def max_limit_multiplier(self) -> Decimal:
        """The largest multiplier any grade earns."""
        return max(terms.limit_multiplier for terms in self.grade_table)

    @property
    def largest_discount_bp(self) -> int:
        """The largest total discount possible: best grade plus every adjustment, capped."""
        grade_bp = max(terms.rate_discount_bp for terms in self.grade_table)
        total = grade_bp + sum(adjustment.discount_bp for adjustment in self.adjustments)
        if self.max_total_discount_bp is not None:
            total = min(total, self.max_total_discount_bp)
        return total

    def effective_on(self, on: date) -> bool:
        """Whether this version is in force on ``on``."""
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)

    def grade_terms(self, grade: str) -> GradeTerms | None:
        """The grade-table row of ``grade``, or None when the grade is not eligible."""
        for terms in self.grade_table:
            if terms.grade == grade:
                return terms
        return None

    def reference_rate_pct(self, lpr_pct: Decimal) -> Decimal:
        """The product's reference rate, percent, given the LPR of its tenor in percent."""
        return lpr_pct + Decimal(self.rate.spread_bp) / BP_PER_PERCENT

    def terms(self, grade: str, metrics: Mapping[str, Decimal | int | None]) -> Terms | None:
        """Catalog terms for a borrower of ``grade`` with the given metrics (keys: :class:`Metric`).

        Returns None when the grade is not in the table (not eligible). The discount is the
        grade's plus every adjustment whose condition holds, capped by ``max_total_discount_bp``.
        """
        row = self.grade_terms(grade)
        if row is None:
            return None
        applied = tuple(
            adjustment
            for adjustment in self.adjustments
            if adjustment.condition.holds(metrics.get(adjustment.condition.metric.value))
        )
        extra_bp = sum(adjustment.discount_bp for adjustment in applied)
        total = row.rate_discount_bp + extra_bp
        if self.max_total_discount_bp is not None:
            total = min(total, self.max_total_discount_bp)
        return Terms(
            grade=grade,
            limit_multiplier=row.limit_multiplier,
            grade_discount_bp=row.rate_discount_bp,
            adjustment_discount_bp=extra_bp,
            rate_discount_bp=total,
            adjustments_applied=tuple(adjustment.code for adjustment in applied),
        )
