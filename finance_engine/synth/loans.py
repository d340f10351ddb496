"""Synthetic loan-application histories from a documented ground-truth PD process.

Each application carries the borrower's decision-time features (see :mod:`scoring.features`),
loan terms, and a 12-month outcome drawn from a known probability of default, kept as the oracle
``true_pd``. Ground truth (version :data:`GROUND_TRUTH_VERSION`; ``docs/risk-model.md``)::

    logit(PD) = a + 3.5 (lev - 0.55) + 3.0 max(lev - 0.80, 0) - 1.2 ln(cr) - 5 roa
                + 7 max(-roa, 0) - 0.40 ln(1 + years) + 0.70 min(overdue, 4)
                - 0.15 ln(revenue / 5000) + 0.15 (grade - 3) + 0.10 clip(trend, -30, 30) / 10
                + 0.10 min(alerts, 5) + 1.0 (1 - completeness)

with ``a`` = :data:`INTERCEPT`; a borrower without a carbon account counts as grade 3.5 with no
trend, alerts or completeness penalty; PD clipped to [0.002, 0.6]. Financial features weigh most;
carbon grade and trend modestly. The default flag is Bernoulli(PD) with a seeded generator.

Everything here is synthetic: design values, not statistics of Quzhou or of any bank.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from numpy.typing import NDArray

from accounting.grading import DEFAULT_GRADING_CONFIG, grade_batch, load_grading_config
from finance_engine.synth.loan_carbon import EXTRA_COLUMNS, carbon_columns
from products.lpr import default_lpr_history
from scoring.features import FEATURE_NAMES, FEATURE_SPECS

FloatArray = NDArray[np.float64]
GROUND_TRUTH_VERSION = "GT-PD-v1"
INTERCEPT = -2.70
"""Intercept of the ground-truth logit: a default rate of about 3.6% on the standalone mix."""
PD_CLIP = (0.002, 0.6)
TERM_MONTHS = 12
DEFAULT_MONTH_WEIGHTS = np.array([2, 4, 6, 8, 9, 10, 10, 10, 10, 10, 10, 11], dtype=np.float64)
"""Relative chance of default in months 1..12 on book (few defaults in the first months)."""
LGD_BETA = (7.29, 8.91)
"""Beta(a, b) of loss given default: mean 45% (Basel F-IRB senior unsecured), sd 12%."""
FINANCIAL = tuple(s.name for s in FEATURE_SPECS if s.group == "financial")
CARBON = tuple(s.name for s in FEATURE_SPECS if s.group == "carbon")
MONEY = ("base_limit", "disbursed", "ead", "loss")
"""Money columns: ``<name>_fen`` int64 in memory, ``<name>_yuan`` Decimal(18, 2) in files."""


@dataclass(frozen=True)
class Column:
    """One column of the loan-history file."""

    name: str
    kind: str
    """``str``, ``date``, ``int``, ``float`` or ``money`` (Decimal yuan, 2 dp)."""
    description: str


HISTORY_SCHEMA: tuple[Column, ...] = (
    Column("application_id", "str", "Unique application id."),
    Column("entity_id", "str", "Borrower id."),
    Column("application_date", "date", "Decision date (features are as of this date)."),
    Column("product_code", "str", "Product applied for; empty when none was recorded."),
    *(
        Column(s.name, "float", f"{s.description} [{s.unit}]; empty = not available")
        for s in FEATURE_SPECS
    ),
    Column("base_limit_yuan", "money", "Base credit limit before carbon multipliers, yuan."),
    Column("base_rate_pct", "float", "Base rate, percent a year: 1-year LPR + risk spread."),
    Column("term_months", "int", "Contract term, months."),
    Column("disbursed_yuan", "money", "Amount drawn, yuan."),
    Column(
        "ead_yuan",
        "money",
        "Exposure at default, yuan (on every row: the exposure should it default).",
    ),
    Column("lgd", "float", "Loss given default, fraction of EAD."),
    Column("default_12m", "int", "1 if the loan defaulted within 12 months on book."),
    Column("default_month", "int", "Month on book of the default (1-12); 0 without default."),
    Column("default_date", "date", "Date of default; empty without default."),
    Column("loss_yuan", "money", "Realised loss = LGD x EAD on defaults, 0 otherwise, yuan."),
    Column("months_on_book", "int", "Months observed: the default month, else 12."),
    Column("true_pd", "float", "Ground-truth 12-month PD (the oracle; absent in real data)."),
    *(Column(name, kind, description) for name, kind, description in EXTRA_COLUMNS),
)
_KIND = {c.name: c.kind for c in HISTORY_SCHEMA}
OPTIONAL_COLUMNS = frozenset(name for name, _, _ in EXTRA_COLUMNS)
"""Account, project and carbon columns (:mod:`finance_engine.synth.loan_carbon`) that older
history files may lack; :func:`read_loan_history` reads them when present."""


class HistoryFileError(ValueError):
    """A history file is unreadable or lacks a column; the message names file and column."""


@dataclass(frozen=True)
class LoanHistory:
    """Applications in date order, as named numpy columns (money as int64 fen = 0.01 yuan).

    ``columns`` holds every :data:`HISTORY_SCHEMA` column, money ones renamed ``<name>_fen``.
    """

    columns: dict[str, NDArray[np.generic]]
    seed: int
    ground_truth_version: str = GROUND_TRUTH_VERSION

    def __len__(self) -> int:
        return int(self.columns["application_id"].shape[0])

    def __getitem__(self, name: str) -> NDArray[np.generic]:
        return self.columns[name]

    def feature_columns(self) -> dict[str, FloatArray]:
        """The feature columns, float64 with NaN for not available."""
        return {name: self.columns[name].astype(np.float64) for name in FEATURE_NAMES}


def _sample_financial(
    rng: np.random.Generator, n: int, k_ratio: FloatArray
) -> dict[str, FloatArray]:
    tilt = np.nan_to_num(np.log(k_ratio), nan=0.0)
    leverage = np.clip(rng.beta(5.0, 4.0, n) + 0.03 * tilt, 0.02, 1.4)
    current = np.exp(np.log(1.3) - 0.8 * (leverage - 0.55) + 0.4 * rng.standard_normal(n))
    roa = 0.05 - 0.06 * (leverage - 0.55) + 0.05 * rng.standard_normal(n)
    return {
        "revenue_10k_yuan": np.round(np.exp(np.log(5000.0) + 1.2 * rng.standard_normal(n)), 1),
        "leverage": np.round(leverage, 4),
        "current_ratio": np.round(np.clip(current, 0.05, 20.0), 3),
        "return_on_assets": np.round(np.clip(roa, -0.5, 0.5), 4),
        "years_operating": np.floor(1.0 + rng.gamma(2.0, 6.0, n)).clip(1, 80),
        "overdue_count_24m": rng.poisson(0.25 + 1.5 * np.maximum(leverage - 0.6, 0.0)).astype(
            np.float64
        ),
    }


def sample_financials(
    rng: np.random.Generator, n: int, k_ratio: FloatArray
) -> dict[str, FloatArray]:
    """Financial features of ``n`` firms from the documented distribution (``k_ratio`` tilts
    leverage slightly, as in the loan histories): revenue_10k_yuan, leverage, current_ratio,
    return_on_assets, years_operating, overdue_count_24m."""
    return _sample_financial(rng, n, k_ratio)


def _sample_carbon(
    rng: np.random.Generator, n: int, years_in: NDArray[np.int64]
) -> dict[str, FloatArray]:
    """Carbon features graded by :mod:`accounting.grading` (benchmark intensity 1)."""
    k: FloatArray = np.exp(-0.04 * years_in + 0.5 * rng.standard_normal(n))
    trend = np.clip(rng.normal(-2.0 - 0.5 * years_in + 1.5 * np.log(k), 8.0), -60, 150)
    completeness = np.round(1.0 - np.minimum(rng.exponential(0.03, n), 0.6), 4)
    graded = grade_batch(
        load_grading_config(DEFAULT_GRADING_CONFIG),
        k,
        benchmark=1.0,
        regional_intensity=np.exp(0.3 * rng.standard_normal(n)),
        previous_intensity=k / (1.0 + trend / 100.0),
        completeness=completeness,
    )
    grade = graded.carbon_efficiency.astype(np.float64)
    rate = 0.2 + 0.8 * (completeness < 0.9) + 0.15 * (grade - 1)
    out: dict[str, FloatArray] = {
        "carbon_efficiency_grade": grade,
        "k_ratio": np.round(k, 4),
        "carbon_score": np.round(graded.score, 2),
        "intensity_trend_pct": np.round(trend, 2),
        "data_completeness": completeness,
        "alert_count_12m": rng.poisson(rate).astype(np.float64),
        "colour_rank": graded.colour.astype(np.float64) + 1.0,
    }
    no_account = rng.random(n) < 0.05
    for values in out.values():
        values[no_account] = np.nan
    return out


def true_pd(features: Mapping[str, FloatArray]) -> FloatArray:
    """Ground-truth 12-month PD of each row (the formula in the module docstring)."""
    f = {name: np.asarray(features[name], dtype=np.float64) for name in FEATURE_NAMES}
    lev, roa = f["leverage"], f["return_on_assets"]
    grade = np.nan_to_num(f["carbon_efficiency_grade"], nan=3.5)
    z = (
        INTERCEPT
        + 3.5 * (lev - 0.55)
        + 3.0 * np.maximum(lev - 0.80, 0.0)
        - 1.2 * np.log(np.clip(f["current_ratio"], 0.1, 20.0))
        - 5.0 * roa
        + 7.0 * np.maximum(-roa, 0.0)
        - 0.40 * np.log1p(f["years_operating"])
        + 0.70 * np.minimum(f["overdue_count_24m"], 4)
        - 0.15 * np.log(np.maximum(f["revenue_10k_yuan"], 1.0) / 5000.0)
        + 0.15 * (grade - 3.0)
        + 0.10 * np.nan_to_num(np.clip(f["intensity_trend_pct"], -30, 30), nan=0.0) / 10.0
        + 0.10 * np.nan_to_num(np.minimum(f["alert_count_12m"], 5), nan=0.0)
        + 1.0 * (1.0 - np.nan_to_num(f["data_completeness"], nan=1.0))
    )
    return np.clip(1.0 / (1.0 + np.exp(-z)), *PD_CLIP)


def _firm_block(
    firm_features: Mapping[str, NDArray[np.generic]], firm: NDArray[np.int64]
) -> dict[str, FloatArray]:
    out: dict[str, FloatArray] = {}
    for block in (FINANCIAL, CARBON):
        given = [name for name in block if name in firm_features]
        if given and len(given) != len(block):
            missing = ", ".join(name for name in block if name not in firm_features)
            raise ValueError(f"firm_features: {missing} missing (give all of a block or none)")
        out.update({name: np.asarray(firm_features[name], np.float64)[firm] for name in given})
    return out


def _features(
    rng: np.random.Generator,
    n: int,
    years_in: NDArray[np.int64],
    firm_features: Mapping[str, NDArray[np.generic]] | None,
) -> tuple[dict[str, FloatArray], NDArray[np.str_]]:
    """Feature columns and entity ids: firms' given blocks, the rest sampled."""
    feats: dict[str, FloatArray] = {}
    entity: NDArray[np.str_] = np.char.mod("SYN-%08d", np.arange(n))
    if firm_features is not None:
        n_firms = len(next(iter(firm_features.values())))
        firm = rng.integers(0, n_firms, n)
        feats = _firm_block(firm_features, firm)
        ids = firm_features.get("entity_id")
        entity = (
            np.asarray(ids).astype(str)[firm] if ids is not None else np.char.mod("FIRM-%06d", firm)
        )
    if "k_ratio" not in feats:
        feats.update(_sample_carbon(rng, n, years_in))
    if "leverage" not in feats:
        feats.update(_sample_financial(rng, n, feats["k_ratio"]))
    return feats, entity


