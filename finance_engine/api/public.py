"""Operations open without an API key, rate limited per client address.

Only ``GET /api/v1/reports/verify/{verification_code}`` is public: a report's QR code points
there. It is limited to ``FINANCE_ENGINE_REPORT_VERIFY_PER_MINUTE`` requests per client address
(an IPv6 client counts per /64) per minute in each worker. Counts are dropped at each new window, so
memory is bounded by one minute's distinct addresses. Behind a reverse proxy the address is the
proxy's unless the app is wrapped in werkzeug's ``ProxyFix``.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections.abc import Callable
from copy import deepcopy
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, request

from finance_engine.api.auth import ALL_ROLES
from finance_engine.api.metrics import metrics
from finance_engine.api.problems import ProblemError
from finance_engine.api.ratelimit import WINDOW_S
from finance_engine.api.state import state

F = TypeVar("F", bound=Callable[..., Any])
EXTENSION = "finance_engine.api.public"


def client_key(address: str) -> str:
    """What the limiter counts: the address, or its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class AddressLimiter:
    """Fixed-window request counts per client, forgotten when the window turns."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._window = -1
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def hit(self, address: str, per_minute: int) -> float | None:
        """Count one request; None if allowed, else the seconds until the next window."""
        if per_minute <= 0:
            return None
        now = self._clock()
        window = int(now // WINDOW_S)
        key = client_key(address)
        with self._lock:
            if window != self._window:
                self._window, self._counts = window, {}
            count = self._counts.get(key, 0) + 1
            self._counts[key] = count
        if count <= per_minute:
            return None
        return max(1.0, math.ceil((window + 1) * WINDOW_S - now))


def _limiter() -> AddressLimiter:
    found = current_app.extensions.get(EXTENSION)
    if found is None:
        found = current_app.extensions.setdefault(EXTENSION, AddressLimiter())
    limiter: AddressLimiter = found
    return limiter


def public(view: F) -> F:
    """Open ``view`` to callers without a key (``security: []``, ``x-public: true``).

    Any ``Authorization`` header is ignored. The operation lists every role in ``x-roles``.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        per_minute = state().settings.report_verify_per_minute
        retry_after = _limiter().hit(request.remote_addr or "", per_minute)
        if retry_after is not None:
            metrics().denials.labels("rate_limited").inc()
            raise ProblemError(
                "rate-limited",
                f"this address made more than {per_minute} verifications this minute",
                headers={"Retry-After": str(int(retry_after))},
            )
        return view(*args, **kwargs)

    apidoc = deepcopy(getattr(view, "_apidoc", {}))
    manual = apidoc.setdefault("manual_doc", {})
    manual.update({"security": [], "x-public": True, "x-roles": [r.value for r in ALL_ROLES]})
    manual.setdefault("responses", {})[429] = "TOO_MANY_REQUESTS"
    wrapper._apidoc = apidoc  # type: ignore[attr-defined]
    return cast(F, wrapper)
