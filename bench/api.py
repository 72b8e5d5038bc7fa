"""The HTTP API under load: `thidua serve` on PostgreSQL, 32 clients approving along the chains.

N nominations are registered, implemented and reported through the service (untimed), each in a
commune whose chain runs commune → district → province; the three approvers get API tokens.
Then `thidua serve` starts as a separate process (uvicorn, the scheduler and the dispatcher
beside the API, as in production) and `--clients` threads, each with its own keep-alive
connection, take nominations from a shared queue and approve each at its three levels in turn:
POST /api/v1/nominations/{id}/approve with the right approver's token, 3N requests in all.
The script prints requests per second, p50/p90/p99/max latency, the non-2xx answers, and the
lost-update check: the audit log's 'approve' entries (read from the database afterwards) must
equal the 2xx answers, and every nomination must end 'province_reviewed'. Target: p99 under
50 ms on PostgreSQL. The last line on stdout is one JSON object of the figures.

Beside latency it prints the CPU time each request costs the server, PostgreSQL (its processes
read from /proc) and the clients, and what the machine's CPUs allow at that cost: at most
cpus / CPU-per-request requests per second, and so, with the clients always waiting, a mean
latency of at least clients / that rate. Then the same clients send the same requests to
`floor_app` — the approval's route on FastAPI and uvicorn doing nothing (`--no-floor` skips it):
the framework's own rate and latency on this machine.

    PYTHONPATH=. .venv/bin/python bench/api.py --n 1000
    PYTHONPATH=. .venv/bin/python bench/api.py --n 300 --backends sqlite,postgresql

Progress goes to stderr. PostgreSQL is THIDUA_BENCH_POSTGRES_URL (default: the local `test`
database); each run works in a fresh schema that is dropped at the end. The server's own
settings come from the environment as usual (THIDUA_DB_POOL_SIZE, …); its log level is
warning, so that logging does not weigh on the figures.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from chain import DEFAULT_PG_URL, Databases
from fastapi import FastAPI, Header
from pydantic import BaseModel
from worlds import APPROVERS, world

from workflow.db import make_engine, migrate
from workflow.logs import configure_logging
from workflow.server import serving_collector
from workflow.service import Service
from workflow.timeutil import format_date

ROOT = Path(__file__).resolve().parents[1]
CAMPAIGN = "BENCH-API"
OFFICER = "canbo.xa"
COMMUNE = "26734"
CHAIN = [a["username"] for a in APPROVERS]  # commune, district, province
TARGET_P99_MS = 50.0


def bench_world() -> dict[str, Any]:
    """The benchmarks' three-tier world, its deadlines ahead of today (the server's clock)."""
    data = world(CAMPAIGN, APPROVERS)
    today = datetime.now(UTC)
    data["campaigns"][0]["registration_deadline"] = format_date(today + timedelta(days=30))
    data["campaigns"][0]["report_deadline"] = format_date(today + timedelta(days=60))
    return data


def prepare(url: str, n: int) -> tuple[list[int], dict[str, str]]:
    """N reported nominations and a token per approver, through the service (untimed)."""
    engine = make_engine(url)
    try:
        migrate(engine)
        service = Service(engine)
        service.load(bench_world(), actor="quantri")
        ids = []
        step = max(1, n // 5)
        for i in range(n):
            view = service.register(
                OFFICER,
                campaign=CAMPAIGN,
                unit=COMMUNE,
                nominee_kind="individual",
                nominee_name=f"Nguyễn Văn Thi Đua {i}",
                title=f"Sáng kiến số hoá hồ sơ một cửa {i}",
                area="thu_tuc_hanh_chinh",
            )
            service.implement(OFFICER, view.id)
            service.report(OFFICER, view.id)
            ids.append(view.id)
            if (i + 1) % step == 0:
                print(f"  prepared {i + 1}/{n} nominations", file=sys.stderr, flush=True)
        tokens = {name: service.create_token(name, "bench")["token"] for name in CHAIN}
        return ids, tokens
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds(pids: list[str]) -> float:
    """User and system CPU these processes have used so far (Linux /proc); a process that has
    just ended counts nothing."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def database_cpu_seconds() -> float | None:
    """CPU used so far by this machine's PostgreSQL processes (the postmaster, its background
    workers and every backend), or None where /proc does not show them: the database's share
    of each request, for the machine's CPU budget below. A backend that ends during the run
    takes its CPU with it, so this is a lower bound."""
    try:
        entries = [entry for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    except OSError:
        return None
    pids = []
    for entry in entries:
        try:
            if (entry / "comm").read_text().strip() == "postgres":
                pids.append(entry.name)
        except OSError:
            continue
    return cpu_seconds(pids) if pids else None


class Server:
    """`thidua serve` in its own process, on a free port, its log in a file; with `floor`,
    the framework's floor instead (`floor_app` on uvicorn, as `thidua serve` runs it)."""

    def __init__(self, url: str, log_path: Path, floor: bool = False) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.log = log_path.open("wb")
        env = {
            **os.environ,
            "THIDUA_DATABASE_URL": url,
            "THIDUA_LOG_LEVEL": "warning",
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(ROOT), str(ROOT / "bench"), os.environ.get("PYTHONPATH")) if p
            ),
        }
        command = ["workflow.cli", "serve", "--port", str(self.port)]
        if floor:
            command = ["uvicorn", "--factory", "api:floor_app", "--port", str(self.port)]
            command += ["--no-access-log", "--no-proxy-headers", "--log-level", "warning"]
        self.process = subprocess.Popen(
            [sys.executable, "-m", *command],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=log_path.parent,
        )

    def wait_ready(self, seconds: float = 60) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.process.poll() is not None:
                self.log.flush()
                tail = self.log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
                raise RuntimeError(f"thidua serve exited with {self.process.returncode}:\n{tail}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/api/v1/openapi.json")
                if connection.getresponse().status == 200:
                    connection.close()
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"thidua serve did not answer within {seconds} s")

    def cpu_seconds(self) -> float | None:
        """User and system CPU the server has used so far, with its worker processes when it
        runs several (THIDUA_WORKERS): Linux /proc; None elsewhere."""
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return None
        return cpu_seconds([str(pid), *children])

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()
        return self.process.returncode