def _lpr_1y_pct(dates: NDArray[np.datetime64]) -> FloatArray:
    fixings = default_lpr_history().fixings
    fixing_dates = np.array([f.fixing_date for f in fixings], dtype="datetime64[D]")
    index = np.searchsorted(fixing_dates, dates, side="right") - 1
    if (index < 0).any():
        raise ValueError(f"start_year: dates before the first LPR fixing ({fixing_dates[0]})")
    return np.array([float(f.lpr_1y_pct) for f in fixings])[index]


def generate_loan_history(
    seed: int,
    n_applications: int,
    start_year: int = 2024,
    years: int = 2,
    firm_features: Mapping[str, NDArray[np.generic]] | None = None,
    *,
    product_codes: Sequence[str] = (),
) -> LoanHistory:
    """Generate ``n_applications`` applications dated uniformly over ``years`` calendar years.

    Parameters
    ----------
    seed
        Seed of the one random generator used: same seed and inputs, same history.
    firm_features
        Optional ``(n_firms,)`` arrays: all financial features or none, all carbon features or
        none, and optionally ``entity_id``. Each application draws a firm uniformly; absent
        blocks are sampled. ``None``: every application is its own synthetic firm.
    product_codes
        Codes drawn uniformly per application; empty -> ``product_code`` is "".
    """
    if n_applications < 1 or years < 1:
        raise ValueError("n_applications and years: must be at least 1")
    rng = np.random.default_rng(seed)
    first = np.datetime64(f"{start_year}-01-01", "D")
    span = int((np.datetime64(f"{start_year + years}-01-01", "D") - first).astype(np.int64))
    dates = np.sort(first + rng.integers(0, span, n_applications).astype("timedelta64[D]"))
    years_in = dates.astype("datetime64[Y]").astype(np.int64) + 1970 - start_year
    feats, entity = _features(rng, n_applications, years_in, firm_features)
    pd_true = true_pd(feats)
    n = n_applications
    columns: dict[str, NDArray[np.generic]] = {
        "application_id": np.char.mod("LA%09d", np.arange(1, n + 1)),
        "entity_id": entity,
        "application_date": dates,
        "product_code": (
            np.asarray(product_codes)[rng.integers(0, len(product_codes), n)]
            if product_codes
            else np.full(n, "")
        ),
        **{name: feats[name] for name in FEATURE_NAMES},
    }
    columns.update(_terms_and_outcome(rng, feats, dates, pd_true))
    columns.update(carbon_columns(seed, columns))
    return LoanHistory(columns=columns, seed=seed)


