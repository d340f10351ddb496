"""Reasons behind a grade: one line per rule applied, in English and Chinese.

Built per entity from a :class:`accounting.grading.GradeBatch` (only when an account is
rendered), so grading itself stays vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from accounting.grading_config import COLOURS, DIMENSIONS, LABELS, GradingConfig
from accounting.vocab import CarbonLabel

if TYPE_CHECKING:
    from accounting.grading import GradeBatch

_LABEL_ZH = {CarbonLabel.LOW: "低碳", CarbonLabel.MEDIUM: "中碳", CarbonLabel.HIGH: "高碳"}


@dataclass(frozen=True)
class Reason:
    """One line of explanation behind a grade or colour."""

    code: str
    """Stable code, e.g. ``CARBON_EFFICIENCY``, ``NO_BENCHMARK``, ``COLOUR_CAPPED``."""
    message: str
    dimension: str | None = None
    """One of :data:`DIMENSIONS`, or None."""
    value: float | None = None
    """The number the reason is about (K, ratio, change, score, completeness...)."""
    message_zh: str | None = None


def grade_reasons(batch: GradeBatch, i: int, config: GradingConfig) -> tuple[Reason, ...]:
    """Why entity ``i`` got its grade, label and colour, in reading order."""
    if np.isnan(batch.intensity[i]):
        return (
            Reason(
                "NO_INTENSITY",
                "the primary intensity cannot be computed (no activity denominator): no grade",
                message_zh="无法计算碳排放强度,不评级",
            ),
            *_label_reasons(batch, i, config),
            *_provisional_reasons(batch, i, config),
        )
    return (
        *_k_reasons(batch, i, config),
        *_label_reasons(batch, i, config),
        *_dimension_reasons(batch, i),
        *_colour_reasons(batch, i, config),
        *_provisional_reasons(batch, i, config),
    )


def _k_reasons(batch: GradeBatch, i: int, config: GradingConfig) -> list[Reason]:
    grade = int(batch.carbon_efficiency[i])
    if grade == 0:
        return [
            Reason(
                "NO_BENCHMARK",
                "no industry benchmark: carbon-efficiency grade not computed and the industry "
                "dimension left out of the score",
                "industry_advancement",
                message_zh="无行业基准值,未评定碳效等级",
            )
        ]
    k = float(batch.k[i])
    bounds = config.k_upper_bounds
    if grade == 1:
        rule = f"K <= {bounds[0]:g}"
    elif grade <= len(bounds):
        rule = f"{bounds[grade - 2]:g} < K <= {bounds[grade - 1]:g}"
    else:
        rule = f"K > {bounds[-1]:g}"
    return [
        Reason(
            "CARBON_EFFICIENCY",
            f"intensity is {k:.3f} x the industry benchmark ({rule}): "
            f"carbon-efficiency grade {grade}",
            "industry_advancement",
            k,
            f"碳效值K={k:.3f},碳效等级{grade}级",
        )
    ]


def _label_reasons(batch: GradeBatch, i: int, config: GradingConfig) -> list[Reason]:
    code = int(batch.carbon_label[i])
    if code < 0:
        return [
            Reason(
                "NO_CARBON_LABEL",
                "no value added: absolute carbon label not computed",
                message_zh="无工业增加值,未标识碳排放水平",
            )
        ]
    label = LABELS[code]
    value = float(batch.label_intensity[i])
    rule = {
        CarbonLabel.LOW: f"<= {config.label_low_max:g}",
        CarbonLabel.MEDIUM: f"in ({config.label_low_max:g}, {config.label_medium_max:g}]",
        CarbonLabel.HIGH: f"> {config.label_medium_max:g}",
    }[label]
    return [
        Reason(
            "CARBON_LABEL",
            f"{value:.3f} tCO2 per 10k yuan value added ({rule}): {label.value} carbon",
            None,
            value,
            f"单位增加值碳排放{value:.3f}吨/万元:{_LABEL_ZH[label]}",
        )
    ]


def _dimension_reasons(batch: GradeBatch, i: int) -> list[Reason]:
    out = [_regional_reason(batch, i), _trend_reason(batch, i)]
    if 0 < int(np.isnan(batch.dimension_scores[i]).sum()) < len(DIMENSIONS):
        used = int((batch.weights_used[i] > 0).sum())
        out.append(
            Reason(
                "WEIGHTS_RENORMALISED",
                f"weights renormalised over the {used} available dimension(s)",
            )
        )
    return out


def _regional_reason(batch: GradeBatch, i: int) -> Reason:
    x, score = batch.dimension_x[i, 1], batch.dimension_scores[i, 1]
    if np.isnan(x):
        return Reason(
            "NO_REGIONAL_INTENSITY",
            "no regional aggregate intensity: regional-contribution dimension left out",
            "regional_contribution",
        )
    return Reason(
        "REGIONAL_CONTRIBUTION",
        f"intensity is {x:.3f} x the regional aggregate intensity: sub-score {score:.1f}",
        "regional_contribution",
        float(x),
        f"区域贡献度:强度为区域平均的{x:.3f}倍",
    )


def _trend_reason(batch: GradeBatch, i: int) -> Reason:
    x, score = batch.dimension_x[i, 2], batch.dimension_scores[i, 2]
    if np.isnan(x):
        return Reason(
            "NO_PREVIOUS",
            "no previous-period intensity: historical-decline dimension left out",
            "historical_decline",
        )
    verb = "fell" if x < 0 else "rose" if x > 0 else "did not change"
    return Reason(
        "HISTORICAL_DECLINE",
        f"intensity {verb} {abs(x):.1%} year on year: sub-score {score:.1f}",
        "historical_decline",
        float(x),
        f"历史下降:强度同比变化{x:+.1%}",
    )


def _colour_reasons(batch: GradeBatch, i: int, config: GradingConfig) -> list[Reason]:
    by_score = int(batch.colour_by_score[i])
    if by_score < 0:
        return [
            Reason(
                "NO_SCORE",
                "no dimension available: no carbon score or colour",
                message_zh="无可用维度,不赋色",
            )
        ]
    score = float(batch.score[i])
    colour = COLOURS[by_score]
    rule = (
        f">= {config.colour_min_scores[by_score]:g}"
        if by_score < len(config.colour_min_scores)
        else f"< {config.colour_min_scores[-1]:g}"
    )
    out = [
        Reason(
            "SCORE_COLOUR",
            f"carbon score {score:.1f} ({rule}): {colour.value}",
            None,
            score,
            f"碳积分{score:.1f}:{colour.name_zh}",
        )
    ]
    final = int(batch.colour[i])
    if final != by_score:
        grade = int(batch.carbon_efficiency[i])
        capped = COLOURS[final]
        out.append(
            Reason(
                "COLOUR_CAPPED",
                f"carbon-efficiency grade {grade} caps the colour at "
                f"{capped.value} (score alone: {colour.value})",
                "industry_advancement",
                float(grade),
                f"碳效等级{grade}级,最高为{capped.name_zh}",
            )
        )
    return out


def _provisional_reasons(batch: GradeBatch, i: int, config: GradingConfig) -> list[Reason]:
    if not batch.provisional[i]:
        return []
    c = float(batch.completeness[i])
    return [
        Reason(
            "PROVISIONAL",
            f"data completeness {c:.1%} < "
            f"{config.quality.provisional_below:.0%}: grade provisional",
            None,
            c,
            f"数据完整率{c:.1%},评级为临时结果",
        )
    ]
