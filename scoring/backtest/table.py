"""A rule set compiled to arrays: one row (slot) per product version, one column per rule.

The replay (:mod:`scoring.backtest.replay`) gathers these arrays at each application's slot, so
a catalog of 50 products applied to a million applications costs a handful of numpy gathers
and comparisons, not a million Python calls. Values are exact where decisions need them to be:
limit multipliers as integers over a common power of ten, rates in 1e-4 percent, discounts in
basis points, PD cut-offs as the same floats :func:`scoring.decide.decide` compares with.

Which version of a product applies to an application is the :class:`VersionPolicy`:

- ``latest`` (default): every product's latest version, as if the rule set had been in force
  when each application came in (what a rule change would have done);
- ``on`` a date: the versions in force on that date;
- ``application_date``: the version in force on each application's own date (the rules as they
  were); an application with no version in force is declined with ``E01``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.typing import NDArray

from accounting.vocab import Sector
from products.catalog import Catalog, UnknownProductError
from products.model import MAX_LIMIT_MULTIPLIER, GradeBasis, Metric, Op, Policy, Product
from scoring.backtest.data import BacktestData
from scoring.backtest.reasons import BIT
from scoring.decision_rules import DecisionRules

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

BASES: tuple[GradeBasis, ...] = (
    GradeBasis.COLOUR,
    GradeBasis.CARBON_EFFICIENCY,
    GradeBasis.RESIDENT_LEVEL,
)
"""Grade scales by index (the ``basis`` array)."""
MAX_GRADES = 5
POLICIES: tuple[Policy, ...] = (Policy.ALLOW, Policy.REFER, Policy.DECLINE)
METRICS: tuple[Metric, ...] = tuple(Metric)
OPS: tuple[Op, ...] = tuple(Op)
SECTORS: tuple[Sector, ...] = tuple(Sector)
ROUNDED_METRICS = frozenset({Metric.INTENSITY_CUT_YOY_PCT, Metric.COMPLETENESS_PCT})
"""Metrics decisions round to 0.01 before comparing; the replay compares them in hundredths."""
RATE_SCALE = 10_000
"""Rates are held as integers in 1e-4 percent (bases have at most 4 decimals)."""


class RuleSetError(ValueError):
    """A rule set cannot be compiled or a version policy is invalid; names the cause."""


@dataclass(frozen=True)
class VersionPolicy:
    """Which product version applies to an application (see the module docstring)."""

    kind: str = "latest"
    on: date | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("latest", "on", "application_date"):
            raise RuleSetError(f"versions: unknown policy {self.kind!r}")
        if (self.kind == "on") != (self.on is not None):
            raise RuleSetError("versions: a date is needed exactly for the 'on' policy")

    @classmethod
    def parse(cls, text: str) -> VersionPolicy:
        """``latest``, ``application-date`` or a ``YYYY-MM-DD`` date."""
        if text in ("latest", "application-date", "application_date"):
            return cls(text.replace("-", "_"))
        try:
            return cls("on", date.fromisoformat(text))
        except ValueError:
            raise RuleSetError(
                f"versions: {text!r} is not latest, application-date or YYYY-MM-DD"
            ) from None

    def describe(self) -> str:
        """Plain words for reports."""
        if self.kind == "on" and self.on is not None:
            return f"versions in force on {self.on.isoformat()}"
        if self.kind == "latest":
            return "latest version of every product, as if in force throughout"
        return "version in force on each application date"


@dataclass(frozen=True)
class ProductTable:
    """A rule set's product versions as arrays, one row per slot (see the module docstring)."""

    products: tuple[Product, ...]
    basis: IntArray
    eligible: NDArray[np.bool_]
    """``(P, 5)``: grade rank ``r`` (1 = best) is in the grade table at ``[:, r - 1]``."""
    multiplier_num: IntArray
    """``(P, 5)`` multipliers (clipped at 1.5) times :attr:`multiplier_den`."""
    multiplier_den: int
    grade_discount_bp: IntArray
    adj_metric: IntArray
    """``(P, A)`` index into :data:`METRICS`, -1 for no adjustment."""
    adj_op: IntArray
    adj_threshold: FloatArray
    """``(P, A)`` thresholds, in hundredths for :data:`ROUNDED_METRICS`."""
    adj_bp: IntArray
    max_total_discount_bp: IntArray
    """-1 when uncapped."""
    serves: NDArray[np.bool_]
    """``(P, len(SECTORS))``."""
    max_pd: FloatArray
    refer_pd: FloatArray
    max_quality_tier: IntArray
    provisional_policy: IntArray
    critical_policy: IntArray
    has_exclusions: NDArray[np.bool_]
    min_amount_fen: IntArray
    max_amount_fen: IntArray
    min_term_months: IntArray
    max_term_months: IntArray
    floor_e4: IntArray
    cerf_eligible: NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.products)

    def exclusions(self, industry_labels: Sequence[str]) -> NDArray[np.bool_]:
        """``(P, U)``: whether each product excludes each industry code (decide's prefix rule;
        an empty code is never excluded)."""
        out = np.zeros((len(self.products), max(len(industry_labels), 1)), dtype=bool)
        for p, product in enumerate(self.products):
            for u, label in enumerate(industry_labels):
                out[p, u] = bool(label) and product.eligibility.excludes_industry(label)
        return out


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _grade_arrays(products: Sequence[Product]) -> tuple[NDArray[np.bool_], IntArray, int, IntArray]:
    p = len(products)
    clipped = [
        [min(row.limit_multiplier, MAX_LIMIT_MULTIPLIER) for row in product.grade_table]
        for product in products
    ]
    places = max([2, *(_places(m) for rows in clipped for m in rows)])
    if places > 6:
        raise RuleSetError("grade_table.limit_multiplier: at most 6 decimals in a backtest")
    den = 10**places
    eligible = np.zeros((p, MAX_GRADES), dtype=bool)
    num = np.zeros((p, MAX_GRADES), dtype=np.int64)
    discount = np.zeros((p, MAX_GRADES), dtype=np.int64)
    for i, product in enumerate(products):
        for row, multiplier in zip(product.grade_table, clipped[i], strict=True):
            r = product.grade_basis.rank(row.grade) - 1
            eligible[i, r] = True
            num[i, r] = int(multiplier * den)
            discount[i, r] = row.rate_discount_bp
    return eligible, num, den, discount