def _terms_and_outcome(
    rng: np.random.Generator,
    f: dict[str, FloatArray],
    dates: NDArray[np.datetime64],
    pd_true: FloatArray,
) -> dict[str, NDArray[np.generic]]:
    n = dates.shape[0]
    limit_yuan = np.clip(f["revenue_10k_yuan"] * 1e4 * rng.uniform(0.05, 0.20, n), 1e5, 5e7)
    limit_fen = (np.round(limit_yuan / 1e4) * 1e6).astype(np.int64)
    disbursed_fen = (np.round(limit_fen * rng.uniform(0.5, 1.0, n) / 1e4) * 1e4).astype(np.int64)
    ead_fen = np.round(disbursed_fen * rng.uniform(0.85, 1.0, n)).astype(np.int64)
    spread_bp = 60 + 120 * (f["leverage"] - 0.55) + 25 * f["overdue_count_24m"]
    spread_bp = spread_bp - 20 * np.log10(f["revenue_10k_yuan"] / 5000) + rng.normal(0, 20, n)
    spread_bp = np.clip(np.round(spread_bp / 5) * 5, 0, 350)
    lgd = np.round(rng.beta(*LGD_BETA, n), 4)
    default = rng.random(n) < pd_true
    month = rng.choice(np.arange(1, 13), n, p=DEFAULT_MONTH_WEIGHTS / DEFAULT_MONTH_WEIGHTS.sum())
    month = np.where(default, month, 0)
    default_date = np.where(
        default, dates + np.round(month * 30.4375).astype("timedelta64[D]"), np.datetime64("NaT")
    )
    return {
        "base_limit_fen": limit_fen,
        "base_rate_pct": np.round(_lpr_1y_pct(dates) + spread_bp / 100.0, 2),
        "term_months": np.full(n, TERM_MONTHS, dtype=np.int64),
        "disbursed_fen": disbursed_fen,
        "ead_fen": ead_fen,
        "lgd": lgd,
        "default_12m": default.astype(np.int64),
        "default_month": month.astype(np.int64),
        "default_date": default_date.astype("datetime64[D]"),
        "loss_fen": np.where(default, np.round(lgd * ead_fen), 0).astype(np.int64),
        "months_on_book": np.where(default, month, TERM_MONTHS).astype(np.int64),
        "true_pd": pd_true,
    }


