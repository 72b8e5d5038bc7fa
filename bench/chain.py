"""The chain workload: the service against the bare driver, on SQLite and PostgreSQL.

N nominations, each registered and then moved by one command per transaction through implement,
report, approve at commune, district and province, and award: seven transitions each. The same
workload is then written with the bare driver (`sqlite3` / `psycopg`, the same durability
settings, one connection): per transition read the row, update state and version, insert one
hash-chained audit row, commit. The script prints transitions per second for both, their ratio
against the target (0.6 of the bare floor on SQLite, 0.8 on PostgreSQL) and how the service's
Python heap grows with N (tracemalloc, in a separate untimed pass). Its last line on stdout is one
JSON object of the figures.

It also captures every statement the service sends to the driver for the same workload (an
untimed pass) and replays them, transaction by transaction, through the bare driver on a second
database set up the same way (the two audit logs must come out identical): the floor of any code
that writes exactly what the service writes. It prints that rate, its ratio to the bare loop,
and per transition the time the service spends beyond its statements against the time the
target leaves for it (`--no-replay` skips this).

    .venv/bin/python bench/chain.py --n 300
    .venv/bin/python bench/chain.py --n 1000 --backends sqlite --profile

Progress goes to stderr. PostgreSQL is THIDUA_BENCH_POSTGRES_URL (default: the local `test`
database); each run works in fresh schemas that are dropped at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import io
import json
import os
import platform
import pstats
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from workflow.clock import FixedClock
from workflow.db import make_engine, migrate
from workflow.logs import configure_logging
from workflow.service import Service
from workflow.tables import AuditEntry

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGETS = {"sqlite": 0.6, "postgresql": 0.8}
STEPS_PER_NOMINATION = 7  # register, implement, report, approve x3, award
NOW = datetime(2022, 4, 20, 9, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
CAMPAIGN = "BENCH-CCHC-2022"
COMMUNE = "26734"
OFFICER = "canbo.xa"
APPROVERS = ("chutich.xa", "chutich.huyen", "chutich.tinh")
AWARDER = "chutich.tinh"


def person(username: str, name: str, role: str, unit: str) -> dict[str, Any]:
    return {"username": username, "name": name, "roles": [{"role": role, "unit": unit}]}


WORLD: dict[str, Any] = {
    "units": [
        {"code": "79", "name": "Thành phố Hồ Chí Minh", "level": "province"},
        {"code": "761", "name": "Quận 12", "level": "district", "parent": "79"},
        {"code": COMMUNE, "name": "Phường Thạnh Xuân", "level": "commune", "parent": "761"},
    ],
    "people": [
        person("quantri.tinh", "Quản trị Thành phố", "admin", "79"),
        person(OFFICER, "Trần Văn Hùng", "officer", COMMUNE),
        person("chutich.xa", "Võ Thanh Sơn", "approver", COMMUNE),
        person("chutich.huyen", "Nguyễn Văn Đức", "approver", "761"),
        person("chutich.tinh", "Phan Văn Mãi", "approver", "79"),
    ],
    "campaigns": [
        {
            "code": CAMPAIGN,
            "name": "Thi đua cải cách hành chính Thành phố năm 2022 (benchmark)",
            "issuing_unit": "79",
            "registration_deadline": "05/05/2022",
            "report_deadline": "01/12/2022",
            "tiers": ["commune", "district", "province"],
        }
    ],
}


def progress(label: str, n: int) -> Callable[[int], None]:
    """A callback printing to stderr at every tenth of n nominations."""
    step = max(1, n // 10)
    started = time.perf_counter()

    def report(done: int) -> None:
        if done % step == 0 or done == n:
            elapsed = time.perf_counter() - started
            rate = done * STEPS_PER_NOMINATION / elapsed if elapsed else 0.0
            print(
                f"  {label}: {done}/{n} nominations ({rate:,.0f} transitions/s)",
                file=sys.stderr,
                flush=True,
            )

    return report


# -- databases ---------------------------------------------------------------------------------


@dataclass
class Place:
    """Where one workload runs: a SQLAlchemy URL for the service, or connection details."""

    backend: str
    url: str  # for SQLAlchemy
    path: str | None = None  # the SQLite file
    schema: str | None = None  # the PostgreSQL schema


class Databases:
    """Fresh SQLite files in a temporary directory and fresh PostgreSQL schemas, cleaned up."""

    def __init__(self, pg_url: str, sqlite_dir: str | None) -> None:
        self.pg_url = pg_url
        self.tmp = tempfile.mkdtemp(prefix="thidua-bench-", dir=sqlite_dir)
        self.schemas: list[str] = []
        self._admin: sa.Engine | None = None

    def fresh(self, backend: str, label: str) -> Place:
        if backend == "sqlite":
            path = os.path.join(self.tmp, f"{label}-{uuid.uuid4().hex[:8]}.sqlite3")
            return Place("sqlite", f"sqlite:///{path}", path=path)
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        if self._admin is None:
            self._admin = sa.create_engine(self.pg_url)
        with self._admin.begin() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
        self.schemas.append(schema)
        url = make_url(self.pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
        return Place("postgresql", url.render_as_string(hide_password=False), schema=schema)

    def psycopg_conninfo(self) -> str:
        url = make_url(self.pg_url).set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def pg_settings(self) -> dict[str, str]:
        engine = self._admin or sa.create_engine(self.pg_url)
        self._admin = engine
        with engine.connect() as connection:
            return {
                name: str(connection.exec_driver_sql(f"SHOW {name}").scalar())
                for name in ("server_version", "fsync", "synchronous_commit", "wal_sync_method")
            }

    def close(self) -> None:
        if self.schemas and self._admin is not None:
            with self._admin.begin() as connection:
                for schema in self.schemas:
                    connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        if self._admin is not None:
            self._admin.dispose()
        shutil.rmtree(self.tmp, ignore_errors=True)


# -- the service workload ----------------------------------------------------------------------


def service_world(url: str) -> tuple[sa.Engine, Service]:
    engine = make_engine(url)
    migrate(engine)
    service = Service(engine, FixedClock(NOW))
    service.load(WORLD, actor="quantri.tinh")
    return engine, service


def service_chain(service: Service, i: int) -> None:
    """One nomination through its whole chain: seven commands, seven transactions."""
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
    for approver in APPROVERS:
        service.approve(approver, view.id)
    done = service.award(
        AWARDER, view.id, number="163/QĐ-UBND", date="12/04/2022", form="Bằng khen"
    )
    if done.state != "awarded":
        raise RuntimeError(f"nomination {view.id} ended in '{done.state}', not 'awarded'")


def run_service(place: Place, n: int) -> float:
    """Seconds for n nominations through the service (the world's setup is not timed)."""
    engine, service = service_world(place.url)
    try:
        service_chain(service, -1)  # warm the compiled-statement caches, untimed
        tick = progress(f"{place.backend} service", n)
        started = time.perf_counter()
        for i in range(n):
            service_chain(service, i)
            tick(i + 1)
        elapsed = time.perf_counter() - started
        report = service.verify()
        if not report.ok:
            raise RuntimeError(f"the audit log does not verify: {report.breaks[:3]}")
        return elapsed
    finally:
        engine.dispose()


# -- the bare driver ---------------------------------------------------------------------------

BARE_STATES = (
    "registered",
    "implemented",
    "reported",
    "commune_reviewed",
    "district_reviewed",
    "province_reviewed",
    "awarded",
)
BARE_TRIGGERS = ("register", "implement", "report", "approve", "approve", "approve", "award")
GENESIS = "0" * 64
AT = NOW.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def bare_entry(nomination: int, seq: int, prev: str, step: int) -> tuple[str, str, str]:
    """(stream, payload, hash) of a bare audit row: sha256 of canonical JSON with `prev`."""
    stream = f"nomination:{nomination}"
    payload = json.dumps({"n": nomination}, separators=(",", ":"))
    fields = {
        "v": 1,
        "stream": stream,
        "seq": seq,
        "at": AT,
        "actor": OFFICER if step < 3 else APPROVERS[min(step - 3, 2)],
        "trigger": BARE_TRIGGERS[step],
        "from": BARE_STATES[step - 1] if step else None,
        "to": BARE_STATES[step],
        "payload": payload,
        "prev": prev,
    }
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return stream, payload, hashlib.sha256(canonical.encode("utf-8")).hexdigest()


SQLITE_SCHEMA = """
CREATE TABLE nominations (
    id INTEGER PRIMARY KEY, state TEXT NOT NULL, version INTEGER NOT NULL,
    last_hash TEXT NOT NULL
);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY, stream TEXT NOT NULL, seq INTEGER NOT NULL,
    prev_hash TEXT NOT NULL, hash TEXT NOT NULL, payload TEXT NOT NULL,
    UNIQUE (stream, seq)
);
"""

PG_SCHEMA = """
CREATE TABLE nominations (
    id BIGSERIAL PRIMARY KEY, state TEXT NOT NULL, version INTEGER NOT NULL,
    last_hash TEXT NOT NULL
);
CREATE TABLE audit (
    id BIGSERIAL PRIMARY KEY, stream TEXT NOT NULL, seq INTEGER NOT NULL,
    prev_hash TEXT NOT NULL, hash TEXT NOT NULL, payload TEXT NOT NULL,
    UNIQUE (stream, seq)
);
"""


class BareDriver:
    """One connection and one cursor, one transaction per transition, in the driver's own
    dialect (the DB-API cursor is the same to use on both drivers)."""

    placeholder = "?"
    cursor: Any

    def begin(self) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def rollback(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def create_tables(self) -> None:
        raise NotImplementedError

    def execute(self, sql: str, params: Any = ()) -> Any:
        return self.cursor.execute(sql, params)

    def executemany(self, sql: str, params: Any) -> None:
        self.cursor.executemany(sql, params)

    def fetch_all(self) -> list[Any]:
        return list(self.cursor.fetchall())

    def sql(self, text: str) -> str:
        return text.replace("?", self.placeholder)


class BareSqlite(BareDriver):
    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
            self.connection.execute(f"PRAGMA {pragma}")
        self.cursor = self.connection.cursor()

    def create_tables(self) -> None:
        self.connection.executescript(SQLITE_SCHEMA)

    def begin(self) -> None:
        self.cursor.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.cursor.execute("COMMIT")

    def rollback(self) -> None:
        self.cursor.execute("ROLLBACK")

    def close(self) -> None:
        self.cursor.close()
        self.connection.close()


class BarePostgres(BareDriver):
    placeholder = "%s"

    def __init__(self, conninfo: str, schema: str) -> None:
        self.connection = psycopg.connect(
            conninfo, options=f"-c search_path={schema}", autocommit=False
        )
        self.cursor = self.connection.cursor()

    def create_tables(self) -> None:
        for statement in PG_SCHEMA.split(";"):
            if statement.strip():
                self.cursor.execute(statement)
        self.connection.commit()

    def begin(self) -> None:
        pass  # psycopg opens the transaction at the first statement

    def commit(self) -> None:
        self.connection.commit()

    def rollback(self) -> None:
        self.connection.rollback()

    def close(self) -> None:
        self.cursor.close()
        self.connection.close()


def bare_chain(db: BareDriver, sql: dict[str, str]) -> None:
    db.begin()
    nomination = db.execute(sql["insert"], (BARE_STATES[0], 1, GENESIS)).fetchone()[0]
    stream, payload, digest = bare_entry(nomination, 1, GENESIS, 0)
    db.execute(sql["audit"], (stream, 1, GENESIS, digest, payload))
    db.execute(sql["head"], (digest, nomination))
    db.commit()
    for step in range(1, STEPS_PER_NOMINATION):
        db.begin()
        state, version, prev = db.execute(sql["read"], (nomination,)).fetchone()
        if state != BARE_STATES[step - 1]:
            raise RuntimeError(f"bare nomination {nomination} is '{state}'")
        stream, payload, digest = bare_entry(nomination, version + 1, prev, step)
        updated = db.execute(
            sql["update"], (BARE_STATES[step], version + 1, digest, nomination, version)
        )
        if updated.rowcount != 1:
            raise RuntimeError(f"bare nomination {nomination} changed under us")
        db.execute(sql["audit"], (stream, version + 1, prev, digest, payload))
        db.commit()


def bare_driver(place: Place, conninfo: str) -> BareDriver:
    if place.backend == "sqlite":
        return BareSqlite(place.path or "")
    return BarePostgres(conninfo, place.schema or "public")


def run_bare(place: Place, n: int, conninfo: str) -> float:
    db = bare_driver(place, conninfo)
    db.create_tables()
    sql = {
        key: db.sql(text)
        for key, text in {
            "insert": "INSERT INTO nominations (state, version, last_hash) VALUES (?, ?, ?) "
            "RETURNING id",
            "audit": "INSERT INTO audit (stream, seq, prev_hash, hash, payload) "
            "VALUES (?, ?, ?, ?, ?)",
            "head": "UPDATE nominations SET last_hash = ? WHERE id = ?",
            "read": "SELECT state, version, last_hash FROM nominations WHERE id = ?",
            "update": "UPDATE nominations SET state = ?, version = ?, last_hash = ? "
            "WHERE id = ? AND version = ?",
        }.items()
    }
    try:
        bare_chain(db, sql)  # warm up, untimed
        tick = progress(f"{place.backend} bare", n)
        started = time.perf_counter()
        for i in range(n):
            bare_chain(db, sql)
            tick(i + 1)
        return time.perf_counter() - started
    finally:
        db.close()


# -- the service's own statements through the bare driver ------------------------------------

#: One transaction as the driver received it: (statement, parameters, executemany) in order,
#: and whether it ended in a commit.
Transaction = tuple[list[tuple[str, Any, bool]], bool]


def capture_service(place: Place, n: int) -> list[Transaction]:
    """Every statement the service sends to the driver for n nominations, per transaction,
    with its parameters as the driver got them (an untimed pass)."""
    engine, service = service_world(place.url)
    transactions: list[Transaction] = []
    current: list[tuple[str, Any, bool]] = []

    def statement(
        _conn: Any, _cursor: Any, sql: str, parameters: Any, _context: Any, many: bool
    ) -> None:
        current.append((sql, parameters, many))

    def end(committed: bool) -> Callable[[Any], None]:
        def ended(_conn: Any) -> None:
            transactions.append((current.copy(), committed))
            current.clear()

        return ended

    try:
        service_chain(service, -1)
        sa.event.listen(engine, "before_cursor_execute", statement)
        sa.event.listen(engine, "commit", end(True))
        sa.event.listen(engine, "rollback", end(False))
        tick = progress(f"{place.backend} capture", n)
        for i in range(n):
            service_chain(service, i)
            tick(i + 1)
    finally:
        engine.dispose()
    return transactions


def run_replay(source: Place, target: Place, n: int, conninfo: str) -> float:
    """Seconds for the bare driver to send the service's own statements for n nominations
    (captured on `source`), in the same transactions, to `target` set up as `source` was: the
    floor of any code that writes what the service writes. What the service takes beyond it
    is its Python."""
    transactions = capture_service(source, n)
    engine, service = service_world(target.url)
    try:
        service_chain(service, -1)  # the same rows, under the same ids, as before the capture
    finally:
        engine.dispose()
    db = bare_driver(target, conninfo)
    try:
        started = time.perf_counter()
        for statements, committed in transactions:
            if not statements:
                continue
            for sql, parameters, many in statements:
                if many:
                    db.executemany(sql, parameters)
                elif db.execute(sql, parameters).description is not None:
                    db.fetch_all()
            if committed:
                db.commit()
            else:
                db.rollback()
        elapsed = time.perf_counter() - started
    finally:
        db.close()
    if audit_hashes(source) != audit_hashes(target):
        raise RuntimeError("the replay did not write the audit log the service wrote")
    return elapsed


def audit_hashes(place: Place) -> list[str]:
    """Every audit entry's hash in order: the same list on two databases means the same writes."""
    engine = make_engine(place.url)
    try:
        with engine.connect() as connection:
            return list(connection.scalars(sa.select(AuditEntry.hash).order_by(AuditEntry.id)))
    finally:
        engine.dispose()


# -- memory and profile ------------------------------------------------------------------------


def traced_kib() -> float:
    gc.collect()
    return tracemalloc.get_traced_memory()[0] / 1024


def measure_memory(place: Place, n: int) -> dict[str, Any]:
    """The service's Python heap after a warm-up, at n/2 and at n nominations (untimed)."""
    engine, service = service_world(place.url)
    half = max(1, n // 2)
    warm = max(1, n // 10)
    tick = progress(f"{place.backend} memory", n)
    try:
        tracemalloc.start()
        for i in range(warm):
            service_chain(service, i)
        base = traced_kib()
        for i in range(warm, half):
            service_chain(service, i)
            tick(i + 1)
        at_half = traced_kib()
        for i in range(half, n):
            service_chain(service, i)
            tick(i + 1)
        at_n = traced_kib()
        top = tracemalloc.take_snapshot().statistics("lineno")[:3]
    finally:
        tracemalloc.stop()
        engine.dispose()
    per_nomination = (at_n - at_half) * 1024 / max(1, n - half)
    return {
        "warmup_nominations": warm,
        "kib_after_warmup": round(base, 1),
        "kib_at_half": round(at_half, 1),
        "kib_at_n": round(at_n, 1),
        "growth_bytes_per_nomination": round(per_nomination, 1),
        "flat": per_nomination < FLAT_BYTES_PER_NOMINATION,
        "largest": [
            f"{s.traceback[0].filename}:{s.traceback[0].lineno} {s.size // 1024} KiB" for s in top
        ],
    }


#: Below this heap growth per nomination, memory counts as flat (caches fill, then stop).
FLAT_BYTES_PER_NOMINATION = 64


@contextmanager
def counting_statements(engine: sa.Engine) -> Iterator[Counter[str]]:
    counts: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        counts[" ".join(statement.split()[:4])[:60]] += 1

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield counts
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def profile_service(place: Place, n: int) -> dict[str, Any]:
    """cProfile one service run; count the SQL statements per transition."""
    engine, service = service_world(place.url)
    try:
        service_chain(service, -1)
        profiler = cProfile.Profile()
        with counting_statements(engine) as counts:
            profiler.enable()
            for i in range(n):
                service_chain(service, i)
            profiler.disable()
    finally:
        engine.dispose()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
    print(f"\n== cProfile, service on {place.backend}, n={n} (cumulative)", file=sys.stderr)
    print(out.getvalue(), file=sys.stderr)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(20)
    print(f"== cProfile, service on {place.backend}, n={n} (own time)", file=sys.stderr)
    print(out.getvalue(), file=sys.stderr)
    transitions = n * STEPS_PER_NOMINATION
    print(f"== SQL statements per transition on {place.backend}", file=sys.stderr)
    for statement, count in counts.most_common():
        print(f"  {count / transitions:6.2f}  {statement}", file=sys.stderr)
    total = sum(counts.values())
    print(f"  {total / transitions:6.2f}  in all", file=sys.stderr)
    return {"statements_per_transition": round(total / transitions, 2)}


# -- main --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300, help="nominations (7 transitions each)")
    parser.add_argument(
        "--backends",
        default="sqlite,postgresql",
        help="comma-separated: sqlite, postgresql (default both)",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("THIDUA_BENCH_POSTGRES_URL", DEFAULT_PG_URL),
        help="PostgreSQL server (default THIDUA_BENCH_POSTGRES_URL or the local test database)",
    )
    parser.add_argument(
        "--sqlite-dir", default=None, help="where the SQLite files go (default: the temp dir)"
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the memory pass")
    parser.add_argument(
        "--no-replay",
        action="store_true",
        help="skip replaying the service's own statements through the bare driver",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also cProfile the service and count its SQL statements (to stderr)",
    )
    args = parser.parse_args(argv)
    if args.n < 2:
        parser.error("--n must be at least 2")
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = sorted(set(args.backends) - set(TARGETS))
    if unknown or not args.backends:
        parser.error(f"unknown backends: {', '.join(unknown) or '(none)'}")
    args.pg_url = args.pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging("warning")
    n, transitions = args.n, args.n * STEPS_PER_NOMINATION
    results: dict[str, Any] = {
        "n": n,
        "transitions": transitions,
        "python": platform.python_version(),
        "sqlite_version": sqlite3.sqlite_version,
    }
    databases = Databases(args.pg_url, args.sqlite_dir)
    try:
        if "postgresql" in args.backends:
            results["postgresql_settings"] = databases.pg_settings()
        for backend in args.backends:
            print(f"== {backend}: {n} nominations, {transitions} transitions", file=sys.stderr)
            bare = run_bare(databases.fresh(backend, "bare"), n, databases.psycopg_conninfo())
            service = run_service(databases.fresh(backend, "service"), n)
            service_tps, bare_tps = transitions / service, transitions / bare
            ratio = service_tps / bare_tps
            results[backend] = {
                "service_tps": round(service_tps, 1),
                "bare_tps": round(bare_tps, 1),
                "service_seconds": round(service, 3),
                "bare_seconds": round(bare, 3),
                "ratio": round(ratio, 3),
                "target": TARGETS[backend],
                "pass": ratio >= TARGETS[backend],
            }
            if not args.no_replay:
                replay = run_replay(
                    databases.fresh(backend, "capture"),
                    databases.fresh(backend, "replay"),
                    n,
                    databases.psycopg_conninfo(),
                )
                results[backend].update(replay_figures(results[backend], transitions / replay))
        if not args.no_memory:
            memory: dict[str, Any] = {}
            for backend in args.backends:
                memory[backend] = measure_memory(databases.fresh(backend, "memory"), n)
            memory["flat"] = all(m["flat"] for m in memory.values())
            results["memory"] = memory
        if args.profile:
            for backend in args.backends:
                profiled = profile_service(databases.fresh(backend, "profile"), n)
                results[backend].update(profiled)
    finally:
        databases.close()
    results["max_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print_table(results, args.backends)
    print(json.dumps(results, ensure_ascii=False))
    return 0


def replay_figures(figures: dict[str, Any], replay_tps: float) -> dict[str, Any]:
    """The replay's rate, its ratio to the bare loop, and per transition: the service's time
    beyond its own statements now, and what the target leaves for it (negative: the target is
    below what the statements alone take)."""
    statements_us = 1e6 / replay_tps
    return {
        "replay_tps": round(replay_tps, 1),
        "replay_ratio": round(replay_tps / figures["bare_tps"], 3),
        "beyond_statements_us": round(1e6 / figures["service_tps"] - statements_us, 1),
        "allowed_beyond_statements_us": round(
            1e6 / (figures["target"] * figures["bare_tps"]) - statements_us, 1
        ),
    }


def print_table(results: dict[str, Any], backends: list[str]) -> None:
    n = results["n"]
    print(
        f"\nchain workload: {n} nominations x {STEPS_PER_NOMINATION} = "
        f"{results['transitions']} transitions, one transaction each"
    )
    header = f"{'backend':<11} {'service t/s':>12} {'bare t/s':>10} {'ratio':>7} {'target':>7}  "
    print(header + "result")
    for backend in backends:
        r = results[backend]
        print(
            f"{backend:<11} {r['service_tps']:>12,.1f} {r['bare_tps']:>10,.1f} "
            f"{r['ratio']:>7.3f} {r['target']:>7.2f}  {'pass' if r['pass'] else 'FAIL'}"
        )
    replayed = [backend for backend in backends if "replay_tps" in results[backend]]
    if replayed:
        print(
            "\nthe service's own statements, captured and replayed through the bare driver "
            "(what the service takes beyond them is its Python):"
        )
        print(
            f"{'backend':<11} {'replay t/s':>11} {'of bare':>8} "
            f"{'beyond, µs/transition':>22} {'allowed by the target':>22}"
        )
        for backend in replayed:
            r = results[backend]
            print(
                f"{backend:<11} {r['replay_tps']:>11,.1f} {r['replay_ratio']:>8.3f} "
                f"{r['beyond_statements_us']:>22,.1f} {r['allowed_beyond_statements_us']:>22,.1f}"
            )
    memory = results.get("memory")
    if memory:
        print("\nservice heap (tracemalloc, after gc, untimed pass):")
        for backend in backends:
            m = memory[backend]
            print(
                f"{backend:<11} after {m['warmup_nominations']} warm-up: "
                f"{m['kib_after_warmup']:,.1f} KiB; at {n // 2}: {m['kib_at_half']:,.1f} KiB; "
                f"at {n}: {m['kib_at_n']:,.1f} KiB; "
                f"{m['growth_bytes_per_nomination']:,.1f} B/nomination "
                f"({'flat' if m['flat'] else 'GROWING'})"
            )
    print(f"peak RSS of the process: {results['max_rss_kib']:,} KiB")


if __name__ == "__main__":
    sys.exit(main())
