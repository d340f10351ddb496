"""Backtest service: read a history file, the rule sets and the model; run; write the outputs.

:func:`run_backtest` is what the CLI (``finance-engine backtest``) and a job runner call. It
reads the history (CSV or Parquet, ``docs/backtests.md``), loads the champion catalog and the
challenger (a catalog directory or file, or a rule patch applied to the champion), computes each
application's PD with the risk model once, replays both rule sets
(:func:`scoring.backtest.run_backtest`) and writes into the output folder:

- ``backtest.json``: the summary (canonical JSON: the same inputs give the same bytes);
- ``swaps.csv``: the swap-set applications (id, entity, product, date, set, colour, PD, outcome);
- ``backtest.pdf``: the report with charts (:mod:`reports.backtest_pdf`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
from numpy.typing import NDArray

from finance_engine.config import Settings, load_settings
from finance_engine.services.models import (
    FileModelStore,
    ModelServiceError,
    file_sha256,
    load_model_dir,
)
from finance_engine.synth.loans import HistoryFileError, file_column_names, read_history_columns
from products.catalog import DEFAULT_CATALOG_DIR, Catalog, CatalogError, load_catalog
from products.lpr import LprError
from reports.backtest_pdf import render_backtest_pdf
from scoring.backtest import (
    STAGES,
    BacktestDataError,
    BacktestOptions,
    BacktestRun,
    PatchError,
    PeriodError,
    RuleSet,
    RuleSetError,
    apply_patch,
    load_patch,
    summary_json,
)
from scoring.backtest import run_backtest as run_pure
from scoring.backtest.data import OPTIONAL_NUMERIC, BacktestData, Categorical, history_data
from scoring.backtest.measures import COLOUR_GROUPS, colour_index
from scoring.backtest.patch import PATCH_FORMAT
from scoring.features import FEATURE_NAMES
from scoring.risk_model import RiskModel

Progress = Callable[[str], None]
"""Called with the name of each stage as it finishes (see :data:`SERVICE_STAGES`)."""
SERVICE_STAGES: tuple[str, ...] = (
    "read history",
    "model PDs",
    *STAGES,
    "write JSON",
    "write PDF",
)
JSON_FILE = "backtest.json"
PDF_FILE = "backtest.pdf"
SWAPS_FILE = "swaps.csv"

REQUIRED_FILE_COLUMNS: tuple[str, ...] = (
    "application_id",
    "application_date",
    "product_code",
    *FEATURE_NAMES,
    "base_limit_yuan",
    "base_rate_pct",
    "term_months",
    "disbursed_yuan",
    "ead_yuan",
    "lgd",
    "default_12m",
    "default_month",
    "months_on_book",
    "loss_yuan",
)
"""Columns every history file needs (money in Decimal yuan)."""
OPTIONAL_FILE_COLUMNS: tuple[str, ...] = (
    "entity_id",
    "sector",
    "industry_code",
    "account_period_end",
    *(name.replace("_fen", "_yuan") for name in OPTIONAL_NUMERIC),
)
"""Columns read when present (``docs/backtests.md`` says which rule or measure uses each)."""


class BacktestServiceError(ValueError):
    """Bad input file, rule set, model or period; the message names the file and the field."""


@dataclass(frozen=True)
class BacktestResult:
    """What a backtest wrote, and its summary (the content of ``backtest.json``)."""

    summary: dict[str, Any]
    out_dir: Path
    json_path: Path
    swaps_path: Path
    pdf_path: Path | None

    def to_dict(self) -> dict[str, Any]:
        """A small JSON-able result for a job runner: the files and the headline figures."""
        results = self.summary["rule_sets"]
        keys = (
            "applications",
            "booked",
            "approval_rate",
            "booked_volume_yuan",
            "average_rate_pct",
            "interest_forgone_yuan",
            "expected_loss_yuan",
            "realised_loss_yuan",
            "bad_rate",
        )
        headline = {
            side: {key: results[side][key] for key in keys}
            for side in ("champion", "challenger", "delta")
        }
        swaps = self.summary["swap_sets"]
        result: dict[str, Any] = json.loads(
            summary_json(
                {
                    "out_dir": str(self.out_dir),
                    "files": {
                        "json": str(self.json_path),
                        "swaps": str(self.swaps_path),
                        "pdf": None if self.pdf_path is None else str(self.pdf_path),
                    },
                    "headline": headline,
                    "swap_out": swaps["swap_out"]["applications"],
                    "swap_in": swaps["swap_in"]["applications"],
                }
            )
        )
        return result


def _skip(stage: str) -> None:
    del stage


def read_history(path: Path) -> BacktestData:
    """Read and validate a history file (CSV or Parquet) for a backtest.

    Raises
    ------
    BacktestServiceError
        Unreadable file, missing column or a bad value; the message names file and column.
    """
    try:
        present = set(file_column_names(path))
        wanted = [*REQUIRED_FILE_COLUMNS, *(c for c in OPTIONAL_FILE_COLUMNS if c in present)]
        requested = "requested_amount_yuan"
        columns: dict[str, Any] = read_history_columns(path, [c for c in wanted if c != requested])
        if requested in present:
            yuan = read_history_columns(path, [requested])[requested]
            columns["requested_amount_fen"] = np.round(np.asarray(yuan, dtype=np.float64) * 100)
        encoded: dict[str, Categorical] = {
            name: _encode(columns[name])
            for name in ("product_code", "sector", "industry_code")
            if name in columns
        }
        return history_data(columns, encoded)
    except HistoryFileError as exc:
        raise BacktestServiceError(str(exc)) from exc
    except BacktestDataError as exc:
        raise BacktestServiceError(f"{path}: column {exc}") from exc


def _encode(values: NDArray[Any]) -> Categorical:
    """Dictionary-encode a text column with Arrow (hashing, no sort of the rows)."""
    encoded = pa.array(values, type=pa.string(), from_pandas=True).fill_null("").dictionary_encode()
    labels = [str(x) for x in encoded.dictionary.to_pylist()]
    order = np.argsort(np.asarray(labels, dtype=str), kind="stable")
    rank = np.empty(len(labels), dtype=np.int32)
    rank[order] = np.arange(len(labels), dtype=np.int32)
    codes = rank[encoded.indices.to_numpy(zero_copy_only=False)]
    return Categorical(codes.astype(np.int32), tuple(sorted(labels)))


def _catalog(path: Path, what: str) -> Catalog:
    try:
        return load_catalog(path)
    except (CatalogError, LprError) as exc:
        raise BacktestServiceError(f"{what}: {exc}") from exc


def load_rule_sets(champion_dir: Path, challenger: Path) -> tuple[RuleSet, RuleSet]:
    """The champion catalog, and the challenger: a catalog directory or file, or a rule patch
    (``finance-engine/rule-patch@1``) applied to the champion.

    Raises
    ------
    BacktestServiceError
        A catalog or patch is missing or invalid (every problem listed).
    """
    champion = RuleSet(_catalog(champion_dir, "champion"), str(champion_dir))
    if not challenger.exists():
        raise BacktestServiceError(f"challenger: {challenger} does not exist")
    if challenger.is_file() and _format_of(challenger) == PATCH_FORMAT:
        try:
            patch = load_patch(challenger)
            patched = apply_patch(champion.catalog, patch)
        except PatchError as exc:
            raise BacktestServiceError(f"challenger: {exc}") from exc
        return champion, RuleSet(patched, f"{challenger} applied to {champion_dir}", patch)
    return champion, RuleSet(_catalog(challenger, "challenger"), str(challenger))


def _format_of(path: Path) -> str | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("format") if isinstance(data, dict) else None


def resolve_model(model: RiskModel | Path | None, settings: Settings | None) -> RiskModel:
    """The model given, a model folder, or the current model of the instance."""
    if isinstance(model, RiskModel):
        return model
    try:
        if model is not None:
            return load_model_dir(model)
        return FileModelStore.for_settings(settings or load_settings()).load()
    except ModelServiceError as exc:
        raise BacktestServiceError(f"model: {exc}") from exc


def predict_pds(model: RiskModel, data: BacktestData) -> NDArray[np.float64]:
    """Every application's calibrated PD (one vectorised model call)."""
    if tuple(model.feature_names_) == FEATURE_NAMES:
        matrix = data.features
    else:
        matrix = np.column_stack([data.feature(name) for name in model.feature_names_])
    return model.predict_pd(matrix)


