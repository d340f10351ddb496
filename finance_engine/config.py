"""Typed application settings, built once from the environment.

Every setting has a ``FINANCE_ENGINE_`` environment variable. :func:`load_settings` reads them,
validates them and returns a frozen :class:`Settings`; nothing else reads the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENV_PREFIX = "FINANCE_ENGINE_"
_NON_NEGATIVE = (
    "api_max_body_bytes",
    "ingest_max_body_bytes",
    "rate_limit_per_minute",
    "key_cache_ttl_s",
    "idempotency_ttl_s",
    "report_verify_per_minute",
)
_NUMBERS: dict[str, type[int] | type[float]] = {
    "api_max_body_bytes": int,
    "ingest_max_body_bytes": int,
    "rate_limit_per_minute": int,
    "key_cache_ttl_s": float,
    "idempotency_ttl_s": int,
    "report_max_upload_bytes": int,
    "report_verify_per_minute": int,
}


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
    api_max_body_bytes:
        Largest request body the API accepts, bytes (``FINANCE_ENGINE_API_MAX_BODY_BYTES``,
        default 1 MiB); larger bodies get 413.
    ingest_max_body_bytes:
        Largest body of a reading-ingest request, bytes
        (``FINANCE_ENGINE_INGEST_MAX_BODY_BYTES``, default 64 MiB).
    rate_limit_per_minute:
        Requests per minute one API key may make to one worker process
        (``FINANCE_ENGINE_RATE_LIMIT_PER_MINUTE``, default 6000; 0 turns the limit off; a key
        may carry its own).
    key_cache_ttl_s:
        Seconds a worker trusts a verified API key before reading it again
        (``FINANCE_ENGINE_KEY_CACHE_TTL_S``, default 30): the most a revocation can lag.
    idempotency_ttl_s:
        Seconds a response stored under an ``Idempotency-Key`` is replayed
        (``FINANCE_ENGINE_IDEMPOTENCY_TTL_S``, default 86400).
    access_log:
        Write one JSON line per request to stderr (``FINANCE_ENGINE_ACCESS_LOG``, default on;
        ``0`` turns it off).
    reports_dir:
        Where issued reports are stored (``FINANCE_ENGINE_REPORTS_DIR``, default
        ``<instance>/reports``); see :attr:`reports_path`.
    report_issuer:
        Issuer named on reports (``FINANCE_ENGINE_REPORT_ISSUER``).
    report_verify_url:
        Verification address printed on reports and in their QR code; the verification code is
        appended (``FINANCE_ENGINE_REPORT_VERIFY_URL``).
    report_font, report_font_index:
        CJK TrueType font (``.ttf``/``.ttc``) and sub-font index to embed
        (``FINANCE_ENGINE_REPORT_FONT``, ``FINANCE_ENGINE_REPORT_FONT_INDEX``); default: found by
        :func:`reports.fonts.locate_cjk_font`.
    report_validity_days:
        Days a report stays valid after issue (``FINANCE_ENGINE_REPORT_VALIDITY_DAYS``, 90).
    report_base_limit_yuan:
        Base credit limit the indicative limits on a report multiply, yuan
        (``FINANCE_ENGINE_REPORT_BASE_LIMIT_YUAN``, default 1,000,000).
    report_max_upload_bytes:
        Largest PDF accepted by ``POST /api/v1/reports/verify``, bytes
        (``FINANCE_ENGINE_REPORT_MAX_UPLOAD_BYTES``, default 4 MiB; a report is ~100 KB);
        larger uploads get 413.
    report_verify_per_minute:
        Requests per minute one client address may make to the public
        ``GET /api/v1/reports/verify/{code}`` in one worker process
        (``FINANCE_ENGINE_REPORT_VERIFY_PER_MINUTE``, default 120; 0 turns the limit off).
    signing_pkcs12, signing_passphrase:
        PKCS#12 file with the report-signing key and certificate chain
        (``FINANCE_ENGINE_SIGNING_PKCS12``) and its passphrase
        (``FINANCE_ENGINE_SIGNING_PASSPHRASE``, never printed).
    signing_key, signing_cert:
        PEM private key and PEM certificate (chain) instead of PKCS#12
        (``FINANCE_ENGINE_SIGNING_KEY``, ``FINANCE_ENGINE_SIGNING_CERT``). With neither set, the
        development key of ``finance-engine init`` under ``<instance>/keys`` is used (refused in
        production).
    trust_roots:
        PEM file of the certificates verification trusts (``FINANCE_ENGINE_TRUST_ROOTS``);
        default the development CA under ``<instance>/keys`` (not in production).
    tsa_url:
        RFC 3161 timestamp authority; set, reports are signed PAdES B-T, else B-B
        (``FINANCE_ENGINE_TSA_URL``).
    backtest_jobs:
        How ``POST /api/v1/backtests`` runs a job (``FINANCE_ENGINE_BACKTEST_JOBS``):
        ``thread`` (default: one background worker thread per serving process) or ``inline``
        (in the request, before the 202; for tests and debugging).
    """

    instance_path: Path = field(default_factory=lambda: Path("var").resolve())
    database_url: str = ""
    environment: str = "development"
    timezone: str = "Asia/Shanghai"
    snap_tolerance_s: int = 60
    factor_set_dir: Path | None = None
    default_factor_set: str = ""
    grid_region: str = "national"
    api_max_body_bytes: int = 1 << 20
    ingest_max_body_bytes: int = 64 << 20
    rate_limit_per_minute: int = 6000
    key_cache_ttl_s: float = 30.0
    idempotency_ttl_s: int = 86_400
    access_log: bool = True
    reports_dir: Path | None = None
    report_issuer: str = "finance-engine (synthetic Quzhou carbon-account platform)"
    report_verify_url: str = "http://localhost:8000/api/v1/reports/verify/"
    report_font: Path | None = None
    report_font_index: int = 0
    report_validity_days: int = 90
    report_base_limit_yuan: Decimal = Decimal("1000000")
    report_max_upload_bytes: int = 4 << 20
    report_verify_per_minute: int = 120
    signing_pkcs12: Path | None = None
    signing_passphrase: str = field(default="", repr=False)
    signing_key: Path | None = None
    signing_cert: Path | None = None
    trust_roots: Path | None = None
    tsa_url: str = ""
    backtest_jobs: str = "thread"

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
        for name in _NON_NEGATIVE:
            if getattr(self, name) < 0:
                raise ConfigError(f"{ENV_PREFIX}{name.upper()}: must not be negative")
        _check_report_settings(self)
        if self.backtest_jobs not in {"thread", "inline"}:
            raise ConfigError(
                f"{ENV_PREFIX}BACKTEST_JOBS: {self.backtest_jobs!r} is not thread or inline"
            )

    @property
    def reports_path(self) -> Path:
        """The folder issued reports are stored in."""
        return self.reports_dir or self.instance_path / "reports"

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
    for name, kind in _NUMBERS.items():
        if (raw := get(name.upper())) is not None:
            try:
                values[name] = kind(raw)
            except ValueError as exc:
                raise ConfigError(f"{ENV_PREFIX}{name.upper()}: {raw!r} is not a number") from exc
    if (flag := get("ACCESS_LOG")) is not None:
        values["access_log"] = flag.lower() not in {"0", "false", "no", "off"}
    values.update(_report_settings(get))
    if (jobs := get("BACKTEST_JOBS")) is not None:
        values["backtest_jobs"] = jobs
    values.update(overrides)
    return Settings(**values)


