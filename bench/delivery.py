"""Notifications: delivery rate per channel, and what the outbox costs the chain workload.

1. N messages (default 10,000) are written to the outbox (one bulk INSERT per channel) and a
   dispatcher delivers them to a local SMTP server (aiosmtpd, on loopback) and to a local webhook
   server (http.server, keep-alive): messages per second per channel, claim and settle included.
2. The chain workload of bench/chain.py (register → award, seven transactions per nomination)
   runs with the notification writes and without them (`notify.on_transition` made a no-op):
   the ratio of transitions per second with / without is the outbox's cost. Each kind runs
   `--repeat` times, alternating which goes first, and the best run of each is compared.

    .venv/bin/python bench/delivery.py --n 10000
    .venv/bin/python bench/delivery.py --n 2000 --chain-n 100 --backends sqlite,postgresql

Progress goes to stderr; the last line on stdout is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import multiprocessing
import os
import platform
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

# This script's folder comes first on sys.path, and this script is named like the package:
# take the folder off, so `notifications` is the package, and load bench/chain.py by its path.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
sys.modules.pop("notifications", None)


def _load_chain() -> Any:
    spec = importlib.util.spec_from_file_location("chain", os.path.join(_HERE, "chain.py"))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["chain"] = module
    spec.loader.exec_module(module)
    return module


chain = _load_chain()

from notifications import NotificationSettings  # noqa: E402
from workflow import notify  # noqa: E402
from workflow.clock import SystemClock  # noqa: E402
from workflow.db import make_engine, migrate  # noqa: E402
from workflow.dispatch import build_dispatcher  # noqa: E402
from workflow.logs import configure_logging  # noqa: E402
from workflow.tables import OutboxMessage  # noqa: E402

SECRET = "benchmark-secret"
PAYLOAD = {
    "nomination_id": 1,
    "title": "Sáng kiến số hoá hồ sơ một cửa",
    "nominee_name": "Nguyễn Văn Thi Đua",
    "campaign_code": chain.CAMPAIGN,
    "campaign_name": "Thi đua cải cách hành chính Thành phố năm 2022 (benchmark)",
    "state": "reported",
    "level": "commune",
}


class Counting:
    """An aiosmtpd handler that counts what it accepts into a shared counter."""

    def __init__(self, count: Any) -> None:
        self.count = count

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.count.get_lock():
            self.count.value += 1
        return "250 OK"


def serve(smtp_port: int, hook_port: int, mails: Any, hooks: Any, stop: Any) -> None:
    """The receiving side, in its own process (so it does not share the dispatcher's GIL)."""
    controller = Controller(Counting(mails), hostname="127.0.0.1", port=smtp_port)
    controller.start()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with hooks.get_lock():
                hooks.value += 1
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", hook_port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stop.wait()
    server.shutdown()
    server.server_close()
    controller.stop()


@contextmanager
def servers(smtp_port: int, hook_port: int) -> Iterator[tuple[Any, Any]]:
    context = multiprocessing.get_context("spawn")
    mails, hooks, stop = context.Value("q", 0), context.Value("q", 0), context.Event()
    process = context.Process(target=serve, args=(smtp_port, hook_port, mails, hooks, stop))
    process.start()
    try:
        wait_for(lambda: _listening(smtp_port) and _listening(hook_port), 1)
        yield mails, hooks
    finally:
        stop.set()
        process.join(30)


def _listening(port: int) -> int:
    import socket

    with socket.socket() as probe:
        return int(probe.connect_ex(("127.0.0.1", port)) == 0)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fill(engine: sa.Engine, channel: str, address: str, n: int) -> None:
    now = datetime.now(UTC) - timedelta(seconds=1)
    rows = [
        {
            "key": f"bench:{channel}:{i}",
            "event": "awaiting_review",
            "template": "awaiting_review",
            "recipient_id": None,
            "channel": channel,
            "address": address,
            "payload": {**PAYLOAD, "nomination_id": i},
            "created_at": now,
            "next_attempt_at": now,
            "attempts": 0,
        }
        for i in range(n)
    ]
    with engine.begin() as connection:
        for start in range(0, n, 5000):
            connection.execute(sa.insert(OutboxMessage), rows[start : start + 5000])


def deliver(url: str, n: int, batch: int) -> dict[str, Any]:
    """Messages per second through each channel, on a fresh database at `url`."""
    engine = make_engine(url)
    migrate(engine)
    smtp_port, hook_port = free_port(), free_port()
    settings = NotificationSettings.from_env(
        {
            "THIDUA_SMTP_HOST": "127.0.0.1",
            "THIDUA_SMTP_PORT": str(smtp_port),
            "THIDUA_WEBHOOK_SECRET": SECRET,
            "THIDUA_DISPATCH_BATCH": str(batch),
        }
    )
    figures: dict[str, Any] = {}
    try:
        with servers(smtp_port, hook_port) as (mails, hooks):
            for channel, address, received in (
                ("email", "thi.dua@example.vn", lambda: int(mails.value)),
                ("webhook", f"http://127.0.0.1:{hook_port}/hook", lambda: int(hooks.value)),
            ):
                fill(engine, channel, address, n)
                dispatcher = build_dispatcher(engine, settings, SystemClock())
                print(f"  {channel}: delivering {n} …", file=sys.stderr, flush=True)
                started = time.perf_counter()
                tally = dispatcher.drain()
                elapsed = time.perf_counter() - started
                wait_for(received, n)
                if tally.delivered != n or received() != n:
                    raise RuntimeError(
                        f"{channel}: delivered {tally.delivered}, received {received()} of {n}"
                    )
                figures[channel] = {
                    "messages": n,
                    "seconds": round(elapsed, 3),
                    "messages_per_s": round(n / elapsed, 1),
                }
    finally:
        engine.dispose()
    return figures


def wait_for(count: Callable[[], int], n: int) -> None:
    deadline = time.monotonic() + 20
    while count() < n and time.monotonic() < deadline:
        time.sleep(0.01)


@contextmanager
def without_notifications() -> Iterator[None]:
    real = notify.on_transition
    notify.on_transition = lambda *args, **kwargs: None  # type: ignore[assignment]
    try:
        yield
    finally:
        notify.on_transition = real


def chain_cost(databases: Any, backend: str, n: int, repeat: int) -> dict[str, Any]:
    """The chain workload's transitions per second without and with the outbox writes.

    The two are run `repeat` times each, alternating which goes first, on fresh databases, and
    the best run of each is kept: other work on the machine slows single runs at random.
    """
    transitions = n * chain.STEPS_PER_NOMINATION
    times: dict[str, list[float]] = {"without": [], "with": []}
    for round_ in range(repeat):
        order = ("without", "with") if round_ % 2 == 0 else ("with", "without")
        for kind in order:
            place = databases.fresh(backend, f"{kind}-outbox")
            if kind == "without":
                with without_notifications():
                    times[kind].append(chain.run_service(place, n))
            else:
                times[kind].append(chain.run_service(place, n))
    best_without, best_with = min(times["without"]), min(times["with"])
    return {
        "nominations": n,
        "runs_each": repeat,
        "tps_without_outbox": round(transitions / best_without, 1),
        "tps_with_outbox": round(transitions / best_with, 1),
        #: throughput with the outbox writes / without them (best runs)
        "ratio": round(best_without / best_with, 3),
        "seconds_without": [round(t, 2) for t in times["without"]],
        "seconds_with": [round(t, 2) for t in times["with"]],
        # one message per level reached (3 approvers' levels here) and one "awarded"
        "messages_per_nomination": 4,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="messages per channel")
    parser.add_argument("--chain-n", type=int, default=200, help="nominations of the chain part")
    parser.add_argument("--batch", type=int, default=100, help="messages claimed at once")
    parser.add_argument("--repeat", type=int, default=2, help="chain runs of each kind")
    parser.add_argument("--backends", default="sqlite", help="sqlite and/or postgresql")
    parser.add_argument(
        "--pg-url", default=os.environ.get("THIDUA_BENCH_POSTGRES_URL", chain.DEFAULT_PG_URL)
    )
    args = parser.parse_args(argv)
    if args.n < 1 or args.chain_n < 2:
        parser.error("--n must be at least 1 and --chain-n at least 2")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not backends or set(backends) - {"sqlite", "postgresql"}:
        parser.error("--backends takes sqlite and/or postgresql")
    configure_logging("warning")
    results: dict[str, Any] = {
        "n": args.n,
        "batch": args.batch,
        "python": platform.python_version(),
    }
    databases = chain.Databases(
        args.pg_url.replace("postgresql://", "postgresql+psycopg://", 1), None
    )
    try:
        for backend in backends:
            print(f"== {backend}: delivery of {args.n} per channel", file=sys.stderr)
            delivery = deliver(databases.fresh(backend, "delivery").url, args.n, args.batch)
            print(f"== {backend}: chain workload, {args.chain_n} nominations", file=sys.stderr)
            results[backend] = {
                "delivery": delivery,
                "chain": chain_cost(databases, backend, args.chain_n, max(1, args.repeat)),
            }
    finally:
        databases.close()
    print(f"\nnotifications: {args.n} messages per channel, batches of {args.batch}")
    for backend in backends:
        r = results[backend]
        for channel, f in r["delivery"].items():
            print(f"{backend:<11} {channel:<8} {f['messages_per_s']:>10,.1f} messages/s")
        c = r["chain"]
        print(
            f"{backend:<11} chain    {c['tps_without_outbox']:>10,.1f} t/s without outbox, "
            f"{c['tps_with_outbox']:,.1f} with (ratio {c['ratio']:.3f})"
        )
    print(json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    sys.exit(main())
