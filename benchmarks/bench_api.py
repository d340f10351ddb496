"""Scoring endpoint throughput and latency under gunicorn, against a bare Flask floor, same run.

Run::

    .venv/bin/python -m benchmarks.bench_api [--duration 10] [--connections 16]
        [--workers 2] [--repeat 3] [--probes] [--database-url postgresql+psycopg://...]

Builds a small world (three graded firms, a trained risk model, a bank_system key and consents)
in a temporary SQLite file, or with ``--database-url`` (or ``$FINANCE_ENGINE_BENCH_DATABASE_URL``)
in a fresh PostgreSQL schema dropped afterwards, then serves with the same gunicorn config
(``finance_engine.gunicorn_conf``, ``--workers`` sync workers, loopback):

- *floor*: ``benchmarks.bare_app`` - ``POST /score`` parses the same JSON body and answers
  the same number of bytes as a real decision, with nothing else;
- with ``--probes``, the ceiling probes of ``benchmarks.probe_app``: the floor plus the request
  schema, plus the decision (no database); the floor plus the request schema and the database
  work of a decision (consent, account and alerts query, hash-chained log append) without
  computing one; and the decision service alone (all of these) without the API machinery;
- *scoring*: ``POST /api/v1/decisions`` of the real app (key check, rate-limit count, consent,
  account and alerts query, LightGBM PD, rules, hash-chained decision-log append, JSON access
  log line, metrics).

Load comes from ``wrk`` (Debian package ``wrk``; ``-t2 -c16`` as in ``performance.md``) or, when
it is not installed, a bounded Python load generator (processes with keep-alive connections;
heavier on the CPU it shares with the server, so its absolute numbers are lower). Each target
runs ``--repeat`` times alternately; medians are printed with each target's share of the
floor's throughput and the ratios the issue sets as targets: scoring throughput >= 60% of the
floor's, scoring p99 <= 2x the floor's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from benchmarks.api_world import (
    DATABASE_URL_VAR,
    LENDER,
    application,
    build_world,
    drop_schema,
    fresh_schema,
)

PROBE_FACTORY = "benchmarks.probe_app:create_probe_app()"
PROBE_STAGES = ("parse", "decide", "store", "service")
PROBE_LABELS = {
    "parse": "probe: floor + request schema",
    "decide": "probe: ... + decision (no DB)",
    "store": "probe: schema + DB, no decision",
    "service": "probe: decision service alone",
}


@dataclass(frozen=True)
class Result:
    """One load run."""

    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    failures: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """A gunicorn process serving ``factory`` with the packaged config."""

    def __init__(self, factory: str, workers: int, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.log = log.open("w")
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "python:finance_engine.gunicorn_conf",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            factory,
        ]
        self.process = subprocess.Popen(
            command, env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT
        )
        self.base = f"http://127.0.0.1:{self.port}"
        self._wait(log)

    def _wait(self, log: Path) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=5) as response:
                    if response.status == 200:
                        time.sleep(1.0)  # let every worker finish warming up
                        return
            except OSError:
                time.sleep(0.2)
        raise SystemExit("gunicorn did not become ready")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        self.log.close()


def post_once(url: str, body: bytes, headers: dict[str, str]) -> bytes:
    """One request (to check it works and to size the response)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        payload: bytes = response.read()
        if response.status >= 300:
            raise SystemExit(f"{url}: HTTP {response.status}")
        return payload


_WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
{auth}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %.1f %.1f %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.status + e.connect + e.read + e.write + e.timeout))
end
"""


def run_wrk(url: str, body: bytes, headers: dict[str, str], args: argparse.Namespace) -> Result:
    """Load with wrk; latencies from its histogram (microseconds)."""
    auth = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())
    script = _WRK_SCRIPT.format(body=json.dumps(body.decode()), auth=auth)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t",
                str(args.threads),
                "-c",
                str(args.connections),
                "-d",
                f"{args.duration}s",
                "-s",
                handle.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(handle.name)
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    n, duration_us, p50_us, p99_us, failures = line.split()[1:]
    seconds = int(duration_us) / 1e6
    return Result(int(n), int(n) / seconds, float(p50_us) / 1e3, float(p99_us) / 1e3, int(failures))


def _python_client(url: str, body: bytes, headers: dict[str, str], count: int) -> list[float]:
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    latencies = []
    for _ in range(count):
        start = time.perf_counter()
        sent = {"Content-Type": "application/json", **headers}
        connection.request("POST", parts.path, body=body, headers=sent)
        response = connection.getresponse()
        response.read()
        if response.status >= 300:
            latencies.append(-1.0)
            continue
        latencies.append(time.perf_counter() - start)
    connection.close()
    return latencies


def run_python(url: str, body: bytes, headers: dict[str, str], args: argparse.Namespace) -> Result:
    """Load with ``--connections`` client processes, ``--requests`` requests in all."""
    from concurrent.futures import ProcessPoolExecutor

    per_client = max(1, args.requests // args.connections)
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.connections) as pool:
        futures = [
            pool.submit(_python_client, url, body, headers, per_client)
            for _ in range(args.connections)
        ]
        samples = [x for f in futures for x in f.result()]
    elapsed = time.perf_counter() - start
    ok = sorted(x for x in samples if x >= 0)
    return Result(
        len(samples),
        len(samples) / elapsed,
        ok[len(ok) // 2] * 1e3,
        ok[min(len(ok) - 1, int(len(ok) * 0.99))] * 1e3,
        len(samples) - len(ok),
    )


def _median(results: list[Result]) -> Result:
    return Result(
        sum(r.requests for r in results),
        statistics.median(r.rps for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
        sum(r.failures for r in results),
    )


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="Seconds per wrk run.")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads.")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers.")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--requests", type=int, default=4000, help="Python generator total.")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(DATABASE_URL_VAR) or None,
        help=f"PostgreSQL URL (or ${DATABASE_URL_VAR}); the world goes into a fresh schema, "
        "dropped afterwards. Default: SQLite in a temporary folder.",
    )
    parser.add_argument(
        "--probes",
        action="store_true",
        help="Also serve the ceiling probes (benchmarks.probe_app): the floor plus parsing, "
        "plus the decision, and the decision service alone.",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the comparison."""
    args = _arguments(argv)
    use_wrk = shutil.which("wrk") is not None
    load = run_wrk if use_wrk else run_python
    root = Path(tempfile.mkdtemp(prefix="bench-api-"))
    schema, servers = None, []
    try:
        url = args.database_url
        if url:
            schema, url = fresh_schema(url)
        env, token = build_world(root, url)
        body = json.dumps(application()).encode()
        auth = {"Authorization": f"Bearer {token}"}
        api = Server("finance_engine.app:create_app()", args.workers, env, root / "api.log")
        servers.append(api)
        json_auth = {"Content-Type": "application/json", **auth}
        decision = post_once(f"{api.base}/api/v1/decisions", body, json_auth)
        sized = {**env, "BENCH_RESPONSE_BYTES": str(len(decision)), "BENCH_LENDER": LENDER}
        bare = Server("benchmarks.bare_app:create_bare_app()", args.workers, sized, root / "b.log")
        servers.append(bare)
        targets: list[tuple[str, str, dict[str, str]]] = [
            ("floor (bare Flask)", f"{bare.base}/score", {})
        ]
        for stage in PROBE_STAGES if args.probes else ():
            probe_env = {**sized, "BENCH_PROBE_STAGE": stage}
            probe = Server(PROBE_FACTORY, args.workers, probe_env, root / f"{stage}.log")
            servers.append(probe)
            targets.append((PROBE_LABELS[stage], f"{probe.base}/score", {}))
        targets.append(("scoring /api/v1/decisions", f"{api.base}/api/v1/decisions", auth))
        runs: list[list[Result]] = [[] for _ in targets]
        for _ in range(args.repeat):
            for runs_of, (_, target, headers) in zip(runs, targets, strict=True):
                runs_of.append(load(target, body, headers, args))
        rows = [(name, _median(r)) for (name, _, _), r in zip(targets, runs, strict=True)]
        _report(rows, len(body), len(decision), args, use_wrk)
    finally:
        for server in servers:
            server.stop()
        if schema is not None:
            drop_schema(args.database_url, schema)
        shutil.rmtree(root, ignore_errors=True)


def _report(
    rows: list[tuple[str, Result]], body: int, answer: int, args: argparse.Namespace, wrk: bool
) -> None:
    tool = (
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s"
        if wrk
        else f"python generator, {args.connections} connections, {args.requests} requests"
    )
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"gunicorn {args.workers} sync workers, loopback, {backend}; load: {tool}; "
        f"median of {args.repeat}"
    )
    print(f"request {body} B JSON, response {answer} B JSON (every target)")
    print(f"{'':<32}{'req/s':>9}{'of floor':>10}{'p50 ms':>9}{'p99 ms':>9}{'failed':>8}")
    floor, api = rows[0][1], rows[-1][1]
    for name, r in rows:
        share = r.rps / floor.rps
        print(
            f"{name:<32}{r.rps:>9.0f}{share:>10.2f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{r.failures:>8}"
        )
    throughput, tail = api.rps / floor.rps, api.p99_ms / floor.p99_ms
    verdict = "ok" if throughput >= 0.6 else "MISSED"
    print(f"throughput ratio {throughput:.2f} (target >= 0.60): {verdict}")
    print(f"p99 ratio        {tail:.2f} (target <= 2.00): {'ok' if tail <= 2.0 else 'MISSED'}")


if __name__ == "__main__":
    main()
