"""Risk-model features: meaning, unit, and the monotone constraint economics puts on each.

The model reads a float matrix ``(rows, features)`` whose columns follow :data:`FEATURE_NAMES`
(financial features first, then carbon features). :func:`feature_matrix` builds it from named
column arrays and validates every column (missing column, wrong length, non-numeric, out of
range: each error names the column and the reason).

Missing values are NaN. Financial features are required on every row; carbon features may be NaN
for a borrower without a carbon account (LightGBM learns a direction for missing values).

Monotone constraints (+1: a higher value never lowers PD; -1: never raises it; 0: free) are stated
with their economic reason on each :class:`FeatureSpec` and passed to LightGBM unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


class FeatureError(ValueError):
    """A feature column is missing, misshapen or out of range. The message names the column."""


@dataclass(frozen=True)
class FeatureSpec:
    """One model feature.

    Attributes
    ----------
    name:
        Column name, with its unit where it has one.
    group:
        ``financial`` or ``carbon``.
    description:
        What the value is and where it comes from.
    unit:
        Unit of the value (``ratio``, ``10k yuan``, ``count``...).
    monotone:
        +1 (higher value never lowers PD), -1 (never raises it) or 0 (unconstrained).
    reason:
        The economic reason for ``monotone``.
    low, high:
        Plausible range, inclusive; values outside it are rejected. ``None``: unbounded.
    nullable:
        Whether NaN (not available) is allowed.
    integer:
        Whether values must be whole numbers.
    up_text, down_text:
        Plain-words reason when the feature pushes PD up / down; ``{value}`` is formatted with
        ``value_format``.
    value_format:
        ``str.format`` spec for the value in reason texts.
    missing_text:
        Reason text when the value is missing.
    """

    name: str
    group: str
    description: str
    unit: str
    monotone: int
    reason: str
    low: float | None
    high: float | None
    nullable: bool
    integer: bool
    up_text: str
    down_text: str
    value_format: str = ".2f"
    missing_text: str = ""

    def describe(self, value: float, *, raises_pd: bool) -> str:
        """Plain-words text for this feature at ``value`` pushing PD up (or down)."""
        if math.isnan(value):
            return self.missing_text or f"{self.name} not available"
        template = self.up_text if raises_pd else self.down_text
        return template.format(value=format(value, self.value_format))


_GRADE_WORDS = "(1 high efficiency .. 5 low efficiency)"

FEATURE_SPECS: tuple[FeatureSpec, ...] = (
    FeatureSpec(
        "revenue_10k_yuan",
        "financial",
        "Operating revenue of the last financial year.",
        "10k yuan",
        -1,
        "Larger firms have more diversified income and easier refinancing, so, all else equal, a "
        "higher revenue never raises PD (the firm-size effect of SME scorecards and Basel's "
        "SME size adjustment).",
        0.0,
        None,
        False,
        False,
        "small revenue ({value} 10k yuan)",
        "large revenue ({value} 10k yuan)",
        ".0f",
    ),
    FeatureSpec(
        "leverage",
        "financial",
        "Total debt / total assets at the last balance-sheet date.",
        "ratio",
        +1,
        "More debt per unit of assets leaves less equity to absorb losses and more interest to "
        "serve: higher leverage never lowers PD.",
        0.0,
        5.0,
        False,
        False,
        "high leverage ({value})",
        "low leverage ({value})",
    ),
    FeatureSpec(
        "current_ratio",
        "financial",
        "Current assets / current liabilities.",
        "ratio",
        -1,
        "More liquid assets per unit of short-term debt means bills can be paid: a higher "
        "current ratio never raises PD.",
        0.0,
        50.0,
        False,
        False,
        "low current ratio ({value})",
        "strong current ratio ({value})",
    ),
    FeatureSpec(
        "return_on_assets",
        "financial",
        "Net profit / total assets, last financial year.",
        "ratio",
        -1,
        "Profitable firms generate the cash that repays debt: higher ROA never raises PD.",
        -2.0,
        2.0,
        False,
        False,
        "weak return on assets ({value})",
        "strong return on assets ({value})",
        ".1%",
    ),
    FeatureSpec(
        "years_operating",
        "financial",
        "Whole years since registration.",
        "years",
        -1,
        "Young firms fail more often (liability of newness): longer operation never raises PD.",
        0.0,
        200.0,
        False,
        False,
        "short operating history ({value} years)",
        "long operating history ({value} years)",
        ".0f",
    ),
    FeatureSpec(
        "overdue_count_24m",
        "financial",
        "Overdue repayments in the last 24 months (credit bureau).",
        "count",
        +1,
        "Past arrears are the strongest single predictor of future default: more overdue "
        "events never lower PD.",
        0.0,
        1000.0,
        False,
        True,
        "{value} overdue payment(s) in 24 months",
        "clean repayment record ({value} overdue in 24 months)",
        ".0f",
    ),
    FeatureSpec(
        "carbon_efficiency_grade",
        "carbon",
        f"Zhejiang carbon-efficiency grade {_GRADE_WORDS}; NaN without a graded account.",
        "grade",
        +1,
        "A worse carbon-efficiency grade means more energy and carbon cost per unit of value "
        "added and more exposure to carbon pricing and energy-use controls: a worse grade never "
        "lowers PD.",
        1.0,
        5.0,
        True,
        True,
        "carbon grade {value} (low efficiency)",
        "carbon grade {value} (high efficiency)",
        ".0f",
        "no carbon-efficiency grade",
    ),
    FeatureSpec(
        "k_ratio",
        "carbon",
        "K = carbon intensity / industry benchmark intensity.",
        "ratio",
        +1,
        "The continuous form of the grade: a higher K (more carbon per unit of value added than "
        "peers) never lowers PD.",
        0.0,
        100.0,
        True,
        False,
        "carbon intensity {value}x the industry benchmark",
        "carbon intensity {value}x the industry benchmark",
        ".2f",
        "no carbon intensity benchmark",
    ),
    FeatureSpec(
        "carbon_score",
        "carbon",
        "Quzhou three-dimension carbon score.",
        "score 0-100",
        -1,
        "A higher carbon score (better against industry, region and own history) never raises PD.",
        0.0,
        100.0,
        True,
        False,
        "low carbon score ({value})",
        "high carbon score ({value})",
        ".0f",
        "no carbon score",
    ),
    FeatureSpec(
        "intensity_trend_pct",
        "carbon",
        "Year-on-year change of carbon intensity, percent (negative = improving).",
        "percent",
        +1,
        "Rising intensity signals an ageing, less efficient process and growing transition "
        "cost: a larger increase never lowers PD.",
        -100.0,
        1000.0,
        True,
        False,
        "carbon intensity rising ({value}% a year)",
        "carbon intensity falling ({value}% a year)",
        "+.1f",
        "no intensity trend",
    ),
    FeatureSpec(
        "data_completeness",
        "carbon",
        "Received / expected metered intervals behind the carbon account.",
        "fraction 0-1",
        0,
        "Left free: completeness measures how reliable the carbon features are rather than "
        "creditworthiness (gaps often come from meter or gateway faults), and its effect "
        "interacts with the carbon features it qualifies; no economic law fixes its direction.",
        0.0,
        1.0,
        True,
        False,
        "incomplete carbon data ({value})",
        "complete carbon data ({value})",
        ".0%",
        "no metered carbon data",
    ),
    FeatureSpec(
        "alert_count_12m",
        "carbon",
        "Open critical or warning abnormal-energy-use alerts in the last 12 months.",
        "count",
        +1,
        "Unresolved abnormal-use alerts point to operational trouble or misreporting: more alerts "
        "never lower PD.",
        0.0,
        10000.0,
        True,
        True,
        "{value} open energy-use alert(s)",
        "no open energy-use alerts",
        ".0f",
        "no alert history",
    ),
    FeatureSpec(
        "colour_rank",
        "carbon",
        "Quzhou colour: 1 dark green, 2 light green, 3 yellow, 4 red.",
        "rank 1-4",
        +1,
        "A worse colour (lower carbon score, capped by grade) never lowers PD; it also drives "
        "the financial-support policy attached to the colour.",
        1.0,
        4.0,
        True,
        True,
        "carbon colour rank {value} of 4 (red is 4)",
        "carbon colour rank {value} of 4 (dark green is 1)",
        ".0f",
        "no carbon colour",
    ),
)
"""Every feature in model column order."""

FEATURE_NAMES: tuple[str, ...] = tuple(spec.name for spec in FEATURE_SPECS)
"""Column order of the feature matrix."""

_BY_NAME: dict[str, FeatureSpec] = {spec.name: spec for spec in FEATURE_SPECS}


def feature_spec(name: str) -> FeatureSpec:
    """The spec of feature ``name``; :class:`FeatureError` if unknown."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise FeatureError(f"{name}: unknown feature (known: {', '.join(FEATURE_NAMES)})") from None