def _adjustment_arrays(
    products: Sequence[Product],
) -> tuple[IntArray, IntArray, FloatArray, IntArray]:
    width = max([1, *(len(product.adjustments) for product in products)])
    shape = (len(products), width)
    metric = np.full(shape, -1, dtype=np.int64)
    op = np.zeros(shape, dtype=np.int64)
    threshold = np.zeros(shape, dtype=np.float64)
    bp = np.zeros(shape, dtype=np.int64)
    for i, product in enumerate(products):
        for a, adjustment in enumerate(product.adjustments):
            condition = adjustment.condition
            scale = 100 if condition.metric in ROUNDED_METRICS else 1
            metric[i, a] = METRICS.index(condition.metric)
            op[i, a] = OPS.index(condition.op)
            threshold[i, a] = float(condition.value * scale)
            bp[i, a] = adjustment.discount_bp
    return metric, op, threshold, bp


def _ints(products: Sequence[Product], values: Sequence[int]) -> IntArray:
    return np.asarray(values, dtype=np.int64).reshape(len(products))


def _rule_arrays(products: Sequence[Product], rules: DecisionRules) -> dict[str, Any]:
    """Eligibility and referral thresholds of each product."""
    rule = [p.eligibility for p in products]
    return {
        "serves": np.array(
            [[s in p.sectors for s in SECTORS] for p in products], dtype=bool
        ).reshape(len(products), len(SECTORS)),
        "max_pd": np.array([float(r.max_pd) for r in rule], dtype=np.float64),
        "refer_pd": np.array([float(r.max_pd * rules.pd_refer_fraction) for r in rule]),
        "max_quality_tier": _ints(products, [r.max_quality_tier for r in rule]),
        "provisional_policy": _ints(products, [POLICIES.index(r.provisional_grade) for r in rule]),
        "critical_policy": _ints(products, [POLICIES.index(r.open_critical_alerts) for r in rule]),
        "has_exclusions": np.array([bool(r.excluded_industries) for r in rule], dtype=bool),
        "min_amount_fen": _ints(products, [int(p.min_amount_yuan * 100) for p in products]),
        "max_amount_fen": _ints(products, [int(p.max_amount_yuan * 100) for p in products]),
        "min_term_months": _ints(products, [p.min_term_months for p in products]),
        "max_term_months": _ints(products, [p.max_term_months for p in products]),
    }


