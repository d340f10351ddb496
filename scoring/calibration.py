"""Calibrated probabilities: raw model score -> PD, and PD -> risk band.

Two calibrators, both monotone increasing in the raw score (so they keep the model's monotone
constraints and, up to flat ends, its ranking), both stored as plain JSON numbers:

- :class:`IsotonicCalibrator`: pool-adjacent-violators (PAV) on the raw log-odds, then linear
  interpolation between the pooled blocks' (mean score, default rate) points, constant beyond the
  first and last point.
- :class:`PlattCalibrator`: ``PD = 1 / (1 + exp(-(a * score + b)))`` by Newton's method on the
  log-likelihood with Platt's smoothed targets.

PDs are kept within [:data:`PD_FLOOR`, :data:`PD_CEILING`]: a PD of exactly 0 or 1 is never
reported from a finite sample. Risk bands come from the versioned ``scoring/data/risk_bands.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

PD_FLOOR = 1e-4
"""Smallest PD reported (1 bp): a sample without defaults in a score range proves no zero PD."""
PD_CEILING = 1.0 - 1e-4
"""Largest PD reported."""

DEFAULT_RISK_BANDS_PATH = Path(__file__).parent / "data" / "risk_bands.json"


class CalibrationError(ValueError):
    """A calibrator or band table cannot be fitted or read; the message names the field."""


def _pav(y: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray, NDArray[np.int64]]:
    """Pool adjacent violators over values ``y`` (already in score order) with weights ``w``.

    Returns block means, block weights and the index of each block's first element. The loop
    runs over blocks at fit time only (never on the prediction path).
    """
    means: list[float] = []
    weights: list[float] = []
    starts: list[int] = []
    for i, (value, weight) in enumerate(zip(y.tolist(), w.tolist(), strict=True)):
        means.append(value)
        weights.append(weight)
        starts.append(i)
        while len(means) > 1 and means[-2] >= means[-1]:
            total = weights[-2] + weights[-1]
            means[-2] = (means[-2] * weights[-2] + means[-1] * weights[-1]) / total
            weights[-2] = total
            del means[-1], weights[-1], starts[-1]
    return np.array(means), np.array(weights), np.array(starts, dtype=np.int64)


@dataclass(frozen=True)
class IsotonicCalibrator:
    """Piecewise-linear increasing map from raw score to PD through ``(x, y)`` knots."""

    x: FloatArray
    y: FloatArray
    method: str = "isotonic"

    @classmethod
    def fit(cls, score: ArrayLike, y: ArrayLike) -> IsotonicCalibrator:
        """Fit on raw scores and 0/1 default flags of a held-out sample."""
        s, labels = _inputs(score, y)
        unique, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
        rate = np.bincount(inverse, weights=labels) / counts
        means, _, starts = _pav(rate, counts.astype(np.float64))
        ends = np.r_[starts[1:], unique.size]
        csum = np.r_[0.0, np.cumsum(unique * counts)]
        ccount = np.r_[0.0, np.cumsum(counts)]
        x = (csum[ends] - csum[starts]) / (ccount[ends] - ccount[starts])
        return cls(x=x, y=np.clip(means, PD_FLOOR, PD_CEILING))

    def __call__(self, score: ArrayLike) -> FloatArray:
        """PD for each raw score."""
        return np.interp(np.asarray(score, dtype=np.float64), self.x, self.y)

    def one(self, score: float) -> float:
        """PD of one raw score (scalar path, same value as :meth:`__call__`)."""
        return float(np.interp(score, self.x, self.y))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (floats round-trip exactly through ``json``)."""
        return {"method": self.method, "x": self.x.tolist(), "y": self.y.tolist()}


