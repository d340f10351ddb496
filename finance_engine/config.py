"""Typed application settings, built once from the environment.

Every setting has a ``FINANCE_ENGINE_`` environment variable. :func:`load_settings` reads them,
validates them and returns a frozen :class:`Settings`; nothing else reads the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENV_PREFIX = "FINANCE_ENGINE_"


class ConfigError(ValueError):
    """A setting is missing, malformed or unsafe. The message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Application settings.

    Attributes
    ----------
    instance_path:
        Folder for the embedded database, development keys, issued reports and trained models
        (``FINANCE_ENGINE_INSTANCE_PATH``, default ``./var``).
    database_url:
        SQLAlchemy URL (``FINANCE_ENGINE_DATABASE_URL``); default a SQLite file
        ``finance_engine.db`` in the instance folder. PostgreSQL: ``postgresql+psycopg://...``.
    environment:
        ``development`` (default), ``test`` or ``production`` (``FINANCE_ENGINE_ENV``).
    timezone:
        IANA zone in which naive timestamps are read and days are cut
        (``FINANCE_ENGINE_TIMEZONE``, default ``Asia/Shanghai``).
    snap_tolerance_s:
        Readings within this many seconds of the 15-minute grid are snapped to it; farther ones
        are rejected (``FINANCE_ENGINE_SNAP_TOLERANCE_S``, default 60, per the 1-minute
        timestamp tolerance of the national online-monitoring rules).
    factor_set_dir:
        Extra folder of factor-set files beside the packaged ones
        (``FINANCE_ENGINE_FACTOR_SET_DIR``, optional).
    default_factor_set:
        Factor-set version used when none is named (``FINANCE_ENGINE_FACTOR_SET``); empty means
        the set effective at the start of the accounting period.
    grid_region:
        Grid-factor region used when an entity names none (``FINANCE_ENGINE_GRID_REGION``,
        default ``national``, as in MEE enterprise reporting).
    """

    instance_path: Path = field(default_factory=lambda: Path("var").resolve())
    database_url: str = ""
    environment: str = "development"
    timezone: str = "Asia/Shanghai"
    snap_tolerance_s: int = 60
    factor_set_dir: Path | None = None
    default_factor_set: str = ""
    grid_region: str = "national"

    def __post_init__(self) -> None:
        if not self.database_url:
            url = f"sqlite:///{self.instance_path / 'finance_engine.db'}"
            object.__setattr__(self, "database_url", url)
        if self.environment not in {"development", "test", "production"}:
            raise ConfigError(
                f"{ENV_PREFIX}ENV: {self.environment!r} is not one of development, test, production"
            )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"{ENV_PREFIX}TIMEZONE: unknown time zone {self.timezone!r}") from exc
        if not 0 <= self.snap_tolerance_s < 450:
            raise ConfigError(f"{ENV_PREFIX}SNAP_TOLERANCE_S: must be between 0 and 449 seconds")

    @property
    def is_sqlite(self) -> bool:
        """True when the database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")

    def with_overrides(self, **changes: Any) -> Settings:
        """Return a copy with some fields replaced (used by tests and the CLI)."""
        return replace(self, **changes)


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build :class:`Settings` from ``environ`` (default ``os.environ``) plus explicit overrides."""
    env = os.environ if environ is None else environ

    def get(name: str) -> str | None:
        value = env.get(ENV_PREFIX + name)
        return value if value not in (None, "") else None

    values: dict[str, Any] = {}
    if (path := get("INSTANCE_PATH")) is not None:
        values["instance_path"] = Path(path).resolve()
    if (url := get("DATABASE_URL")) is not None:
        values["database_url"] = url
    if (envname := get("ENV")) is not None:
        values["environment"] = envname
    if (tz := get("TIMEZONE")) is not None:
        values["timezone"] = tz
    if (tol := get("SNAP_TOLERANCE_S")) is not None:
        try:
            values["snap_tolerance_s"] = int(tol)
        except ValueError as exc:
            raise ConfigError(
                f"{ENV_PREFIX}SNAP_TOLERANCE_S: {tol!r} is not a whole number"
            ) from exc
    if (fdir := get("FACTOR_SET_DIR")) is not None:
        values["factor_set_dir"] = Path(fdir).resolve()
    if (fset := get("FACTOR_SET")) is not None:
        values["default_factor_set"] = fset
    if (region := get("GRID_REGION")) is not None:
        values["grid_region"] = region
    values.update(overrides)
    return Settings(**values)
