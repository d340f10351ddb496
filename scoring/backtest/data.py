"""Historical applications as validated numpy columns: what a backtest replays.

A :class:`BacktestData` holds one value per application in each column (the history file schema
of ``docs/risk-model.md`` plus the optional account, project and carbon columns of
``docs/backtests.md``). Money is int64 fen (0.01 yuan), dates ``datetime64[D]``, features float64
with NaN for not available. Text columns with few distinct values (product code, sector,
industry code) are :class:`Categorical`: an int32 code per row into a tuple of labels, so rules
can be looked up with one gather instead of a string comparison per row.

:func:`backtest_data` validates every column once; each error names the column, the number of
bad values and the first bad row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from accounting.vocab import Sector
from scoring.features import FEATURE_NAMES, FeatureError, feature_matrix

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

MAX_BASE_LIMIT_FEN = 10**12
"""Largest base limit accepted, fen (10 bn yuan): keeps limit arithmetic exact in int64."""
MAX_BASE_RATE_PCT = 36.0
"""Highest base rate accepted, percent a year (as :mod:`scoring.applications`)."""

REQUIRED_NUMERIC: tuple[str, ...] = (
    "base_limit_fen",
    "base_rate_pct",
    "term_months",
    "disbursed_fen",
    "ead_fen",
    "lgd",
    "default_12m",
    "default_month",
    "months_on_book",
    "loss_fen",
)
"""Numeric columns every history needs (money in fen), besides the model features."""

OPTIONAL_NUMERIC: tuple[str, ...] = (
    "quality_tier",
    "provisional",
    "open_critical_alerts",
    "open_warning_alerts",
    "requested_amount_fen",
    "emissions_tco2e",
    "emissions_prior_tco2e",
    "equity_plus_debt_fen",
    "pcaf_data_quality",
    "emissions_cut_tco2e",
    "renewable_share_pct",
    "green_building_stars",
    "carbon_points",
    "resident_level",
    "consecutive_green_years",
    "true_pd",
)
"""Numeric columns used when present (a rule or a measure needing an absent one is skipped and
listed in the result); NaN means not available."""


class BacktestDataError(ValueError):
    """A history column is missing, misshapen or out of range; the message names it."""


@dataclass(frozen=True)
class Categorical:
    """A text column as an int32 code per row into ``labels`` (sorted, distinct)."""

    codes: NDArray[np.int32]
    labels: tuple[str, ...]

    @classmethod
    def from_values(cls, values: ArrayLike) -> Categorical:
        """Encode text values (None counts as the empty string)."""
        raw = np.asarray(values)
        if raw.dtype.kind != "U":
            raw = raw.astype(object)
            raw[raw == None] = ""  # noqa: E711 (elementwise comparison)
        text = raw.astype(str)
        labels, codes = np.unique(text, return_inverse=True)
        return cls(codes.astype(np.int32).reshape(-1), tuple(str(x) for x in labels))

    def values(self) -> NDArray[np.str_]:
        """The text value of every row."""
        table = np.asarray(self.labels if self.labels else ("",), dtype=str)
        result: NDArray[np.str_] = table[self.codes]
        return result

    def __len__(self) -> int:
        return int(self.codes.shape[0])


@dataclass(frozen=True)
class BacktestData:
    """Validated historical applications (build with :func:`backtest_data`).

    Attributes
    ----------
    application_id:
        ``(n,)`` text ids (echoed in swap-set files).
    application_date:
        ``(n,)`` decision dates, ``datetime64[D]``.
    product:
        The product applied for.
    features:
        ``(n, 13)`` model feature matrix in :data:`scoring.features.FEATURE_NAMES` order.
    numeric:
        Required and present optional numeric columns (money in fen).
    sector, industry:
        Borrower sector and GB/T 4754 industry code, when the history has them.
    account_period_end:
        Last day of the graded account period (NaT without one), when the history has it.
    """

    application_id: NDArray[np.generic]
    application_date: NDArray[np.datetime64]
    product: Categorical
    features: FloatArray
    numeric: Mapping[str, NDArray[np.generic]]
    sector: Categorical | None = None
    industry: Categorical | None = None
    account_period_end: NDArray[np.datetime64] | None = None
    entity_id: NDArray[np.generic] | None = None
    _feature_index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_feature_index", {n: i for i, n in enumerate(FEATURE_NAMES)})

    def __len__(self) -> int:
        return int(self.application_date.shape[0])

    def feature(self, name: str) -> FloatArray:
        """One model feature column (a view into :attr:`features`)."""
        column: FloatArray = self.features[:, self._feature_index[name]]
        return column

    def get(self, name: str) -> NDArray[np.generic] | None:
        """A numeric column, or None when the history lacks it."""
        return self.numeric.get(name)

    def has(self, name: str) -> bool:
        """Whether the history has the column ``name``."""
        special = {
            "sector": self.sector,
            "industry_code": self.industry,
            "account_period_end": self.account_period_end,
        }
        return special[name] is not None if name in special else name in self.numeric

    @property
    def has_account(self) -> NDArray[np.bool_]:
        """Rows whose borrower had a carbon account (its completeness is known)."""
        mask: NDArray[np.bool_] = ~np.isnan(self.feature("data_completeness"))
        return mask


def _bad(name: str, mask: NDArray[np.bool_], values: NDArray[np.generic], why: str) -> None:
    if mask.any():
        rows = np.flatnonzero(mask)
        raise BacktestDataError(
            f"{name}: {rows.size} value(s) {why} (first at row {int(rows[0])}: {values[rows[0]]!r})"
        )


def _numeric(name: str, values: ArrayLike, n: int) -> NDArray[np.generic]:
    try:
        array = np.asarray(values)
        if array.dtype.kind not in "iufb":
            array = array.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise BacktestDataError(f"{name}: values are not numbers ({exc})") from None
    if array.shape != (n,):
        raise BacktestDataError(f"{name}: shape {array.shape}, expected ({n},) like the others")
    return array


def _check_required(columns: Mapping[str, NDArray[np.generic]]) -> None:
    f = {name: np.asarray(columns[name], dtype=np.float64) for name in REQUIRED_NUMERIC}
    for name, values in f.items():
        _bad(name, np.isnan(values) | np.isinf(values), values, "empty or infinite")
    base = f["base_limit_fen"]
    _bad("base_limit_yuan", (base <= 0) | (base > MAX_BASE_LIMIT_FEN), base, "not in (0, 10bn]")
    rate = f["base_rate_pct"]
    _bad("base_rate_pct", (rate <= 0) | (rate > MAX_BASE_RATE_PCT), rate, "not in (0, 36]")
    scaled = rate * 10_000
    _bad("base_rate_pct", np.abs(scaled - np.round(scaled)) > 1e-6, rate, "with over 4 decimals")
    term = f["term_months"]
    _bad("term_months", (term < 1) | (term > 360) | (term != np.round(term)), term, "not 1-360")
    for name in ("disbursed_fen", "ead_fen", "loss_fen"):
        _bad(name.replace("_fen", "_yuan"), f[name] < 0, f[name], "negative")
    _bad("lgd", (f["lgd"] < 0) | (f["lgd"] > 1), f["lgd"], "outside [0, 1]")
    flag = f["default_12m"]
    _bad("default_12m", (flag != 0) & (flag != 1), flag, "not 0 or 1")
    month = f["default_month"]
    wrong = np.where(flag == 1, (month < 1) | (month != np.round(month)), month != 0)
    _bad("default_month", wrong, month, "not 1.. on a default and 0 otherwise")
    mob = f["months_on_book"]
    _bad("months_on_book", (mob < 0) | (mob != np.round(mob)), mob, "not a whole number >= 0")


OPTIONAL_RANGES: dict[str, tuple[float, float]] = {
    "quality_tier": (1, 5),
    "provisional": (0, 1),
    "open_critical_alerts": (0, 1e6),
    "open_warning_alerts": (0, 1e6),
    "requested_amount_fen": (1, MAX_BASE_LIMIT_FEN * 10),
    "emissions_tco2e": (0, 1e9),
    "emissions_prior_tco2e": (0, 1e9),
    "equity_plus_debt_fen": (0, 1e17),
    "pcaf_data_quality": (1, 5),
    "resident_level": (1, 5),
}
"""Inclusive ranges of optional columns (empty values allowed); other optional columns are
checked by the rules that read them."""


def _check_optional(numeric: Mapping[str, NDArray[np.generic]]) -> None:
    for name, (low, high) in OPTIONAL_RANGES.items():
        if name in numeric:
            values = np.asarray(numeric[name], dtype=np.float64)
            outside = ~np.isnan(values) & ((values < low) | (values > high))
            _bad(name.replace("_fen", "_yuan"), outside, values, f"outside [{low:g}, {high:g}]")


def backtest_data(
    columns: Mapping[str, ArrayLike],
    *,
    product: Categorical,
    application_id: ArrayLike,
    sector: Categorical | None = None,
    industry: Categorical | None = None,
    account_period_end: ArrayLike | None = None,
    entity_id: ArrayLike | None = None,
) -> BacktestData:
    """Validate history columns into a :class:`BacktestData`.

    Parameters
    ----------
    columns
        ``application_date`` (``datetime64[D]``), the 13 model features, every
        :data:`REQUIRED_NUMERIC` column and any :data:`OPTIONAL_NUMERIC` ones (money in fen).
    product, sector, industry
        Encoded text columns (see :class:`Categorical`).

    Raises
    ------
    BacktestDataError
        A column is missing, of another length, or out of range; the message names it.
    """
    dates = np.asarray(columns.get("application_date", np.empty(0)), dtype="datetime64[D]")
    n = dates.shape[0]
    if "application_date" not in columns or n == 0:
        raise BacktestDataError("application_date: required, with at least one row")
    _bad("application_date", np.isnat(dates), dates, "empty")
    missing = [name for name in REQUIRED_NUMERIC if name not in columns]
    if missing:
        raise BacktestDataError(f"{', '.join(missing)}: required column(s) missing")
    numeric = {name: _numeric(name, columns[name], n) for name in REQUIRED_NUMERIC}
    numeric.update(
        {name: _numeric(name, columns[name], n) for name in OPTIONAL_NUMERIC if name in columns}
    )
    _check_required(numeric)
    _check_optional(numeric)
    try:
        matrix = feature_matrix(columns)
    except FeatureError as exc:
        raise BacktestDataError(str(exc)) from None
    _check_categoricals(n, product, sector, industry)
    period_end = None
    if account_period_end is not None:
        period_end = np.asarray(account_period_end, dtype="datetime64[D]")
        if period_end.shape != (n,):
            raise BacktestDataError(f"account_period_end: expected ({n},) values")
    return BacktestData(
        application_id=_text(application_id, n, "application_id"),
        application_date=dates,
        product=product,
        features=matrix,
        numeric=numeric,
        sector=sector,
        industry=industry,
        account_period_end=period_end,
        entity_id=None if entity_id is None else _text(entity_id, n, "entity_id"),
    )


def _text(values: ArrayLike, n: int, name: str) -> NDArray[np.generic]:
    array = np.asarray(values)
    if array.shape != (n,):
        raise BacktestDataError(f"{name}: shape {array.shape}, expected ({n},)")
    return array


def _check_categoricals(
    n: int, product: Categorical, sector: Categorical | None, industry: Categorical | None
) -> None:
    for name, column in (("product_code", product), ("sector", sector), ("industry", industry)):
        if column is None:
            continue
        if len(column) != n:
            raise BacktestDataError(f"{name}: {len(column)} values, expected {n}")
        if len(column.labels) and (
            column.codes.min() < 0 or column.codes.max() >= len(column.labels)
        ):
            raise BacktestDataError(f"{name}: codes outside the labels")
    if sector is not None:
        known = {s.value for s in Sector}
        unknown = sorted(repr(label) for label in set(sector.labels) - known)
        if unknown:
            raise BacktestDataError(
                f"sector: unknown value(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})"
            )


def absent_columns(data: BacktestData, names: Sequence[str]) -> tuple[str, ...]:
    """The names among ``names`` the history lacks."""
    return tuple(name for name in names if not data.has(name))


TEXT_COLUMNS: tuple[str, ...] = ("product_code", "sector", "industry_code")
"""Text columns encoded as :class:`Categorical`."""


def history_data(
    columns: Mapping[str, ArrayLike], encoded: Mapping[str, Categorical] | None = None
) -> BacktestData:
    """A :class:`BacktestData` from history columns named as in the history file schema (money
    as ``<name>_fen``), e.g. :attr:`finance_engine.synth.loans.LoanHistory.columns`.

    Parameters
    ----------
    encoded
        Text columns already encoded (by name in :data:`TEXT_COLUMNS`); the others present in
        ``columns`` are encoded here.

    Raises
    ------
    BacktestDataError
        A required column is missing or a value is out of range.
    """
    given = dict(encoded or {})
    for name in TEXT_COLUMNS:
        if name not in given and name in columns:
            given[name] = Categorical.from_values(columns[name])
    for name in ("application_id", "product_code"):
        if name not in columns and name not in given:
            raise BacktestDataError(f"{name}: required column missing")
    return backtest_data(
        columns,
        product=given["product_code"],
        application_id=columns["application_id"],
        sector=given.get("sector"),
        industry=given.get("industry_code"),
        account_period_end=columns.get("account_period_end"),
        entity_id=columns.get("entity_id"),
    )