def write_swaps(path: Path, data: BacktestData, run: BacktestRun, pd: NDArray[np.float64]) -> None:
    """The swap-out and swap-in applications as CSV, in history order."""
    sets = np.where(run.swaps.swap_out, "swap_out", np.where(run.swaps.swap_in, "swap_in", ""))
    rows = np.flatnonzero(sets != "")
    entity = data.entity_id if data.entity_id is not None else np.full(len(data), "")
    table = pa.table(
        {
            "application_id": pa.array(np.asarray(data.application_id)[rows].astype(str)),
            "entity_id": pa.array(np.asarray(entity)[rows].astype(str)),
            "product_code": pa.array(data.product.values()[rows]),
            "application_date": pa.array(data.application_date[rows]),
            "swap_set": pa.array(sets[rows]),
            "colour": pa.array(np.asarray(COLOUR_GROUPS)[colour_index(data)[rows]]),
            "pd": pa.array(np.round(pd[rows], 6)),
            "default_12m": pa.array(np.asarray(data.numeric["default_12m"])[rows].astype(np.int64)),
        }
    )
    pa_csv.write_csv(table, path)


def run_backtest(
    history_path: Path,
    champion_dir: Path | None,
    challenger: Path,
    out_dir: Path,
    *,
    progress: Progress | None = None,
    model: RiskModel | Path | None = None,
    settings: Settings | None = None,
    options: BacktestOptions | None = None,
    pdf: bool = True,
) -> BacktestResult:
    """Run a backtest from files and write its outputs into ``out_dir``.

    Parameters
    ----------
    champion_dir
        Champion catalog directory (None: the packaged catalog).
    challenger
        A catalog directory or file, or a rule-patch file applied to the champion.
    progress
        Called with each of :data:`SERVICE_STAGES` as it finishes.
    model
        A loaded model, a model folder, or None for the current model of the instance.

    Raises
    ------
    BacktestServiceError
        Any bad input; the message names the file and the field.
    """
    step = progress or _skip
    rule_sets = load_rule_sets(champion_dir or DEFAULT_CATALOG_DIR, challenger)
    risk_model = resolve_model(model, settings)
    data = read_history(history_path)
    step(SERVICE_STAGES[0])
    pd = predict_pds(risk_model, data)
    step(SERVICE_STAGES[1])
    try:
        run = run_pure(data, pd, *rule_sets, options, step)
    except (PeriodError, RuleSetError) as exc:
        raise BacktestServiceError(str(exc)) from exc
    summary = run.summary
    summary["inputs"]["history"] = {
        "file": str(history_path),
        "sha256": file_sha256(history_path),
        **summary["inputs"]["history"],
    }
    summary["inputs"]["model"] = {"version": risk_model.version, "sha256": risk_model.model_sha256_}
    return _write(out_dir, summary, data, run, pd, step, pdf)


