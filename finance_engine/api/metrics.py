"""Prometheus metrics: requests, latency histograms, decisions by outcome, access denials.

Under gunicorn every worker is its own process. With ``PROMETHEUS_MULTIPROC_DIR`` set (``finance-
engine serve`` sets it to a fresh folder), prometheus_client keeps each worker's values in
memory-mapped files there and ``/metrics`` merges them, so any worker answers for all. Without
it (a single process, tests) the values live in this process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess, values

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS_S = (
    0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
"""Latency histogram buckets, seconds (the scoring target is a few milliseconds)."""


@dataclass(frozen=True)
class Metrics:
    """The process's metric objects."""

    requests: Counter
    latency: Histogram
    decisions: Counter
    denials: Counter


def multiprocess_dir() -> str | None:
    """The multiprocess folder when multiprocess mode is on (created if missing)."""
    path = os.environ.get(MULTIPROC_ENV)
    if not path:
        return None
    os.makedirs(path, exist_ok=True)
    return path


@lru_cache(maxsize=1)
def metrics() -> Metrics:
    """Create the metrics once per process (in multiprocess mode, in mmap-backed values)."""
    if multiprocess_dir() and not getattr(values.ValueClass, "_multiprocess", False):
        # prometheus_client chose its value class at import; the folder was set up after.
        values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    return Metrics(
        requests=Counter(
            "finance_engine_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ("method", "route", "status"),
        ),
        latency=Histogram(
            "finance_engine_http_request_duration_seconds",
            "Time from request start to response, seconds, by method and route template.",
            ("method", "route"),
            buckets=LATENCY_BUCKETS_S,
        ),
        decisions=Counter(
            "finance_engine_decisions",
            "Credit decisions made, by outcome.",
            ("outcome",),
        ),
        denials=Counter(
            "finance_engine_access_denials",
            "Refused requests, by reason (unauthenticated, role, no_consent, other_lender, "
            "rate_limited).",
            ("reason",),
        ),
    )


def count_decision(outcome: str, n: int = 1) -> None:
    """Count ``n`` decisions with ``outcome`` (e.g. ``approved``, ``declined``)."""
    metrics().decisions.labels(outcome).inc(n)


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus text format and its content type."""
    path = multiprocess_dir()
    if path:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
        return prometheus_client.generate_latest(registry), prometheus_client.CONTENT_TYPE_LATEST
    return (
        prometheus_client.generate_latest(prometheus_client.REGISTRY),
        prometheus_client.CONTENT_TYPE_LATEST,
    )


def mark_process_dead(pid: int) -> None:
    """Forget a dead worker's live gauges (gunicorn ``child_exit`` hook)."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
