"""LightGBM probability-of-default model with monotone constraints and calibrated PDs.

Estimator contract (optbinning style): ``__init__`` stores parameters, :meth:`RiskModel.fit`
validates and learns (fitted attributes end in ``_``), :meth:`RiskModel.save` /
:meth:`RiskModel.load` write and read LightGBM's text model plus JSON metadata (never pickle).

Fitting splits the rows once with the seed: train (60%), validation (20%: early stopping and the
reported metrics) and calibration (20%: the isotonic or Platt map from raw log-odds to PD).
Training is deterministic (``deterministic=True``, fixed seed and thread count).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import lightgbm as lgb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from scoring import metrics
from scoring._fast_predict import FastRowPredictor
from scoring.calibration import (
    RiskBands,
    calibrator_from_dict,
    default_risk_bands,
    fit_calibrator,
)
from scoring.features import FEATURE_NAMES, FeatureSpec, specs_for

FloatArray = NDArray[np.float64]
MODEL_FORMAT = "finance-engine/risk-model@1"
MODEL_FILE = "model.txt"
METADATA_FILE = "metadata.json"
MIN_CONTRIBUTION = 0.01
"""Log-odds contribution below which a feature is not named as a reason."""


_PARAM_NAMES = (
    "num_leaves",
    "learning_rate",
    "min_data_in_leaf",
    "lambda_l2",
    "feature_fraction",
    "max_rounds",
    "early_stopping_rounds",
    "validation_fraction",
    "calibration_fraction",
    "calibration",
    "seed",
    "num_threads",
)


class RiskModelError(ValueError):
    """Bad training input, an unfitted model, or an unreadable model folder."""


class ModelIntegrityError(RiskModelError):
    """A saved model's file does not match the SHA-256 recorded in its metadata."""


@dataclass(frozen=True)
class ReasonCode:
    """One feature's push on PD for one applicant, in plain words."""

    feature: str
    group: str
    """``financial`` or ``carbon``."""
    value: float
    contribution: float
    """Log-odds added to the model's score by this feature (positive raises PD)."""
    text: str


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def training_data_sha256(x: FloatArray, y: ArrayLike, names: Sequence[str]) -> str:
    """Hash of a feature matrix, its labels and column names (when no file hash is given)."""
    digest = hashlib.sha256(json.dumps(list(names)).encode())
    digest.update(np.ascontiguousarray(x, dtype=np.float64).tobytes())
    digest.update(np.asarray(y, dtype=np.int8).tobytes())
    return digest.hexdigest()


