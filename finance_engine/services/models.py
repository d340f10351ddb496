"""Risk-model service: train and evaluate from history files; store models by version.

A model store keeps each trained model in its own folder ``<root>/<version>/`` (LightGBM text
model + JSON metadata, see :mod:`scoring.risk_model`) and a ``current`` pointer file naming the
version in use. :class:`FileModelStore` lives under ``Settings.instance_path / "models"``;
:class:`InMemoryModelStore` is its test double. Loaded models are cached per process by version
(a version's files never change: the SHA-256 is checked on first load).

The clock is injected (``clock``) so training times and versions are reproducible in tests.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from finance_engine.config import Settings
from finance_engine.synth.loans import HistoryFileError, read_history_columns
from scoring import metrics
from scoring.features import FEATURE_NAMES, FeatureError, feature_matrix
from scoring.risk_model import RiskModel, RiskModelError

Clock = Callable[[], datetime]
LABEL_COLUMN = "default_12m"
ORACLE_COLUMN = "true_pd"
CURRENT_FILE = "current"
_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class ModelServiceError(ValueError):
    """Bad data file, unknown model version or unreadable model; the message names the cause."""


def utc_now() -> datetime:
    """The real clock (timezone-aware UTC)."""
    return datetime.now(UTC)


class ModelStore(Protocol):
    """Where trained models are kept, by version."""

    def save(self, model: RiskModel, *, make_current: bool = True) -> str:
        """Store ``model``; return its version."""

    def load(self, version: str | None = None) -> RiskModel:
        """The model of ``version`` (default: the current one)."""

    def current_version(self) -> str | None:
        """The version in use, or None before any model is stored."""


class FileModelStore:
    """Models in folders under ``root`` with a ``current`` pointer file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[str, RiskModel] = {}
        self._pointer: tuple[tuple[int, int, int], str | None] | None = None

    @classmethod
    def for_settings(cls, settings: Settings) -> FileModelStore:
        """The store under ``settings.instance_path / "models"``."""
        return cls(settings.instance_path / "models")

    def path(self, version: str) -> Path:
        """Folder of ``version``."""
        if not _VERSION_RE.match(version):
            raise ModelServiceError(f"version: {version!r} is not a valid model version")
        return self.root / version

    def save(self, model: RiskModel, *, make_current: bool = True) -> str:
        """Write ``model`` into ``<root>/<version>/`` and (by default) point ``current`` at it."""
        version = model.version
        model.save(self.path(version))
        self._cache[version] = model
        if make_current:
            self._write_pointer(version)
        return version

    def _write_pointer(self, version: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=self.root, prefix=".current-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(version + "\n")
        os.replace(tmp, self.root / CURRENT_FILE)

    def current_version(self) -> str | None:
        """The version named by the ``current`` file, or None.

        Asked on every decision, so the file is read again only when its identity changes
        (inode, size, modification time: the pointer is replaced atomically, by a new file, see
        :meth:`save`); otherwise one ``stat`` answers.
        """
        pointer = self.root / CURRENT_FILE
        try:
            info = os.stat(pointer)
        except FileNotFoundError:
            return None
        identity = (info.st_ino, info.st_size, info.st_mtime_ns)
        if self._pointer is None or self._pointer[0] != identity:
            self._pointer = (identity, pointer.read_text(encoding="utf-8").strip() or None)
        return self._pointer[1]

    def versions(self) -> list[str]:
        """Stored versions, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "metadata.json").is_file())

    def load(self, version: str | None = None) -> RiskModel:
        """Load (once per process) the model of ``version``, default the current one."""
        chosen = version or self.current_version()
        if chosen is None:
            raise ModelServiceError(
                f"{self.root}: no current model; train one with `finance-engine model train`"
            )
        if chosen not in self._cache:
            folder = self.path(chosen)
            if not folder.is_dir():
                raise ModelServiceError(f"version: no model {chosen!r} under {self.root}")
            self._cache[chosen] = load_model_dir(folder)
        return self._cache[chosen]


class InMemoryModelStore:
    """A model store in a dict (for tests)."""

    def __init__(self) -> None:
        self.models: dict[str, RiskModel] = {}
        self.current: str | None = None

    def save(self, model: RiskModel, *, make_current: bool = True) -> str:
        """Keep ``model``; return its version."""
        self.models[model.version] = model
        if make_current:
            self.current = model.version
        return model.version

    def load(self, version: str | None = None) -> RiskModel:
        """The stored model of ``version`` (default current)."""
        chosen = version or self.current
        if chosen is None or chosen not in self.models:
            raise ModelServiceError(f"version: no model {chosen!r} in the store")
        return self.models[chosen]

    def current_version(self) -> str | None:
        """The current version."""
        return self.current


def load_model_dir(directory: Path) -> RiskModel:
    """Load a model folder, mapping errors (tampering included) to :class:`ModelServiceError`."""
    try:
        return RiskModel.load(directory)
    except (RiskModelError, FeatureError) as exc:
        raise ModelServiceError(str(exc)) from exc


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_training_data(path: Path, *, with_oracle: bool = False) -> dict[str, np.ndarray[Any, Any]]:
    """The feature columns and ``default_12m`` of a CSV/Parquet file (and ``true_pd`` if asked
    and present), validated: a missing or bad column raises :class:`ModelServiceError`."""
    required = [*FEATURE_NAMES, LABEL_COLUMN]
    try:
        columns = read_history_columns(path, required)
        if with_oracle:
            with contextlib.suppress(HistoryFileError):
                columns.update(read_history_columns(path, [ORACLE_COLUMN]))
    except HistoryFileError as exc:
        raise ModelServiceError(str(exc)) from exc
    flags = columns[LABEL_COLUMN]
    if not np.isin(flags, (0, 1)).all():
        raise ModelServiceError(f"{path}: column {LABEL_COLUMN}: values must be 0 or 1")
    return columns


def _matrix(path: Path, columns: Mapping[str, Any]) -> np.ndarray[Any, Any]:
    try:
        return feature_matrix(columns)
    except FeatureError as exc:
        raise ModelServiceError(f"{path}: column {exc}") from exc


def train_from_file(
    path: Path, *, clock: Clock = utc_now, params: Mapping[str, Any] | None = None
) -> RiskModel:
    """Train a :class:`RiskModel` on a history file; the metadata records the file's SHA-256."""
    columns = read_training_data(path)
    matrix = _matrix(path, columns)
    try:
        model = RiskModel(**dict(params or {}))
        return model.fit(
            matrix, columns[LABEL_COLUMN], created_at=clock(), data_sha256=file_sha256(path)
        )
    except RiskModelError as exc:
        raise ModelServiceError(f"{path}: {exc}") from exc


def evaluate_file(path: Path, model: RiskModel) -> dict[str, Any]:
    """The model's performance on a history file; with a ``true_pd`` column also the oracle's
    AUC and Brier score on the same rows."""
    columns = read_training_data(path, with_oracle=True)
    matrix = _matrix(path, columns)
    try:
        report = model.evaluate(matrix, columns[LABEL_COLUMN])
    except metrics.MetricError as exc:
        raise ModelServiceError(f"{path}: {exc}") from exc
    report = {
        "model_version": model.version,
        "data": str(path),
        "data_sha256": file_sha256(path),
        **report,
    }
    if ORACLE_COLUMN in columns:
        oracle = columns[ORACLE_COLUMN]
        report["oracle"] = {
            "auc": metrics.auc(columns[LABEL_COLUMN], oracle),
            "brier": metrics.brier(columns[LABEL_COLUMN], oracle),
        }
    return report