_REPORT_PATHS = (
    "reports_dir",
    "report_font",
    "signing_pkcs12",
    "signing_key",
    "signing_cert",
    "trust_roots",
)
_REPORT_TEXT = ("report_issuer", "report_verify_url", "signing_passphrase", "tsa_url")


def _report_settings(get: Any) -> dict[str, Any]:
    """Report and signing settings from the environment (``get(NAME)`` reads one variable)."""
    values: dict[str, Any] = {}
    for name in _REPORT_PATHS:
        if (raw := get(name.upper())) is not None:
            values[name] = Path(raw).resolve()
    for name in _REPORT_TEXT:
        if (raw := get(name.upper())) is not None:
            values[name] = raw
    for name, kind in (
        ("report_font_index", int),
        ("report_validity_days", int),
        ("report_base_limit_yuan", Decimal),
    ):
        if (raw := get(name.upper())) is not None:
            try:
                values[name] = kind(raw)
            except (ValueError, ArithmeticError) as exc:
                raise ConfigError(f"{ENV_PREFIX}{name.upper()}: {raw!r} is not a number") from exc
    return values


def _check_report_settings(settings: Settings) -> None:
    if settings.report_validity_days < 1:
        raise ConfigError(f"{ENV_PREFIX}REPORT_VALIDITY_DAYS: must be at least 1")
    if not settings.report_base_limit_yuan > 0:
        raise ConfigError(f"{ENV_PREFIX}REPORT_BASE_LIMIT_YUAN: must be positive")
    if settings.report_max_upload_bytes < 1:
        raise ConfigError(f"{ENV_PREFIX}REPORT_MAX_UPLOAD_BYTES: must be at least 1")
    if settings.report_font_index < 0:
        raise ConfigError(f"{ENV_PREFIX}REPORT_FONT_INDEX: must not be negative")
    for name in ("report_verify_url", "tsa_url"):
        url = getattr(settings, name)
        if url and not url.startswith(("http://", "https://")):
            raise ConfigError(f"{ENV_PREFIX}{name.upper()}: {url!r} is not an http(s) URL")
    if settings.signing_key is not None and settings.signing_cert is None:
        raise ConfigError(f"{ENV_PREFIX}SIGNING_CERT: required with {ENV_PREFIX}SIGNING_KEY")