def _write(
    out_dir: Path,
    summary: dict[str, Any],
    data: BacktestData,
    run: BacktestRun,
    pd: NDArray[np.float64],
    step: Progress,
    pdf: bool,
) -> BacktestResult:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / JSON_FILE
    json_path.write_text(summary_json(summary), encoding="utf-8")
    swaps_path = out_dir / SWAPS_FILE
    write_swaps(swaps_path, data, run, pd)
    step(SERVICE_STAGES[-2])
    pdf_path = None
    if pdf:
        pdf_path = out_dir / PDF_FILE
        pdf_path.write_bytes(render_backtest_pdf(summary))
    step(SERVICE_STAGES[-1])
    return BacktestResult(summary, out_dir, json_path, swaps_path, pdf_path)


def headline_rows(summary: dict[str, Any]) -> Sequence[tuple[str, Any, Any, Any]]:
    """(label, champion, challenger, delta) of the headline figures, for text output."""
    results = summary["rule_sets"]
    keys = (
        ("applications", "applications"),
        ("booked (approve + refer)", "booked"),
        ("approval rate", "approval_rate"),
        ("booked volume (yuan)", "booked_volume_yuan"),
        ("limit uplift (yuan)", "limit_uplift_yuan"),
        ("average rate (%)", "average_rate_pct"),
        ("interest forgone (yuan)", "interest_forgone_yuan"),
        ("expected loss (yuan)", "expected_loss_yuan"),
        ("realised loss (yuan)", "realised_loss_yuan"),
        ("bad rate", "bad_rate"),
    )
    return [
        (label, results["champion"][key], results["challenger"][key], results["delta"][key])
        for label, key in keys
    ]
