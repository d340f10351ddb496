"""Key verification (hashing, cache TTL, expiry) and the fixed-window rate limiter."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session

from finance_engine.api.ratelimit import FixedWindowLimiter
from finance_engine.db import unit_of_work
from finance_engine.services.keys import KeyVerifier, Role, create_key, revoke_key
from finance_engine.tables_api import ApiKey

from .conftest import LENDER_A, World


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_only_the_sha256_of_the_secret_is_stored(world: World) -> None:
    view, token = create_key(world.engine, role="bank_system", lender=LENDER_A)
    prefix, key_id, secret = token.split("_", 2)
    assert (prefix, key_id) == ("fe", view.id)
    assert len(secret) == 43  # 32 random bytes, base64url
    with Session(world.engine) as session:
        row = session.get(ApiKey, view.id)
        assert row is not None
        assert row.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in repr(row.model_dump())


def test_verified_keys_are_cached_for_the_ttl(world: World) -> None:
    view, token = create_key(world.engine, role="loan_officer", lender=LENDER_A)
    clock = Clock()
    verifier = KeyVerifier(world.engine, ttl_s=30.0, clock=clock)
    principal = verifier.verify(token)
    assert principal is not None
    assert (principal.role, principal.lender, principal.scope) == (
        Role.LOAN_OFFICER,
        LENDER_A,
        f"lender:{LENDER_A}",
    )
    revoke_key(world.engine, view.id)
    clock.now += 29.0
    assert verifier.verify(token) is not None, "within the TTL the cached key is trusted"
    clock.now += 2.0
    assert verifier.verify(token) is None, "after the TTL the revocation is seen"


def test_forget_drops_a_key_at_once(world: World) -> None:
    view, token = create_key(world.engine, role="admin")
    verifier = KeyVerifier(world.engine, ttl_s=3600.0, clock=Clock())
    assert verifier.verify(token) is not None
    revoke_key(world.engine, view.id)
    verifier.forget(view.id)
    assert verifier.verify(token) is None


def test_expiry_is_checked_on_every_request_even_from_the_cache(world: World) -> None:
    view, token = create_key(
        world.engine, role="admin", expires_at=datetime.now(UTC) + timedelta(hours=1)
    )
    verifier = KeyVerifier(world.engine, ttl_s=3600.0, clock=Clock())
    assert verifier.verify(token) is not None
    with unit_of_work(world.engine) as session:
        session.execute(
            update(ApiKey)
            .where(ApiKey.id == view.id)  # type: ignore[arg-type]
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    verifier.forget(view.id)
    assert verifier.verify(token) is None


def test_a_wrong_secret_for_a_real_key_id_fails(world: World) -> None:
    _, token = create_key(world.engine, role="admin")
    verifier = KeyVerifier(world.engine, clock=Clock())
    assert verifier.verify(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert verifier.verify("fe_000000000000_" + "A" * 43) is None
    assert verifier.verify("") is None


def test_the_limiter_counts_per_key_per_minute() -> None:
    clock = Clock(6000.0)  # a window boundary
    limiter = FixedWindowLimiter(3, clock=clock)
    assert [limiter.hit("a") for _ in range(3)] == [None, None, None]
    assert limiter.hit("a") == 60.0
    assert limiter.hit("b") is None, "keys are counted apart"
    clock.now += 45.0
    assert limiter.hit("a") == 15.0
    clock.now += 15.0
    assert limiter.hit("a") is None, "a new window starts afresh"
    assert limiter.hit("c", limit=1) is None
    assert limiter.hit("c", limit=1) is not None
    assert FixedWindowLimiter(0, clock=clock).hit("a") is None, "0 turns the limit off"