class RiskModel:
    """Monotone-constrained LightGBM PD model with a calibration map.

    Parameters
    ----------
    num_leaves, learning_rate, min_data_in_leaf, lambda_l2, feature_fraction
        LightGBM tree parameters.
    max_rounds, early_stopping_rounds
        Boosting rounds at most; stop after this many without validation log-loss improving.
    validation_fraction, calibration_fraction
        Shares of rows held out for early stopping / metrics and for calibration.
    calibration
        ``platt`` (default: smooth, two parameters; measured better than isotonic on the
        synthetic history, see docs/risk-model.md) or ``isotonic``.
    seed, num_threads
        Seed of the split and of LightGBM; threads used in training (fixed for determinism).
    """

    def __init__(
        self,
        *,
        num_leaves: int = 7,
        learning_rate: float = 0.05,
        min_data_in_leaf: int = 200,
        lambda_l2: float = 20.0,
        feature_fraction: float = 1.0,
        max_rounds: int = 1000,
        early_stopping_rounds: int = 50,
        validation_fraction: float = 0.2,
        calibration_fraction: float = 0.2,
        calibration: str = "platt",
        seed: int = 20240601,
        num_threads: int = 1,
    ) -> None:
        self.num_leaves = num_leaves
        self.learning_rate = learning_rate
        self.min_data_in_leaf = min_data_in_leaf
        self.lambda_l2 = lambda_l2
        self.feature_fraction = feature_fraction
        self.max_rounds = max_rounds
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.calibration_fraction = calibration_fraction
        self.calibration = calibration
        self.seed = seed
        self.num_threads = num_threads

    # ------------------------------------------------------------------ fitting

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters."""
        return {name: getattr(self, name) for name in _PARAM_NAMES}

    def lightgbm_params(self, constraints: Sequence[int]) -> dict[str, Any]:
        """The LightGBM parameter dict used for training."""
        return {
            "objective": "binary",
            "metric": "binary_logloss",
            "num_leaves": self.num_leaves,
            "learning_rate": self.learning_rate,
            "min_data_in_leaf": self.min_data_in_leaf,
            "lambda_l2": self.lambda_l2,
            "feature_fraction": self.feature_fraction,
            "monotone_constraints": list(constraints),
            "monotone_constraints_method": "intermediate",
            "seed": self.seed,
            "deterministic": True,
            "force_col_wise": True,
            "num_threads": self.num_threads,
            "verbosity": -1,
        }

    def fit(
        self,
        x: ArrayLike,
        y: ArrayLike,
        feature_names: Sequence[str] = FEATURE_NAMES,
        *,
        created_at: datetime,
        data_sha256: str | None = None,
    ) -> Self:
        """Train, calibrate and measure the model.

        Parameters
        ----------
        X
            ``(rows, features)`` float matrix, columns in ``feature_names`` order, NaN = missing.
        y
            ``(rows,)`` 0/1 default-within-12-months flags.
        created_at
            Timezone-aware training time (from the caller's clock); part of the version.
        data_sha256
            Hash of the training file; default a hash of ``x``, ``y`` and the names.
        """
        matrix, labels, specs = _validate(x, y, feature_names, created_at)
        train, valid, calib = self._split(labels)
        constraints = [spec.monotone for spec in specs]
        text, best_iteration = self._boost(matrix, labels, train, valid, specs)
        self._install(text, specs)
        self.calibrator_ = fit_calibrator(
            self.calibration, self.raw_score(matrix[calib]), labels[calib]
        )
        self.model_sha256_ = sha256_hex(text.encode())
        stamp = created_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.version_ = f"RM-{stamp}-{self.model_sha256_[:10]}"
        self.metadata_ = self._metadata(
            created_at,
            constraints,
            data_sha256 or training_data_sha256(matrix, labels, list(feature_names)),
            labels,
            (train, valid, calib),
            best_iteration,
            self.evaluate(matrix[valid], labels[valid]),
        )
        return self

    def _boost(
        self,
        matrix: FloatArray,
        labels: NDArray[np.int8],
        train: NDArray[np.int64],
        valid: NDArray[np.int64],
        specs: Sequence[FeatureSpec],
    ) -> tuple[str, int]:
        """Boost with early stopping; the model text cut at the best iteration, and that."""
        names = [spec.name for spec in specs]
        train_set = lgb.Dataset(
            matrix[train], labels[train], feature_name=names, free_raw_data=True
        )
        valid_set = train_set.create_valid(matrix[valid], labels[valid])
        booster = lgb.train(
            self.lightgbm_params([spec.monotone for spec in specs]),
            train_set,
            num_boost_round=self.max_rounds,
            valid_sets=[valid_set],
            callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
        )
        best = int(booster.best_iteration)
        return booster.model_to_string(num_iteration=best), best

    def _split(self, labels: NDArray[np.int8]) -> tuple[NDArray[np.int64], ...]:
        n = labels.shape[0]
        order = np.random.default_rng(self.seed).permutation(n)
        n_valid = round(n * self.validation_fraction)
        n_calib = round(n * self.calibration_fraction)
        parts = (order[n_valid + n_calib :], order[:n_valid], order[n_valid : n_valid + n_calib])
        for part, name in zip(parts, ("training", "validation", "calibration"), strict=True):
            if part.size == 0 or labels[part].min() == labels[part].max():
                raise RiskModelError(f"y: the {name} split needs both defaults and non-defaults")
        return parts

    def _install(self, text: str, specs: Sequence[FeatureSpec]) -> None:
        self.model_text_ = text
        self.booster_ = lgb.Booster(model_str=text)
        self.feature_names_ = tuple(spec.name for spec in specs)
        self.specs_ = tuple(specs)
        self.bands_: RiskBands = default_risk_bands()
        self._fast = FastRowPredictor(self.booster_, len(specs))

    def _metadata(
        self,
        created_at: datetime,
        constraints: list[int],
        data_sha: str,
        labels: NDArray[np.int8],
        parts: tuple[NDArray[np.int64], ...],
        best_iteration: int,
        validation: dict[str, Any],
    ) -> dict[str, Any]:
        return {
            "format": MODEL_FORMAT,
            "version": self.version_,
            "created_at": created_at.isoformat(),
            "lightgbm_version": lgb.__version__,
            "model_file": MODEL_FILE,
            "model_sha256": self.model_sha256_,
            "features": [
                {
                    "name": s.name,
                    "group": s.group,
                    "unit": s.unit,
                    "monotone": s.monotone,
                    "reason": s.reason,
                }
                for s in self.specs_
            ],
            "monotone_constraints": constraints,
            "params": self.get_params(),
            "best_iteration": int(best_iteration),
            "training": {
                "data_sha256": data_sha,
                "n_rows": int(labels.size),
                "default_rate": float(labels.mean()),
                "n_train": int(parts[0].size),
                "n_validation": int(parts[1].size),
                "n_calibration": int(parts[2].size),
            },
            "calibration": self.calibrator_.to_dict(),
            "validation": validation,
            "risk_bands": self.bands_.to_dict(),
        }

    # ------------------------------------------------------------------ prediction

    def _check_fitted(self) -> None:
        if not hasattr(self, "booster_"):
            raise RiskModelError("model: not fitted (call fit or load first)")

    @property
    def version(self) -> str:
        """Model version, ``RM-<created_at>-<model sha256 prefix>``."""
        self._check_fitted()
        return self.version_

    def _matrix(self, x: ArrayLike) -> FloatArray:
        self._check_fitted()
        matrix = np.ascontiguousarray(x, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] != len(self.feature_names_):
            raise RiskModelError(
                f"x: expected (rows, {len(self.feature_names_)}) in order "
                f"{', '.join(self.feature_names_)}; got shape {matrix.shape}"
            )
        return matrix

    def raw_score(self, x: ArrayLike) -> FloatArray:
        """Uncalibrated log-odds of default, ``(rows,)``."""
        matrix = self._matrix(x)
        return np.asarray(self.booster_.predict(matrix, raw_score=True), dtype=np.float64)

    def predict_pd(self, x: ArrayLike) -> FloatArray:
        """Calibrated 12-month PD of each row, ``(rows,)``."""
        raw = self.raw_score(x)
        return self.calibrator_(raw)

    def predict_pd_row(self, row: FloatArray) -> float:
        """Calibrated PD of one ``(features,)`` float64 row: the low-latency path (one thread,
        a cached LightGBM fast-prediction configuration, no input copying)."""
        self._check_fitted()
        return self.calibrator_.one(self._fast.raw_score(row))

    def risk_band(self, pd: ArrayLike) -> NDArray[np.str_]:
        """Risk band label of each PD."""
        labels = np.asarray(self.bands_.labels)
        result: NDArray[np.str_] = labels[self.bands_.index(pd)]
        return result

    def contributions(self, x: ArrayLike) -> FloatArray:
        """Per-feature log-odds contributions, ``(rows, features + 1)``; last column the bias.
        Each row sums to :meth:`raw_score`."""
        matrix = self._matrix(x)
        return np.asarray(self.booster_.predict(matrix, pred_contrib=True), dtype=np.float64)

    def reason_codes(self, row: ArrayLike, top: int = 3) -> tuple[ReasonCode, ...]:
        """The ``top`` features pushing this applicant's PD up most, in plain words."""
        x = self._matrix(np.asarray(row, dtype=np.float64).reshape(1, -1))[0]
        one = self.booster_.predict(x.reshape(1, -1), pred_contrib=True, num_threads=1)
        contrib = np.asarray(one, dtype=np.float64)[0, :-1]
        order = np.argsort(-contrib, kind="stable")[:top]
        return tuple(
            ReasonCode(
                feature=self.specs_[i].name,
                group=self.specs_[i].group,
                value=float(x[i]),
                contribution=float(contrib[i]),
                text=self.specs_[i].describe(float(x[i]), raises_pd=True),
            )
            for i in order
            if contrib[i] >= MIN_CONTRIBUTION
        )

    def evaluate(self, x: ArrayLike, y: ArrayLike) -> dict[str, Any]:
        """AUC, KS, Gini, Brier, ECE, mean PD vs default rate and calibration by band."""
        bands = self.bands_
        return metrics.performance_report(y, self.predict_pd(x), bands.labels, bands.upper_pd)

    # ------------------------------------------------------------------ persistence

    def save(self, directory: Path) -> Path:
        """Write ``model.txt`` (LightGBM text format) and ``metadata.json`` into ``directory``."""
        self._check_fitted()
        directory.mkdir(parents=True, exist_ok=True)
        (directory / MODEL_FILE).write_bytes(self.model_text_.encode())
        (directory / METADATA_FILE).write_text(
            json.dumps(self.metadata_, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
            encoding="utf-8",
        )
        return directory

    @classmethod
    def load(cls, directory: Path) -> RiskModel:
        """Read a model folder, refusing a model file whose SHA-256 differs from the metadata."""
        try:
            metadata = json.loads((directory / METADATA_FILE).read_text(encoding="utf-8"))
            model_bytes = (directory / str(metadata.get("model_file", MODEL_FILE))).read_bytes()
        except (OSError, ValueError) as exc:
            raise RiskModelError(f"{directory}: not a readable model folder ({exc})") from exc
        if metadata.get("format") != MODEL_FORMAT:
            raise RiskModelError(
                f"{directory}: format {metadata.get('format')!r} is not {MODEL_FORMAT}"
            )
        if sha256_hex(model_bytes) != metadata.get("model_sha256"):
            raise ModelIntegrityError(
                f"{directory / MODEL_FILE}: SHA-256 differs from metadata.model_sha256 (tampered)"
            )
        model = cls(**metadata["params"])
        names = [feature["name"] for feature in metadata["features"]]
        model._install(model_bytes.decode(), specs_for(names))
        if list(model.booster_.feature_name()) != names:
            raise RiskModelError(f"{directory}: model features differ from metadata.features")
        model.calibrator_ = calibrator_from_dict(metadata["calibration"])
        model.model_sha256_ = metadata["model_sha256"]
        model.version_ = metadata["version"]
        model.metadata_ = metadata
        return model


def _validate(
    x: ArrayLike, y: ArrayLike, names: Sequence[str], created_at: datetime
) -> tuple[FloatArray, NDArray[np.int8], tuple[FeatureSpec, ...]]:
    if created_at.tzinfo is None:
        raise RiskModelError("created_at: must be timezone-aware")
    specs = specs_for(names)
    matrix = np.ascontiguousarray(x, dtype=np.float64)
    labels = np.asarray(y)
    if matrix.ndim != 2 or matrix.shape[1] != len(specs):
        raise RiskModelError(f"x: expected (rows, {len(specs)}) features, got shape {matrix.shape}")
    if labels.shape != (matrix.shape[0],):
        raise RiskModelError(f"y: expected {matrix.shape[0]} flags, got shape {labels.shape}")
    if not np.isin(labels, (0, 1)).all():
        raise RiskModelError("y: default flags must be 0 or 1")
    return matrix, labels.astype(np.int8), specs
