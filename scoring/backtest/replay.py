"""Replay a rule set over every historical application at once (vectorised :func:`decide`).

For each application the replay takes its product version (slot), reads the grade on the
product's scale, earns the grade's multiplier and discount plus every adjustment whose condition
holds (capped), computes the final limit (rounded down to the fen, capped at the product maximum)
and rate (never below the floor), then applies the eligibility rules (any one declines) and, for
the rest, the referral rules (any one refers). The rules and their order are those of
:mod:`scoring.decide` and :mod:`scoring.decision_checks`; a test checks the replay against
``decide`` row by row. Rules whose input column the history lacks are not evaluated (listed by
:func:`unevaluated_rules`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from products.model import Policy, Product
from scoring.backtest.data import BacktestData
from scoring.backtest.reasons import BIT
from scoring.backtest.rows import RowInputs
from scoring.backtest.table import OPS, POLICIES, ProductTable, SlotAssignment
from scoring.decision_rules import DecisionRules

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
U32 = NDArray[np.uint32]

APPROVE, REFER, DECLINE = 0, 1, 2
OUTCOMES = ("approve", "refer", "decline")
_ALLOW, _REFER, _DECLINE = (POLICIES.index(p) for p in (Policy.ALLOW, Policy.REFER, Policy.DECLINE))


@dataclass(frozen=True)
class Replay:
    """The decisions of one rule set over every application, ``(n,)`` arrays.

    Attributes
    ----------
    outcome:
        :data:`APPROVE`, :data:`REFER` or :data:`DECLINE`.
    reasons:
        Reason bits (:mod:`scoring.backtest.reasons`).
    slot:
        Product version replayed (index into ``products``), -1 when none applied.
    grade_rank:
        Grade on the product's scale, 1 = best; 0 without one.
    offered:
        Whether terms are offered: the grade is in the product's table and nothing declines
        (every booked application has terms).
    multiplier:
        Limit multiplier (at most 1.5); 0 where no terms are offered, as below.
    final_limit_fen, capped_base_fen:
        Final limit, and the base limit capped at the product maximum (the limit without any
        multiplier), fen.
    final_rate_e4, rate_discount_bp:
        Final rate (1e-4 percent) and total discount after the cap (bp).
    """

    products: tuple[Product, ...]
    outcome: NDArray[np.int8]
    reasons: U32
    slot: NDArray[np.int32]
    grade_rank: IntArray
    offered: BoolArray
    multiplier: NDArray[np.float64]
    final_limit_fen: IntArray
    capped_base_fen: IntArray
    final_rate_e4: IntArray
    rate_discount_bp: IntArray
    floor_applied: BoolArray
    limit_capped: BoolArray
    cerf_eligible: BoolArray

    @property
    def booked(self) -> BoolArray:
        """Approved or referred: the applications the rule set would book."""
        result: BoolArray = self.outcome != DECLINE
        return result


@dataclass(frozen=True)
class _Terms:
    rank: IntArray
    has_terms: BoolArray
    multiplier_num: IntArray
    discount_bp: IntArray
    limit_fen: IntArray
    capped_base_fen: IntArray
    uncapped_fen: IntArray
    rate_e4: IntArray
    discounted_e4: IntArray


def _bit(mask: BoolArray, code: str) -> U32:
    return np.where(mask, np.uint32(BIT[code]), np.uint32(0)).astype(np.uint32)


def _adjustment_bp(rows: RowInputs, table: ProductTable, s: IntArray) -> IntArray:
    n = s.shape[0]
    total = np.zeros(n, dtype=np.int64)
    cols = np.arange(n)
    for a in range(table.adj_metric.shape[1]):
        metric = table.adj_metric[s, a]
        used = metric >= 0
        if not used.any():
            continue
        observed = rows.metrics[np.maximum(metric, 0), cols]
        threshold = table.adj_threshold[s, a]
        op = table.adj_op[s, a]
        tests = (
            observed >= threshold,
            observed > threshold,
            observed <= threshold,
            observed < threshold,
            observed == threshold,
        )
        holds = np.zeros(n, dtype=bool)
        for index, test in zip(range(len(OPS)), tests, strict=True):
            holds |= (op == index) & test
        total += np.where(used & holds, table.adj_bp[s, a], 0)
    return total


def _terms(rows: RowInputs, table: ProductTable, s: IntArray, valid: BoolArray) -> _Terms:
    rank = np.where(valid, rows.grade_rank[table.basis[s], np.arange(s.shape[0])], 0)
    rank = np.where(rows.has_account, rank, 0)
    index = np.clip(rank - 1, 0, table.eligible.shape[1] - 1)
    has_terms = valid & (rank > 0) & table.eligible[s, index]
    discount = table.grade_discount_bp[s, index] + _adjustment_bp(rows, table, s)
    cap = table.max_total_discount_bp[s]
    discount = np.where(cap >= 0, np.minimum(discount, cap), discount)
    num = table.multiplier_num[s, index]
    uncapped = rows.base_limit_fen * num // table.multiplier_den
    limit = np.minimum(uncapped, table.max_amount_fen[s])
    discounted = rows.base_rate_e4 - discount * 100
    rate = np.maximum(discounted, table.floor_e4[s])
    zero = np.zeros_like(limit)
    return _Terms(
        rank=rank,
        has_terms=has_terms,
        multiplier_num=np.where(has_terms, num, 0),
        discount_bp=np.where(has_terms, discount, 0),
        limit_fen=np.where(has_terms, limit, zero),
        capped_base_fen=np.where(
            has_terms, np.minimum(rows.base_limit_fen, table.max_amount_fen[s]), zero
        ),
        uncapped_fen=np.where(has_terms, uncapped, zero),
        rate_e4=np.where(has_terms, rate, zero),
        discounted_e4=np.where(has_terms, discounted, zero),
    )


def _account_rules(rows: RowInputs, table: ProductTable, s: IntArray, t: _Terms) -> U32:
    """E02-E08 and E14: rules on the carbon account (decide skips them without one)."""
    acct = rows.has_account
    bits = _bit(t.rank == 0, "E03") | _bit(acct & (t.rank > 0) & ~t.has_terms, "E04")
    if rows.sector_index is not None:
        bits |= _bit(acct & ~table.serves[s, rows.sector_index], "E02")
    if rows.quality_tier is not None:
        bits |= _bit(acct & (rows.quality_tier > table.max_quality_tier[s]), "E06")
    if rows.provisional is not None:
        bits |= _bit(acct & rows.provisional & (table.provisional_policy[s] == _DECLINE), "E07")
    if rows.critical_alerts is not None:
        critical = acct & (rows.critical_alerts > 0)
        bits |= _bit(critical & (table.critical_policy[s] == _DECLINE), "E08")
    return bits


def _industry_rules(
    rows: RowInputs,
    table: ProductTable,
    s: IntArray,
    excluded: BoolArray | None,
    rules: DecisionRules,
) -> tuple[U32, U32]:
    """E05 / E14 (declines) and R07 (referral): the industry code against exclusions."""
    n = s.shape[0]
    if rows.industry_code is None or rows.industry_known is None or excluded is None:
        return np.zeros(n, dtype=np.uint32), np.zeros(n, dtype=np.uint32)
    acct = rows.has_account
    bits = _bit(acct & excluded[s, rows.industry_code], "E05")
    unknown = acct & ~rows.industry_known & table.has_exclusions[s]
    policy = rules.unknown_industry_code
    refer = _bit(unknown & (policy is Policy.REFER), "R07")
    return bits | _bit(unknown & (policy is Policy.DECLINE), "E14"), refer


def _amount_rules(
    rows: RowInputs, table: ProductTable, s: IntArray, t: _Terms, rules: DecisionRules
) -> tuple[U32, BoolArray]:
    """E09-E13 (declines), and whether the requested amount is above the final limit."""
    bits = _bit(rows.pd > table.max_pd[s], "E09")
    bits |= _bit(t.has_terms & (t.limit_fen < table.min_amount_fen[s]), "E11")
    term = rows.term_months
    bits |= _bit((term < table.min_term_months[s]) | (term > table.max_term_months[s]), "E12")
    above = np.zeros(s.shape[0], dtype=bool)
    if rows.requested_fen is not None:
        requested = rows.requested_fen
        bits |= _bit((requested >= 0) & (requested < table.min_amount_fen[s]), "E10")
        above = (requested >= 0) & t.has_terms & (requested > t.limit_fen)
        bits |= _bit(above & (rules.requested_above_limit is Policy.DECLINE), "E13")
    return bits, above


def _referrals(
    rows: RowInputs, table: ProductTable, s: IntArray, above: BoolArray, rules: DecisionRules
) -> U32:
    """R01-R06 (R07 comes with the industry rules)."""
    acct = rows.has_account
    bits = _bit(rows.pd > table.refer_pd[s], "R03")
    bits |= _bit(above & (rules.requested_above_limit is Policy.REFER), "R04")
    if rows.provisional is not None:
        bits |= _bit(acct & rows.provisional & (table.provisional_policy[s] == _REFER), "R01")
    if rows.critical_alerts is not None:
        critical = acct & (rows.critical_alerts > 0)
        bits |= _bit(critical & (table.critical_policy[s] == _REFER), "R02")
    if rows.account_age_days is not None:
        bits |= _bit(acct & (rows.account_age_days > rules.max_account_age_days), "R05")
    threshold = rules.refer_open_warning_alerts
    if rows.warning_alerts is not None and threshold is not None:
        bits |= _bit(acct & (rows.warning_alerts >= threshold), "R06")
    return bits


def replay(
    rows: RowInputs,
    table: ProductTable,
    assignment: SlotAssignment,
    rules: DecisionRules,
    excluded: BoolArray | None = None,
) -> Replay:
    """Decide every application under one rule set.

    Parameters
    ----------
    rows
        Row-level inputs (:func:`scoring.backtest.rows.row_inputs`).
    table
        The rule set's product versions compiled (slots as in ``assignment``).
    excluded
        ``table.exclusions(industry labels)``; None when the history has no industry codes.
    """
    if len(table) == 0:
        return _nothing_in_rule_set(assignment)
    slot = assignment.slot
    valid = slot >= 0
    s = np.where(valid, slot, 0).astype(np.int64)
    t = _terms(rows, table, s, valid)
    industry, industry_refer = _industry_rules(rows, table, s, excluded, rules)
    amount, above = _amount_rules(rows, table, s, t, rules)
    declines = _account_rules(rows, table, s, t) | industry | amount
    declines = np.where(valid, declines, assignment.missing).astype(np.uint32)
    refers = np.where(valid, _referrals(rows, table, s, above, rules) | industry_refer, 0)
    refers = np.where(declines != 0, 0, refers).astype(np.uint32)
    outcome = np.where(declines != 0, DECLINE, np.where(refers != 0, REFER, APPROVE))
    offered = t.has_terms & (declines == 0)

    def kept(values: IntArray) -> IntArray:
        return np.where(offered, values, 0)

    return Replay(
        products=assignment.products,
        outcome=outcome.astype(np.int8),
        reasons=(declines | refers).astype(np.uint32),
        slot=assignment.slot,
        grade_rank=t.rank,
        offered=offered,
        multiplier=kept(t.multiplier_num) / table.multiplier_den,
        final_limit_fen=kept(t.limit_fen),
        capped_base_fen=kept(t.capped_base_fen),
        final_rate_e4=kept(t.rate_e4),
        rate_discount_bp=kept(t.discount_bp),
        floor_applied=offered & (t.discounted_e4 < t.rate_e4),
        limit_capped=offered & (t.uncapped_fen > t.limit_fen),
        cerf_eligible=valid & table.cerf_eligible[s],
    )


def _nothing_in_rule_set(assignment: SlotAssignment) -> Replay:
    """Every application declined: none of their products is in the rule set."""
    n = assignment.slot.shape[0]
    zeros = np.zeros(n, dtype=np.int64)
    no = np.zeros(n, dtype=bool)
    return Replay(
        products=assignment.products,
        outcome=np.full(n, DECLINE, dtype=np.int8),
        reasons=assignment.missing.astype(np.uint32),
        slot=assignment.slot,
        grade_rank=zeros,
        offered=no,
        multiplier=np.zeros(n),
        final_limit_fen=zeros,
        capped_base_fen=zeros,
        final_rate_e4=zeros,
        rate_discount_bp=zeros,
        floor_applied=no,
        limit_capped=no,
        cerf_eligible=no,
    )


def unevaluated_rules(data: BacktestData) -> dict[str, str]:
    """Rules the replay skips because the history lacks their input, with the column."""
    needs = {
        "E02": "sector",
        "E05": "industry_code",
        "E14": "industry_code",
        "R07": "industry_code",
        "E06": "quality_tier",
        "E07": "provisional",
        "R01": "provisional",
        "E08": "open_critical_alerts",
        "R02": "open_critical_alerts",
        "E10": "requested_amount_fen",
        "E13": "requested_amount_fen",
        "R04": "requested_amount_fen",
        "R05": "account_period_end",
        "R06": "open_warning_alerts",
    }
    return {code: column for code, column in needs.items() if not data.has(column)}