@dataclass(frozen=True)
class PlattCalibrator:
    """``PD = sigmoid(a * score + b)`` with ``a > 0``."""

    a: float
    b: float
    method: str = "platt"

    @classmethod
    def fit(cls, score: ArrayLike, y: ArrayLike, iterations: int = 50) -> PlattCalibrator:
        """Fit by Newton's method with Platt's targets (N+ + 1)/(N+ + 2) and 1/(N- + 2)."""
        s, labels = _inputs(score, y)
        n_pos = labels.sum()
        n_neg = labels.size - n_pos
        target = np.where(labels > 0, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
        design = np.stack([s, np.ones_like(s)], axis=1)
        theta = np.array([1.0, 0.0])
        for _ in range(iterations):
            p = 1.0 / (1.0 + np.exp(-(design @ theta)))
            gradient = design.T @ (p - target)
            hessian = (design * (p * (1 - p))[:, None]).T @ design + 1e-9 * np.eye(2)
            step = np.linalg.solve(hessian, gradient)
            theta = theta - step
            if np.abs(step).max() < 1e-10:
                break
        if not theta[0] > 0:
            raise CalibrationError("score: Platt slope is not positive; the model has no signal")
        return cls(a=float(theta[0]), b=float(theta[1]))

    def __call__(self, score: ArrayLike) -> FloatArray:
        """PD for each raw score."""
        z = np.clip(self.a * np.asarray(score, dtype=np.float64) + self.b, -700.0, 700.0)
        return np.clip(1.0 / (1.0 + np.exp(-z)), PD_FLOOR, PD_CEILING)

    def one(self, score: float) -> float:
        """PD of one raw score (scalar path, same value as :meth:`__call__`)."""
        z = min(max(self.a * score + self.b, -700.0), 700.0)  # exp stays finite
        pd = 1.0 / (1.0 + float(np.exp(np.float64(-z))))  # numpy's exp, as the batch path
        return min(max(pd, PD_FLOOR), PD_CEILING)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description."""
        return {"method": self.method, "a": self.a, "b": self.b}


Calibrator = IsotonicCalibrator | PlattCalibrator

CALIBRATION_METHODS = ("isotonic", "platt")


def fit_calibrator(method: str, score: ArrayLike, y: ArrayLike) -> Calibrator:
    """Fit the calibrator named ``method`` (``isotonic`` or ``platt``)."""
    if method == "isotonic":
        return IsotonicCalibrator.fit(score, y)
    if method == "platt":
        return PlattCalibrator.fit(score, y)
    raise CalibrationError(
        f"calibration: {method!r} is not one of {', '.join(CALIBRATION_METHODS)}"
    )


def calibrator_from_dict(data: dict[str, Any]) -> Calibrator:
    """Rebuild a calibrator from :meth:`to_dict` output."""
    method = data.get("method")
    try:
        if method == "isotonic":
            x = np.asarray(data["x"], dtype=np.float64)
            y = np.asarray(data["y"], dtype=np.float64)
            if x.ndim != 1 or x.shape != y.shape or x.size == 0 or np.any(np.diff(x) <= 0):
                raise CalibrationError("calibration.x/y: need equal-length, increasing knots")
            return IsotonicCalibrator(x=x, y=y)
        if method == "platt":
            return PlattCalibrator(a=float(data["a"]), b=float(data["b"]))
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, CalibrationError):
            raise
        raise CalibrationError(f"calibration: malformed {method} calibrator ({exc})") from exc
    raise CalibrationError(f"calibration.method: {method!r} is not one of {CALIBRATION_METHODS}")


def _inputs(score: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray]:
    s = np.asarray(score, dtype=np.float64)
    labels = np.asarray(y, dtype=np.float64)
    if s.ndim != 1 or s.shape != labels.shape or s.size == 0:
        raise CalibrationError("score, y: need two 1-D arrays of the same, non-zero length")
    if not np.isin(labels, (0.0, 1.0)).all() or labels.min() == labels.max():
        raise CalibrationError("y: need 0/1 flags with both defaults and non-defaults")
    return s, labels


@dataclass(frozen=True)
class RiskBands:
    """PD cut-offs of the risk bands, best band first.

    Attributes
    ----------
    version:
        Version of the band table (recorded with every decision).
    labels:
        Band labels, e.g. ``("A", ..., "E")``.
    upper_pd:
        Inclusive upper PD of each band; ``inf`` for the last.
    descriptions:
        Plain-words description of each band.
    """

    version: str
    labels: tuple[str, ...]
    upper_pd: FloatArray
    descriptions: tuple[str, ...]

    def index(self, pd: ArrayLike) -> NDArray[np.int64]:
        """Band index of each PD (0 = best)."""
        p = np.asarray(pd, dtype=np.float64)
        return np.searchsorted(self.upper_pd[:-1], p, side="left").astype(np.int64)

    def band(self, pd: float) -> str:
        """Band label of one PD."""
        return self.labels[int(np.searchsorted(self.upper_pd[:-1], pd, side="left"))]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        uppers = [None if np.isinf(u) else float(u) for u in self.upper_pd]
        return {"version": self.version, "labels": list(self.labels), "upper_pd": uppers}


def load_risk_bands(path: Path | str = DEFAULT_RISK_BANDS_PATH) -> RiskBands:
    """Read and validate a risk-band file (see ``scoring/data/risk_bands.json``)."""
    where = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        version = str(data["version"])
        rows = data["bands"]
        labels = tuple(str(row["band"]) for row in rows)
        uppers = [Decimal(row["max_pd"]) if row["max_pd"] is not None else None for row in rows]
        descriptions = tuple(str(row.get("description", "")) for row in rows)
    except (OSError, ValueError, KeyError, TypeError, ArithmeticError) as exc:
        raise CalibrationError(f"{where}: unreadable risk-band file ({exc})") from exc
    if not labels or uppers[-1] is not None or any(u is None for u in uppers[:-1]):
        raise CalibrationError(f"{where}: bands: every band but the last needs max_pd")
    upper = np.array([float(u or 0) for u in uppers[:-1]] + [np.inf], dtype=np.float64)
    if np.any(np.diff(upper) <= 0) or upper[0] <= 0 or upper[-2] >= 1:
        raise CalibrationError(f"{where}: bands.max_pd: cut-offs must increase within (0, 1)")
    if len(set(labels)) != len(labels):
        raise CalibrationError(f"{where}: bands.band: labels must be unique")
    return RiskBands(version, labels, upper, descriptions)


@cache
def default_risk_bands() -> RiskBands:
    """The packaged risk bands (read once per process)."""
    return load_risk_bands()