def product_table(products: Sequence[Product], rules: DecisionRules) -> ProductTable:
    """Compile product versions (one slot each, in the given order) with the engine rules."""
    eligible, num, den, discount = _grade_arrays(products)
    metric, op, threshold, bp = _adjustment_arrays(products)
    caps = [-1 if p.max_total_discount_bp is None else p.max_total_discount_bp for p in products]
    return ProductTable(
        products=tuple(products),
        basis=_ints(products, [BASES.index(p.grade_basis) for p in products]),
        eligible=eligible,
        multiplier_num=num,
        multiplier_den=den,
        grade_discount_bp=discount,
        adj_metric=metric,
        adj_op=op,
        adj_threshold=threshold,
        adj_bp=bp,
        max_total_discount_bp=_ints(products, caps),
        floor_e4=_ints(products, [int(p.rate.floor_rate_pct * RATE_SCALE) for p in products]),
        cerf_eligible=np.array([p.cerf_eligible for p in products], dtype=bool),
        **_rule_arrays(products, rules),
    )


@dataclass(frozen=True)
class SlotAssignment:
    """Which product version (slot) each application is replayed against."""

    products: tuple[Product, ...]
    slot: NDArray[np.int32]
    """``(n,)`` slot per application, -1 when none applies."""
    missing: NDArray[np.uint32]
    """``(n,)`` reason bit of a row without a slot: B01 (code not in the rule set) or E01."""


def _label_slots(
    catalog: Catalog, labels: Sequence[str], policy: VersionPolicy
) -> tuple[list[Product], list[int], list[int]]:
    """For latest / on-date policies: one product (or none) per code label."""
    products: list[Product] = []
    slots: list[int] = []
    missing: list[int] = []
    for label in labels:
        if not catalog.versions(label):
            slots.append(-1)
            missing.append(BIT["B01"])
            continue
        try:
            product = catalog.get(label, on=policy.on)
        except UnknownProductError:
            slots.append(-1)
            missing.append(BIT["E01"])
            continue
        slots.append(len(products))
        missing.append(0)
        products.append(product)
    return products, slots, missing


def assign_slots(catalog: Catalog, data: BacktestData, policy: VersionPolicy) -> SlotAssignment:
    """The product version of every application under ``policy``."""
    labels = data.product.labels
    codes = data.product.codes
    if policy.kind != "application_date":
        products, slots, missing = _label_slots(catalog, labels, policy)
        slot_of = np.asarray([*slots, -1], dtype=np.int32)
        missing_of = np.asarray([*missing, 0], dtype=np.uint32)
        return SlotAssignment(tuple(products), slot_of[codes], missing_of[codes])
    return _slots_by_date(catalog, data)


def _slots_by_date(catalog: Catalog, data: BacktestData) -> SlotAssignment:
    n = len(data)
    slot = np.full(n, -1, dtype=np.int32)
    missing = np.zeros(n, dtype=np.uint32)
    products: list[Product] = []
    dates = data.application_date
    for code_index, label in enumerate(data.product.labels):
        rows = data.product.codes == code_index
        versions = catalog.versions(label)
        if not versions:
            missing[rows] = BIT["B01"]
            continue
        matched = np.zeros(n, dtype=bool)
        for product in versions:
            start = np.datetime64(product.effective_from, "D")
            end = np.datetime64(product.effective_to or date.max, "D")
            hit = rows & (dates >= start) & (dates <= end)
            if hit.any():
                slot[hit] = len(products)
                products.append(product)
                matched |= hit
        missing[rows & ~matched] = BIT["E01"]
    return SlotAssignment(tuple(products), slot, missing)
