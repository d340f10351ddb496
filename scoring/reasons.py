"""Decision reason codes: a stable code, a kind and plain words for every driver of a decision.

Codes never change meaning once released; new drivers get new codes. Kinds:

- ``eligibility`` (E..): why the application is declined;
- ``referral`` (R..): why an eligible application goes to a loan officer;
- ``carbon`` (C..): the carbon account's drivers (grade, trend, data quality, alerts);
- ``credit`` (F..): the risk model's features pushing the PD up most (LightGBM per-feature
  log-odds contributions), one code per model feature;
- ``pricing`` (P..): how the final rate and limit came about (floor, cap, adjustments).

:data:`REASON_CODES` lists every code with its meaning (``docs/decisions.md`` prints it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from scoring.carbon_features import AccountView
from scoring.features import FeatureSpec


class ReasonKind(StrEnum):
    """What a reason explains."""

    ELIGIBILITY = "eligibility"
    REFERRAL = "referral"
    CARBON = "carbon"
    CREDIT = "credit"
    PRICING = "pricing"


@dataclass(frozen=True)
class Reason:
    """One driver of a decision.

    Attributes
    ----------
    code:
        Stable code (see :data:`REASON_CODES`).
    kind:
        What the reason explains.
    text:
        Plain words with the values that matter.
    feature, contribution:
        For credit reasons: the model feature and its log-odds contribution to the PD score.
    """

    code: str
    kind: ReasonKind
    text: str
    feature: str | None = None
    contribution: float | None = None


REASON_CODES: dict[str, tuple[ReasonKind, str]] = {
    "E01": (ReasonKind.ELIGIBILITY, "product not in force on the decision date"),
    "E02": (ReasonKind.ELIGIBILITY, "the product does not serve the borrower's sector"),
    "E03": (ReasonKind.ELIGIBILITY, "no grade on the product's grade scale"),
    "E04": (ReasonKind.ELIGIBILITY, "grade worse than the product's minimum grade"),
    "E05": (ReasonKind.ELIGIBILITY, "industry excluded by the product"),
    "E06": (ReasonKind.ELIGIBILITY, "data-quality tier worse than the product accepts"),
    "E07": (ReasonKind.ELIGIBILITY, "provisional grade, and the product declines those"),
    "E08": (ReasonKind.ELIGIBILITY, "open critical alerts, and the product declines those"),
    "E09": (ReasonKind.ELIGIBILITY, "PD above the product's maximum PD"),
    "E10": (ReasonKind.ELIGIBILITY, "requested amount below the product's minimum amount"),
    "E11": (ReasonKind.ELIGIBILITY, "final limit below the product's minimum amount"),
    "E12": (ReasonKind.ELIGIBILITY, "requested term outside the product's term range"),
    "E13": (ReasonKind.ELIGIBILITY, "requested amount above the final limit (rules: decline)"),
    "E14": (ReasonKind.ELIGIBILITY, "no industry code and the product excludes industries"),
    "R01": (ReasonKind.REFERRAL, "provisional grade, and the product refers those"),
    "R02": (ReasonKind.REFERRAL, "open critical alerts, and the product refers those"),
    "R03": (ReasonKind.REFERRAL, "PD close below the product's maximum PD"),
    "R04": (ReasonKind.REFERRAL, "requested amount above the final limit"),
    "R05": (ReasonKind.REFERRAL, "carbon account older than the rules allow"),
    "R06": (ReasonKind.REFERRAL, "many open warning alerts"),
    "R07": (ReasonKind.REFERRAL, "no industry code and the product excludes industries"),
    "C01": (ReasonKind.CARBON, "carbon-efficiency grade (Zhejiang, 1 best .. 5)"),
    "C02": (ReasonKind.CARBON, "Quzhou carbon colour and score"),
    "C03": (ReasonKind.CARBON, "personal carbon-account level"),
    "C04": (ReasonKind.CARBON, "carbon intensity fell year on year"),
    "C05": (ReasonKind.CARBON, "carbon intensity rose year on year"),
    "C06": (ReasonKind.CARBON, "data quality of the carbon account"),
    "C07": (ReasonKind.CARBON, "provisional grade (metered data below 90% complete)"),
    "C08": (ReasonKind.CARBON, "open critical energy-use alerts"),
    "C09": (ReasonKind.CARBON, "open warning energy-use alerts"),
    "C10": (ReasonKind.CARBON, "no carbon account"),
    "P01": (ReasonKind.PRICING, "rate held at the product's floor"),
    "P02": (ReasonKind.PRICING, "limit capped at the product's maximum amount"),
    "P03": (ReasonKind.PRICING, "adjustment discount earned"),
    "P04": (ReasonKind.PRICING, "total discount capped by the product"),
}
"""Every code with its kind and meaning."""

CREDIT_CODES: dict[str, str] = {
    "revenue_10k_yuan": "F01",
    "leverage": "F02",
    "current_ratio": "F03",
    "return_on_assets": "F04",
    "years_operating": "F05",
    "overdue_count_24m": "F06",
    "carbon_efficiency_grade": "F07",
    "k_ratio": "F08",
    "carbon_score": "F09",
    "intensity_trend_pct": "F10",
    "data_completeness": "F11",
    "alert_count_12m": "F12",
    "colour_rank": "F13",
}
"""Credit reason code of each risk-model feature (fixed by name, not by column position)."""

for _feature, _code in CREDIT_CODES.items():
    REASON_CODES[_code] = (ReasonKind.CREDIT, f"risk model: {_feature} raises the PD")

_EFFICIENCY_WORDS = {
    1: "high carbon efficiency",
    2: "good carbon efficiency",
    3: "average carbon efficiency",
    4: "below-average carbon efficiency",
    5: "low carbon efficiency",
}


def reason(code: str, text: str) -> Reason:
    """A reason of a listed code (its kind from :data:`REASON_CODES`)."""
    return Reason(code, REASON_CODES[code][0], text)


def credit_reasons(
    specs: Sequence[FeatureSpec],
    row: NDArray[np.float64],
    contributions: NDArray[np.float64],
    *,
    count: int,
    min_logodds: float,
) -> tuple[Reason, ...]:
    """The ``count`` features adding most to the log-odds of default, in plain words.

    Parameters
    ----------
    specs
        The model's features in column order.
    row
        ``(features,)`` feature values of the applicant.
    contributions
        ``(features,)`` or ``(features + 1,)`` log-odds contributions (a trailing bias is ignored).
    """
    contrib = contributions[: len(specs)]
    order = np.argsort(-contrib, kind="stable")[:count]
    return tuple(
        Reason(
            code=CREDIT_CODES.get(specs[i].name, "F99"),
            kind=ReasonKind.CREDIT,
            text=specs[i].describe(float(row[i]), raises_pd=True),
            feature=specs[i].name,
            contribution=float(contrib[i]),
        )
        for i in order
        if contrib[i] >= min_logodds
    )


def _grade_reason(view: AccountView, basis: str) -> Reason | None:
    if basis == "carbon_efficiency" and view.carbon_efficiency is not None:
        k = "" if view.k is None else f" (K {view.k:.2f})"
        words = _EFFICIENCY_WORDS[view.carbon_efficiency]
        return reason("C01", f"carbon grade {view.carbon_efficiency}: {words}{k}")
    if basis == "colour" and view.colour is not None:
        score = "" if view.score is None else f", carbon score {view.score:.1f}"
        return reason("C02", f"carbon colour {view.colour.value} ({view.colour.name_zh}){score}")
    if basis == "resident_level" and view.resident_level is not None:
        return reason("C03", f"personal carbon-account level {view.resident_level}")
    return None


def carbon_reasons(view: AccountView | None, basis: str) -> tuple[Reason, ...]:
    """Carbon drivers: the grade on ``basis``, trend, data quality, provisional grade, alerts."""
    if view is None:
        return (reason("C10", "no carbon account"),)
    out: list[Reason] = []
    grade = _grade_reason(view, basis)
    if grade is not None:
        out.append(grade)
    cut = view.intensity_cut_yoy_pct
    if cut is not None and cut > 0:
        out.append(reason("C04", f"carbon intensity fell {cut}% year on year"))
    elif cut is not None and cut < 0:
        out.append(reason("C05", f"carbon intensity rose {-cut}% year on year"))
    complete = f"{view.completeness * 100:.2f}%"
    out.append(reason("C06", f"data-quality tier {view.quality_tier}, data {complete} complete"))
    if view.provisional:
        out.append(reason("C07", f"provisional grade: data {complete} complete"))
    if view.open_alerts.critical:
        out.append(reason("C08", f"{view.open_alerts.critical} open critical alert(s)"))
    if view.open_alerts.warning:
        out.append(reason("C09", f"{view.open_alerts.warning} open warning alert(s)"))
    return tuple(out)
