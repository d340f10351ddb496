"""API keys: create (the token is shown once), list, revoke, and verify fast.

A token reads ``fe_<key id>_<secret>``: the key id (12 hex digits) is public and names the
stored row; the secret is 32 random bytes (256 bits) from :mod:`secrets`, base64url-encoded.
Only ``SHA-256(secret)`` is stored. A slow, salted KDF (scrypt, PBKDF2) exists to make guessing
a *low-entropy* password expensive; a uniformly random 256-bit secret cannot be guessed at any
hashing speed, so one SHA-256 protects it as well and verification stays in microseconds
(the request budget is under a millisecond). Digests are compared in constant time.

:class:`KeyVerifier` caches verified keys per worker process for ``ttl_s`` seconds, so a
revocation or an expiry change takes effect within that time (expiry itself is re-checked on
every request from the cached value).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from finance_engine.db import unit_of_work
from finance_engine.tables_api import ApiKey, as_utc

TOKEN_PREFIX = "fe"
_TOKEN_RE = re.compile(r"^fe_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_CACHE_MAX = 10_000


class Role(StrEnum):
    """What a key may do (see ``docs/api.md`` for the endpoint matrix)."""

    ADMIN = "admin"
    """Products, factor sets, keys, consents."""
    DATA_PROVIDER = "data_provider"
    """Entities, meters, readings, activity data, account computation."""
    RISK_ANALYST = "risk_analyst"
    """Backtests and read-only aggregates."""
    BANK_SYSTEM = "bank_system"
    """Decisions; accounts of consenting entities (a lender's key)."""
    LOAN_OFFICER = "loan_officer"
    """Reports and accounts of consenting entities (a lender's key)."""


BANK_ROLES = frozenset({Role.BANK_SYSTEM, Role.LOAN_OFFICER})
"""Roles that act for a lender and see only consenting entities."""


class KeyRequestError(ValueError):
    """Bad key request (unknown role, missing lender...): the message names the field."""


@dataclass(frozen=True)
class Principal:
    """The verified caller of a request."""

    key_id: str
    role: Role
    lender: str | None
    name: str
    expires_at: datetime | None
    rate_limit_per_minute: int | None

    @property
    def is_bank(self) -> bool:
        """True for keys that act for a lender (consent rules apply)."""
        return self.role in BANK_ROLES

    @property
    def scope(self) -> str:
        """Idempotency scope: the lender for bank keys (survives key rotation), else the key."""
        return f"lender:{self.lender}" if self.is_bank else f"key:{self.key_id}"


@dataclass(frozen=True)
class KeyView:
    """A stored key as listed (never its secret)."""

    id: str
    name: str
    role: str
    lender: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    rate_limit_per_minute: int | None
    created_by: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (times ISO 8601 UTC)."""
        out: dict[str, Any] = dict(self.__dict__)
        for name in ("created_at", "expires_at", "revoked_at", "last_used_at"):
            value = out[name]
            out[name] = value.isoformat() if value is not None else None
        return out


def _now() -> datetime:
    return datetime.now(UTC)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _view(row: ApiKey) -> KeyView:
    created = as_utc(row.created_at)
    assert created is not None
    return KeyView(
        row.id,
        row.name,
        row.role,
        row.lender,
        created,
        as_utc(row.expires_at),
        as_utc(row.revoked_at),
        as_utc(row.last_used_at),
        row.rate_limit_per_minute,
        row.created_by,
    )


def check_key_fields(
    role: str, lender: str | None, known_lenders: Sequence[str] | None = None
) -> Role:
    """Validate a role and lender pair: bank roles need a lender, other roles take none."""
    try:
        chosen = Role(role)
    except ValueError:
        raise KeyRequestError(f"role: {role!r} is not one of {', '.join(Role)}") from None
    if chosen in BANK_ROLES and not lender:
        raise KeyRequestError(f"lender: required for a {chosen.value} key")
    if chosen not in BANK_ROLES and lender:
        raise KeyRequestError(f"lender: a {chosen.value} key acts for no lender")
    if lender and known_lenders is not None and lender not in known_lenders:
        raise KeyRequestError(f"lender: {lender!r} is not a lender of the product catalog")
    return chosen


def create_key(
    engine: Engine,
    *,
    role: str,
    lender: str | None = None,
    name: str = "",
    expires_at: datetime | None = None,
    rate_limit_per_minute: int | None = None,
    created_by: str | None = None,
    known_lenders: Sequence[str] | None = None,
) -> tuple[KeyView, str]:
    """Create a key; return it and its token (shown once, never stored)."""
    chosen = check_key_fields(role, lender, known_lenders)
    if expires_at is not None and as_utc(expires_at) <= _now():  # type: ignore[operator]
        raise KeyRequestError("expires_at: must be in the future")
    if rate_limit_per_minute is not None and rate_limit_per_minute < 1:
        raise KeyRequestError("rate_limit_per_minute: must be at least 1")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    row = ApiKey(
        id=key_id,
        name=name,
        role=chosen.value,
        lender=lender or None,
        secret_sha256=_digest(secret),
        expires_at=as_utc(expires_at),
        rate_limit_per_minute=rate_limit_per_minute,
        created_by=created_by,
    )
    with unit_of_work(engine) as session:
        session.add(row)
        session.flush()
        view = _view(row)
    return view, f"{TOKEN_PREFIX}_{key_id}_{secret}"


def list_keys(
    engine: Engine, *, include_revoked: bool = True, limit: int = 100, offset: int = 0
) -> list[KeyView]:
    """Stored keys, newest first."""
    with Session(engine) as session:
        stmt = select(ApiKey)
        if not include_revoked:
            stmt = stmt.where(col(ApiKey.revoked_at).is_(None))
        stmt = stmt.order_by(col(ApiKey.created_at).desc(), col(ApiKey.id))
        return [_view(r) for r in session.exec(stmt.offset(offset).limit(limit)).all()]


def get_key(engine: Engine, key_id: str) -> KeyView | None:
    """One key by id, or None."""
    with Session(engine) as session:
        row = session.get(ApiKey, key_id)
        return None if row is None else _view(row)


def revoke_key(engine: Engine, key_id: str, *, at: datetime | None = None) -> KeyView | None:
    """Revoke a key (idempotent: a revoked key keeps its first revocation time); None if
    unknown."""
    with unit_of_work(engine) as session:
        row = session.get(ApiKey, key_id)
        if row is None:
            return None
        if row.revoked_at is None:
            row.revoked_at = at or _now()
            session.add(row)
            session.flush()
        return _view(row)


class KeyVerifier:
    """Verifies tokens against the database, caching verified keys per process for ``ttl_s``."""

    def __init__(
        self, engine: Engine, ttl_s: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.engine = engine
        self.ttl_s = ttl_s
        self._clock = clock
        self._cache: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def verify(self, token: str) -> Principal | None:
        """The principal of a valid, unrevoked, unexpired token; None otherwise."""
        match = _TOKEN_RE.match(token)
        if match is None:
            return None
        now = self._clock()
        cached = self._cache.get(token)
        if cached is not None and now - cached[1] < self.ttl_s:
            principal = cached[0]
        else:
            loaded = self._load(match.group(1), match.group(2))
            if loaded is None:
                self._cache.pop(token, None)
                return None
            principal = loaded
            with self._lock:
                if len(self._cache) >= _CACHE_MAX:
                    self._cache.clear()
                self._cache[token] = (principal, now)
        if principal.expires_at is not None and principal.expires_at <= _now():
            return None
        return principal

    def forget(self, key_id: str) -> None:
        """Drop a key from this process's cache (after revoking it here)."""
        with self._lock:
            for token in [t for t, (p, _) in self._cache.items() if p.key_id == key_id]:
                del self._cache[token]

    def _load(self, key_id: str, secret: str) -> Principal | None:
        with Session(self.engine) as session:
            row = session.get(ApiKey, key_id)
            if row is None or row.revoked_at is not None:
                return None
            if not hmac.compare_digest(row.secret_sha256, _digest(secret)):
                return None
            principal = Principal(
                row.id,
                Role(row.role),
                row.lender,
                row.name,
                as_utc(row.expires_at),
                row.rate_limit_per_minute,
            )
            session.execute(
                update(ApiKey).where(col(ApiKey.id) == key_id).values(last_used_at=_now())
            )
            session.commit()
            return principal