def specs_for(names: Sequence[str]) -> tuple[FeatureSpec, ...]:
    """Specs of ``names`` in that order; rejects unknown and repeated names."""
    if len(set(names)) != len(names):
        repeated = sorted({name for name in names if list(names).count(name) > 1})
        raise FeatureError(f"{', '.join(repeated)}: feature named more than once")
    return tuple(feature_spec(name) for name in names)


def monotone_constraints(names: Sequence[str] = FEATURE_NAMES) -> list[int]:
    """LightGBM ``monotone_constraints`` for columns ``names`` (+1, -1 or 0 each)."""
    return [spec.monotone for spec in specs_for(names)]


def _column(name: str, values: ArrayLike, n: int | None) -> FloatArray:
    try:
        column = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise FeatureError(f"{name}: values are not numbers ({exc})") from None
    if column.ndim != 1:
        raise FeatureError(f"{name}: expected a 1-D column, got shape {column.shape}")
    if n is not None and column.shape[0] != n:
        raise FeatureError(f"{name}: {column.shape[0]} values, expected {n} like the others")
    return column


def _check(spec: FeatureSpec, column: FloatArray) -> None:
    nan = np.isnan(column)
    problems: list[tuple[NDArray[np.bool_], str]] = [(np.isinf(column), "infinite")]
    if not spec.nullable:
        problems.append((nan, "missing (NaN), but the feature is required"))
    if spec.low is not None:
        problems.append((column < spec.low, f"below {spec.low:g}"))
    if spec.high is not None:
        problems.append((column > spec.high, f"above {spec.high:g}"))
    if spec.integer:
        problems.append((~nan & ~np.isinf(column) & (column != np.round(column)), "not whole"))
    for mask, why in problems:
        if mask.any():
            bad = np.flatnonzero(mask)
            raise FeatureError(
                f"{spec.name}: {bad.size} value(s) {why} (first at row {int(bad[0])}: "
                f"{column[bad[0]]!r}; allowed {spec.unit} in [{spec.low}, {spec.high}])"
            )