# --------------------------------------------------------------------------- files


def _fen_to_decimal(fen: NDArray[np.generic]) -> pa.Array:
    words = np.empty((fen.shape[0], 2), dtype=np.int64)
    words[:, 0] = fen
    words[:, 1] = words[:, 0] >> 63
    return pa.Array.from_buffers(
        pa.decimal128(18, 2), fen.shape[0], [None, pa.py_buffer(words.tobytes())]
    )


def _decimal_to_fen(array: pa.Array, where: str) -> NDArray[np.int64]:
    if array.null_count:
        raise HistoryFileError(f"{where}: {array.null_count} empty value(s)")
    scaled = array.cast(pa.decimal128(18, 2))
    words = np.frombuffer(scaled.buffers()[1], dtype=np.int64).reshape(-1, 2)
    return words[scaled.offset : scaled.offset + len(scaled), 0].copy()


def history_table(history: LoanHistory) -> pa.Table:
    """The history as an Arrow table in :data:`HISTORY_SCHEMA` order (money as Decimal yuan)."""
    arrays: dict[str, pa.Array] = {}
    for column in HISTORY_SCHEMA:
        if column.kind == "money":
            arrays[column.name] = _fen_to_decimal(
                history[column.name.removesuffix("_yuan") + "_fen"]
            )
        elif column.kind == "float":
            arrays[column.name] = pa.array(history[column.name], pa.float64(), from_pandas=True)
        else:
            arrays[column.name] = pa.array(history[column.name])
    return pa.table(arrays)


