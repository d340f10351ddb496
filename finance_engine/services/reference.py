"""Reference data the accounts depend on: factor sets, grading rules and benchmark sets.

A factor set or benchmark set is stored in the database the first time an account uses it, with
its content and SHA-256. Afterwards the stored copy is the truth: recomputing an account under an
old version uses the stored content and reproduces the account exactly, and a file that changed
under an already-used version is refused (publish it under a new version instead).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from sqlmodel import Session

from accounting.benchmarks import BenchmarkSet, benchmark_set_from_content, load_benchmark_set
from accounting.factors import (
    DEFAULT_FACTOR_SET_DIR,
    FactorSet,
    FactorSetRegistry,
    factor_set_from_content,
    load_factor_set_dir,
)
from accounting.grading import GradingConfig, load_grading_config
from finance_engine.config import Settings
from finance_engine.models import BenchmarkSetRecord, FactorSetRecord

_Versioned = TypeVar("_Versioned", FactorSetRecord, BenchmarkSetRecord)


class ReferenceDataError(ValueError):
    """A factor or benchmark set cannot be used (unknown, or changed since first use)."""


def factor_registry(settings: Settings) -> FactorSetRegistry:
    """The packaged factor sets plus those in ``settings.factor_set_dir``."""
    packaged = list(load_factor_set_dir(DEFAULT_FACTOR_SET_DIR))
    extra = list(load_factor_set_dir(settings.factor_set_dir)) if settings.factor_set_dir else []
    return FactorSetRegistry([*packaged, *extra])


def resolve_factor_set(
    session: Session, settings: Settings, version: str | None, period_start: date
) -> FactorSet:
    """The factor set to use: the named version (stored copy first), else the configured default,
    else the set effective on ``period_start``."""
    wanted = version or settings.default_factor_set or None
    if wanted:
        row = session.get(FactorSetRecord, wanted)
        if row is not None:
            return factor_set_from_content(row.content, source=f"database record {wanted}")
        try:
            return factor_registry(settings).get(wanted)
        except ValueError as exc:
            raise ReferenceDataError(f"factor set {wanted!r} is not known ({exc})") from exc
    try:
        return factor_registry(settings).effective_on(period_start)
    except ValueError as exc:
        raise ReferenceDataError(f"no factor set is effective on {period_start} ({exc})") from exc


def _changed_since_first_use(
    session: Session,
    table: type[_Versioned],
    version: str,
    sha256: str,
    content: Mapping[str, Any],
) -> str | None:
    """Store ``content`` under ``version`` in ``table`` on first use; return the stored SHA-256
    when it differs from ``sha256`` (content changed under a used version), else None."""
    row = session.get(table, version)
    if row is None:
        session.add(table(version=version, sha256=sha256, content=dict(content)))
        return None
    return row.sha256 if row.sha256 != sha256 else None


def record_factor_set(session: Session, factor_set: FactorSet) -> None:
    """Store ``factor_set`` on first use; refuse a changed set under a used version."""
    stored = _changed_since_first_use(
        session, FactorSetRecord, factor_set.version, factor_set.sha256, factor_set.content
    )
    if stored is not None:
        raise ReferenceDataError(
            f"factor set {factor_set.version} differs from the copy used by stored accounts "
            f"(sha256 {stored[:12]} vs {factor_set.sha256[:12]}); publish it as a new version"
        )


def grading_config() -> GradingConfig:
    """The grading rules (thresholds, weights, colours) in force."""
    return load_grading_config()


def load_benchmarks(session: Session, version_or_path: str) -> BenchmarkSet:
    """A benchmark set by stored version, or loaded from a JSON file path."""
    row = session.get(BenchmarkSetRecord, version_or_path)
    if row is not None:
        return benchmark_set_from_content(row.content)
    path = Path(version_or_path)
    if not path.is_file():
        raise ReferenceDataError(
            f"benchmark {version_or_path!r} is neither a stored version nor a file"
        )
    try:
        return load_benchmark_set(path)
    except ValueError as exc:
        raise ReferenceDataError(str(exc)) from exc


def record_benchmark_set(session: Session, benchmarks: BenchmarkSet) -> None:
    """Store ``benchmarks`` on first use; refuse a changed set under a used version."""
    stored = _changed_since_first_use(
        session, BenchmarkSetRecord, benchmarks.version, benchmarks.sha256, benchmarks.content
    )
    if stored is not None:
        raise ReferenceDataError(
            f"benchmark set {benchmarks.version} differs from the stored copy; use a new version"
        )