def feature_matrix(
    columns: Mapping[str, ArrayLike], names: Sequence[str] = FEATURE_NAMES
) -> FloatArray:
    """Stack named columns into the model's ``(rows, len(names))`` float64 matrix.

    Parameters
    ----------
    columns
        Column name -> ``(rows,)`` values in the unit of its :class:`FeatureSpec`; extra columns
        are ignored.
    names
        Features to take, in order (default :data:`FEATURE_NAMES`).

    Returns
    -------
    numpy.ndarray
        C-contiguous float64, NaN where a nullable feature is missing.

    Raises
    ------
    FeatureError
        A column is missing, not numeric, of another length, or out of its range.
    """
    specs = specs_for(names)
    missing = [spec.name for spec in specs if spec.name not in columns]
    if missing:
        raise FeatureError(f"{', '.join(missing)}: required feature column(s) missing")
    n: int | None = None
    out: list[FloatArray] = []
    for spec in specs:
        column = _column(spec.name, columns[spec.name], n)
        n = column.shape[0]
        _check(spec, column)
        out.append(column)
    if not out:
        raise FeatureError("names: no features requested")
    return np.ascontiguousarray(np.stack(out, axis=1))


def feature_row(
    values: Mapping[str, float | None], names: Sequence[str] = FEATURE_NAMES
) -> FloatArray:
    """One applicant's features as a validated ``(1, len(names))`` matrix (None -> NaN)."""
    columns = {name: [np.nan if value is None else value] for name, value in values.items()}
    return feature_matrix(columns, names)