def write_loan_history(history: LoanHistory, path: Path) -> None:
    """Write ``history`` as CSV or Parquet (by the suffix ``.csv`` / ``.parquet``)."""
    table = history_table(history)
    if path.suffix == ".parquet":
        pq.write_table(table, path)
    elif path.suffix == ".csv":
        pa_csv.write_csv(table, path)
    else:
        raise HistoryFileError(f"{path}: unknown suffix {path.suffix!r} (use .csv or .parquet)")


_ARROW = {
    "str": pa.string(),
    "date": pa.date32(),
    "int": pa.int64(),
    "float": pa.float64(),
    "money": pa.decimal128(18, 2),
}


def _read_table(path: Path) -> pa.Table:
    if not path.is_file():
        raise HistoryFileError(f"{path}: no such file")
    try:
        if path.suffix == ".parquet":
            return pq.read_table(path)
        if path.suffix == ".csv":
            types = {name: _ARROW[kind] for name, kind in _KIND.items()}
            options = pa_csv.ConvertOptions(column_types=types, strings_can_be_null=True)
            return pa_csv.read_csv(path, convert_options=options)
    except (pa.ArrowInvalid, OSError) as exc:
        detail = str(exc).splitlines()[0]
        found = re.search(r"In CSV column #(\d+): (.*)", detail)
        if found:
            with path.open(encoding="utf-8", newline="") as stream:
                header = next(csv.reader(stream), [])
            index = int(found.group(1))
            name = header[index] if index < len(header) else f"#{index}"
            raise HistoryFileError(f"{path}: column {name}: {found.group(2)}") from exc
        raise HistoryFileError(f"{path}: unreadable ({detail})") from exc
    raise HistoryFileError(f"{path}: unknown suffix {path.suffix!r} (use .csv or .parquet)")


def read_history_columns(path: Path, required: Sequence[str]) -> dict[str, NDArray[np.generic]]:
    """Read the ``required`` columns of a CSV/Parquet history (money columns as int64 fen,
    renamed ``<name>_fen``; floats with NaN for empty; dates as datetime64[D]).

    Raises
    ------
    HistoryFileError
        Unreadable file, unknown suffix, missing column or a value of the wrong type.
    """
    table = _read_table(path)
    missing = [name for name in required if name not in table.column_names]
    if missing:
        raise HistoryFileError(f"{path}: missing column(s) {', '.join(missing)}")
    out: dict[str, NDArray[np.generic]] = {}
    for name in required:
        kind = _KIND.get(name, "float")
        column = table.column(name).combine_chunks()
        try:
            if kind == "money":
                out[name.removesuffix("_yuan") + "_fen"] = _decimal_to_fen(
                    column, f"{path}: {name}"
                )
            elif kind in ("float", "int"):
                values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
                if kind == "int" and not (values == np.round(values)).all():
                    raise ValueError("empty or non-whole value(s) in a whole-number column")
                out[name] = values if kind == "float" else values.astype(np.int64)
            else:
                typed = column.cast(_ARROW[kind])
                if kind == "str":
                    typed = pc.fill_null(typed, "")  # CSV reads an empty text cell as null
                out[name] = np.asarray(typed.to_numpy(zero_copy_only=False))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
            raise HistoryFileError(f"{path}: column {name}: {str(exc).splitlines()[0]}") from exc
    return out


def read_loan_history(path: Path, seed: int = -1) -> LoanHistory:
    """Read a full history file written by :func:`write_loan_history` (or to its schema; the
    :data:`OPTIONAL_COLUMNS` are read when present)."""
    present = set(file_column_names(path))
    names = [c.name for c in HISTORY_SCHEMA if c.name not in OPTIONAL_COLUMNS or c.name in present]
    columns = read_history_columns(path, names)
    return LoanHistory(columns=columns, seed=seed, ground_truth_version="file")


def file_column_names(path: Path) -> list[str]:
    """The column names of a CSV (its header) or Parquet (its schema) history file.

    Raises
    ------
    HistoryFileError
        The file does not exist, has an unknown suffix or cannot be read.
    """
    if not path.is_file():
        raise HistoryFileError(f"{path}: no such file")
    try:
        if path.suffix == ".parquet":
            return list(pq.read_schema(path).names)
        if path.suffix == ".csv":
            with path.open(encoding="utf-8", newline="") as stream:
                return next(csv.reader(stream), [])
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
        raise HistoryFileError(f"{path}: unreadable ({str(exc).splitlines()[0]})") from exc
    raise HistoryFileError(f"{path}: unknown suffix {path.suffix!r} (use .csv or .parquet)")
