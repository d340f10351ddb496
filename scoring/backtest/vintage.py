"""Vintage curves: cumulative default rate by months on book, per group of loans.

For month on book ``m`` (1 .. ``max_months``) and a group of loans::

    cumulative default rate(m) = loans defaulted in months 1..m / loans whose status at m is known

A defaulted loan's status is known at every month (performing before its default month,
defaulted from it on); a loan without default is known up to its ``months_on_book`` (later
months are censored: a recent loan not yet observed for m months leaves the denominator). With
fully observed outcomes, as in the synthetic histories, the denominator is every loan of the
group. Groups are the Quzhou colours (and no colour), and the year of origination.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scoring.backtest.data import BacktestData

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


def cumulative_default_rates(
    group: IntArray,
    n_groups: int,
    default_month: IntArray,
    months_on_book: IntArray,
    mask: BoolArray,
    max_months: int,
) -> tuple[NDArray[np.float64], IntArray]:
    """``(n_groups, max_months)`` cumulative default rates (NaN where no loan is observed) and
    ``(n_groups,)`` loans per group.

    Parameters
    ----------
    group
        Group index of each loan, 0 .. n_groups - 1.
    default_month
        Month on book of the default, 1.. ; 0 without default.
    months_on_book
        Months observed.
    mask
        Loans to include.
    """
    g = group[mask]
    month = default_month[mask]
    mob = months_on_book[mask]
    defaulted = month > 0
    width = max_months + 2
    by_month = np.bincount(
        g[defaulted] * width + np.minimum(month[defaulted], max_months + 1),
        minlength=n_groups * width,
    ).reshape(n_groups, width)
    defaults_by = np.cumsum(by_month, axis=1)[:, 1 : max_months + 1]
    observed = np.bincount(
        g[~defaulted] * width + np.clip(mob[~defaulted], 0, max_months + 1),
        minlength=n_groups * width,
    ).reshape(n_groups, width)
    at_least = np.cumsum(observed[:, ::-1], axis=1)[:, ::-1][:, 1 : max_months + 1]
    known = at_least + np.bincount(g[defaulted], minlength=n_groups)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = np.where(known > 0, defaults_by / known, np.nan)
    return rates, np.bincount(g, minlength=n_groups)


def curves(
    labels: Sequence[str],
    group: IntArray,
    data: BacktestData,
    mask: BoolArray,
    max_months: int,
) -> dict[str, Any]:
    """JSON-ready curves of each group: loans and the cumulative default rate by month."""
    rates, counts = cumulative_default_rates(
        group,
        len(labels),
        np.asarray(data.numeric["default_month"], dtype=np.int64),
        np.asarray(data.numeric["months_on_book"], dtype=np.int64),
        mask,
        max_months,
    )
    return {
        label: {
            "loans": int(counts[i]),
            "cumulative_default_rate": [
                None if np.isnan(value) else float(value) for value in rates[i]
            ],
        }
        for i, label in enumerate(labels)
    }


def max_months_on_book(data: BacktestData) -> int:
    """The longest month on book seen (default month or observation), at least 1."""
    months = np.asarray(data.numeric["months_on_book"], dtype=np.int64)
    defaults = np.asarray(data.numeric["default_month"], dtype=np.int64)
    return int(max(1, months.max(), defaults.max()))


def origination_years(data: BacktestData) -> tuple[tuple[str, ...], IntArray]:
    """Year labels and the year index of each application."""
    years = data.application_date.astype("datetime64[Y]").astype(np.int64) + 1970
    first = int(years.min())
    labels = tuple(str(year) for year in range(first, int(years.max()) + 1))
    return labels, (years - first).astype(np.int64)
