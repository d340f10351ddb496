"""gunicorn configuration of ``finance-engine serve`` (``-c python:finance_engine.gunicorn_conf``).

* Workers: ``FINANCE_ENGINE_WORKERS`` or gunicorn's rule of thumb, 2 x CPU cores + 1; sync
  workers (requests are CPU-bound and short; a database wait blocks only its own worker).
* Timeouts: a worker silent for 30 s is restarted; on SIGTERM workers get 30 s to finish the
  requests they hold (graceful shutdown); keep-alive 5 s behind a load balancer.
* No preload: every worker builds its own app after the fork (its own database pool, its own
  LightGBM state) and loads the catalog and the current risk model once, in
  ``post_worker_init``, before it accepts a request.
* Metrics: prometheus_client's multiprocess mode in ``PROMETHEUS_MULTIPROC_DIR`` (default
  ``<instance>/prometheus``, emptied at start), so ``/metrics`` on any worker covers all.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

bind = os.environ.get("FINANCE_ENGINE_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("FINANCE_ENGINE_WORKERS") or 2 * (os.cpu_count() or 1) + 1)
worker_class = "sync"
timeout = 30
graceful_timeout = 30
keepalive = 5
preload_app = False
accesslog = None  # the app writes one JSON line per request itself
errorlog = "-"
loglevel = "info"
proc_name = "finance-engine"


def _metrics_dir() -> Path:
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if configured:
        return Path(configured)
    instance = Path(os.environ.get("FINANCE_ENGINE_INSTANCE_PATH") or "var").resolve()
    return instance / "prometheus"


def on_starting(server: Any) -> None:
    """Before forking: a fresh multiprocess metrics folder the workers inherit."""
    folder = _metrics_dir()
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def post_worker_init(worker: Any) -> None:
    """Load the product catalog and the current risk model once per worker."""
    app = worker.wsgi
    state = app.extensions.get("finance_engine.api")
    if state is not None:
        state.warm_up()


def child_exit(server: Any, worker: Any) -> None:
    """Drop a dead worker's live metric files."""
    from finance_engine.api.metrics import mark_process_dead

    mark_process_dead(worker.pid)