class Clients:
    """Threads, each with one keep-alive connection, approving nominations from a queue."""

    def __init__(self, port: int, tokens: dict[str, str], ids: list[int]) -> None:
        self.port = port
        self.tokens = tokens
        self.work: queue.SimpleQueue[int] = queue.SimpleQueue()
        for nomination in ids:
            self.work.put(nomination)
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.failures: list[str] = []
        self.lock = threading.Lock()

    def run(self, clients: int) -> float:
        threads = [threading.Thread(target=self._client) for _ in range(clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - started

    def measure(
        self, server: Server, clients: int, database: bool
    ) -> tuple[float, float | None, float | None, float]:
        """Run the clients: seconds, and the CPU seconds meanwhile of the server, of PostgreSQL
        (when `database`; None elsewhere) and of this process (the clients)."""
        server_cpu, client_cpu = server.cpu_seconds(), time.process_time()
        database_cpu = database_cpu_seconds() if database else None
        elapsed = self.run(clients)
        client_cpu = time.process_time() - client_cpu
        server_cpu = difference(server.cpu_seconds(), server_cpu)
        database_cpu = difference(database_cpu_seconds() if database else None, database_cpu)
        return elapsed, server_cpu, database_cpu, client_cpu

    def _client(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        failures: list[str] = []
        try:
            while True:
                try:
                    nomination = self.work.get_nowait()
                except queue.Empty:
                    break
                for approver in CHAIN:
                    headers = {
                        "Authorization": f"Bearer {self.tokens[approver]}",
                        "Content-Type": "application/json",
                    }
                    path = f"/api/v1/nominations/{nomination}/approve"
                    started = time.perf_counter()
                    connection.request("POST", path, body=b"{}", headers=headers)
                    response = connection.getresponse()
                    body = response.read()
                    latencies.append(time.perf_counter() - started)
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                    if not 200 <= response.status < 300:
                        failures.append(
                            f"{nomination} {approver}: {response.status} {body[:200]!r}"
                        )
                        break  # the next level cannot follow a failed one
        finally:
            connection.close()
            with self.lock:
                self.latencies.extend(latencies)
                self.failures.extend(failures)
                for status, count in statuses.items():
                    self.statuses[status] = self.statuses.get(status, 0) + count


def percentile(ordered: list[float], fraction: float) -> float:
    """The nearest-rank percentile of sorted values, in milliseconds."""
    if not ordered:
        return 0.0
    rank = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return round(ordered[rank] * 1000, 2)


def check(url: str, ids: list[int]) -> dict[str, Any]:
    """What the database holds after the run: approve entries and the nominations' states."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            approved = connection.execute(
                sa.text("SELECT count(*) FROM audit_log WHERE trigger = 'approve'")
            ).scalar_one()
            states = dict(
                connection.execute(
                    sa.text("SELECT state, count(*) FROM nominations GROUP BY state")
                ).all()
            )
            outbox = connection.execute(
                sa.text(
                    "SELECT count(*), count(delivered_at), count(parked_at), sum(attempts) "
                    "FROM outbox"
                )
            ).one()
        return {
            "audit_approve_entries": int(approved),
            "states": states,
            "outbox": dict(
                zip(("messages", "delivered", "parked", "attempts"), outbox, strict=True)
            ),
        }
    finally:
        engine.dispose()


def difference(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else after - before


def per_request(seconds: float | None, requests: int) -> float | None:
    return None if seconds is None or not requests else round(seconds * 1000 / requests, 2)


def cpu_budget(seconds: list[float | None], requests: int, clients: int) -> dict[str, float | None]:
    """What the machine's CPUs allow at the measured CPU per request (server, database and
    clients all share them): at most cpus / cpu-per-request requests per second, and with
    `clients` requests always waiting a mean latency of at least clients / that rate
    (Little's law) — a floor under p50 and p99 that no tuning of latency alone goes below."""
    if any(part is None for part in seconds) or not requests:
        return {"cpu_bound_requests_per_s": None, "latency_floor_ms": None}
    per_request = sum(part or 0.0 for part in seconds) / requests
    bound = (os.cpu_count() or 1) / per_request
    return {
        "cpu_bound_requests_per_s": round(bound, 1),
        "latency_floor_ms": round(clients / bound * 1000, 1),
    }


class Signed(BaseModel):
    """The floor's answer: the shape of a nomination's summary, small."""

    id: int
    state: str
    version: int


def floor_app() -> FastAPI:
    """The floor under the server: the approval's route, its bearer header and its answer's
    shape on FastAPI and uvicorn, doing nothing else (no token lookup, no command, no database,
    no dispatcher), the garbage collector set as `thidua serve` sets it. What `thidua serve`
    takes beyond it is thidua's own work."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        with serving_collector():  # the collector as `thidua serve` sets it
            yield

    app = FastAPI(openapi_url="/api/v1/openapi.json", lifespan=lifespan)

    @app.post("/api/v1/nominations/{nomination_id}/approve")
    def approve(nomination_id: int, authorization: Annotated[str, Header()]) -> Signed:
        return Signed(id=nomination_id, state="commune_reviewed", version=len(authorization))

    return app


def run_floor(n: int, clients: int, folder: Path) -> dict[str, Any]:
    """The same clients, requests and CPU accounting against `floor_app`."""
    print(f"== floor: {3 * n} requests to a route that does nothing", file=sys.stderr, flush=True)
    server = Server("", folder / "serve-floor.log", floor=True)
    try:
        server.wait_ready()
        load = Clients(server.port, dict.fromkeys(CHAIN, "0" * 43), list(range(n)))
        elapsed, server_cpu, _, client_cpu = load.measure(server, clients, database=False)
    finally:
        server.stop()
    ordered = sorted(load.latencies)
    return {
        "requests": len(ordered),
        "errors": len(ordered) - load.statuses.get(200, 0),
        "requests_per_s": round(len(ordered) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": percentile(ordered, 0.50),
        "p99_ms": percentile(ordered, 0.99),
        "server_cpu_ms_per_request": per_request(server_cpu, len(ordered)),
        "client_cpu_ms_per_request": per_request(client_cpu, len(ordered)),
    }


def run(url: str, backend: str, n: int, clients: int, folder: Path) -> dict[str, Any]:
    print(f"== {backend}: {n} nominations, {3 * n} approvals", file=sys.stderr, flush=True)
    ids, tokens = prepare(url, n)
    server = Server(url, folder / f"serve-{backend}.log")
    try:
        server.wait_ready()
        print(
            f"  thidua serve: pid {server.process.pid}, port {server.port}",
            file=sys.stderr,
            flush=True,
        )
        # Warm up untimed: one authenticated read per approver (compiled-statement caches).
        warm = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        for token in tokens.values():
            warm.request("GET", "/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            warm.getresponse().read()
        warm.close()
        load = Clients(server.port, tokens, ids)
        print(f"  {clients} clients approving", file=sys.stderr, flush=True)
        database = backend == "postgresql"
        elapsed, server_cpu, database_cpu, client_cpu = load.measure(server, clients, database)
    finally:
        exit_code = server.stop()
    ordered = sorted(load.latencies)
    ok = sum(count for status, count in load.statuses.items() if 200 <= status < 300)
    found = check(url, ids)
    for failure in load.failures[:5]:
        print(f"  failed: {failure}", file=sys.stderr)
    p99 = percentile(ordered, 0.99)
    return {
        "requests": len(ordered),
        "seconds": round(elapsed, 3),
        "requests_per_s": round(len(ordered) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": percentile(ordered, 0.50),
        "p90_ms": percentile(ordered, 0.90),
        "p99_ms": p99,
        "max_ms": round(ordered[-1] * 1000, 2) if ordered else 0.0,
        "ok": ok,
        "errors": len(ordered) - ok,
        "statuses": {str(status): count for status, count in sorted(load.statuses.items())},
        "audit_approve_entries": found["audit_approve_entries"],
        "no_lost_update": found["audit_approve_entries"] == ok
        and found["states"].get("province_reviewed", 0) == n,
        "states": found["states"],
        "outbox": found["outbox"],
        "server_exit": exit_code,
        # CPU per request, which the machine's other load does not change as much as latency.
        "server_cpu_ms_per_request": per_request(server_cpu, len(ordered)),
        "database_cpu_ms_per_request": per_request(database_cpu, len(ordered)),
        "client_cpu_ms_per_request": per_request(client_cpu, len(ordered)),
        **cpu_budget([server_cpu, database_cpu, client_cpu], len(ordered), clients),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "target_p99_ms": TARGET_P99_MS,
        "pass": p99 < TARGET_P99_MS,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="nominations (3 approvals each)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients")
    parser.add_argument(
        "--backends", default="postgresql", help="sqlite and/or postgresql (default postgresql)"
    )
    parser.add_argument(
        "--pg-url", default=os.environ.get("THIDUA_BENCH_POSTGRES_URL", DEFAULT_PG_URL)
    )
    parser.add_argument(
        "--no-floor", action="store_true", help="skip the route that does nothing (floor_app)"
    )
    args = parser.parse_args(argv)
    if args.n < 1 or args.clients < 1:
        parser.error("--n and --clients must be at least 1")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not backends or set(backends) - {"sqlite", "postgresql"}:
        parser.error("--backends takes sqlite and/or postgresql")
    configure_logging("warning")
    results: dict[str, Any] = {
        "n": args.n,
        "clients": args.clients,
        "requests": 3 * args.n,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    databases = Databases(args.pg_url.replace("postgresql://", "postgresql+psycopg://", 1), None)
    try:
        for backend in backends:
            place = databases.fresh(backend, "api")
            results[backend] = run(place.url, backend, args.n, args.clients, Path(databases.tmp))
        if not args.no_floor:
            results["floor"] = run_floor(args.n, args.clients, Path(databases.tmp))
    finally:
        databases.close()
    print(f"\nAPI workload: {args.n} nominations x 3 approvals, {args.clients} clients")
    print(
        f"{'backend':<11} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'errors':>7} {'audit=ok':>9} {'cpu ms':>7} {'db ms':>6}  p99 < {TARGET_P99_MS:.0f} ms"
    )
    for backend in backends:
        r = results[backend]
        print(
            f"{backend:<11} {r['requests_per_s']:>8,.1f} {r['p50_ms']:>8.2f} {r['p90_ms']:>8.2f} "
            f"{r['p99_ms']:>8.2f} {r['max_ms']:>8.2f} {r['errors']:>7} "
            f"{'yes' if r['no_lost_update'] else 'NO':>9} "
            f"{r['server_cpu_ms_per_request'] or 0:>7.2f} "
            f"{r['database_cpu_ms_per_request'] or 0:>6.2f}  {'pass' if r['pass'] else 'FAIL'}"
        )
    print(
        "(cpu ms: the server's CPU time per request; db ms: PostgreSQL's; the load average is in "
        "the JSON)"
    )
    floor = results.get("floor")
    if floor:
        print(
            f"floor (the same route on FastAPI and uvicorn, doing nothing): "
            f"{floor['requests_per_s']:,.1f} req/s, p50 {floor['p50_ms']:.2f} ms, "
            f"p99 {floor['p99_ms']:.2f} ms, {floor['server_cpu_ms_per_request'] or 0:.2f} ms of "
            f"server CPU per request, {floor['errors']} errors"
        )
    for backend in backends:
        r = results[backend]
        if r["cpu_bound_requests_per_s"] is not None:
            print(
                f"{backend}: server, database and clients use {os.cpu_count()} CPUs at most "
                f"{r['cpu_bound_requests_per_s']:,.1f} requests/s; {args.clients} clients always "
                f"waiting then wait {r['latency_floor_ms']:,.1f} ms on average at the least"
            )
    print(json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
