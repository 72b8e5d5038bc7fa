"""Verify and replay a large audit log, on SQLite and PostgreSQL.

Builds a log of N entries with the bare driver (bulk insert): streams of seven entries per
nomination (register, implement, report, approve at commune, district and province, award), valid
hash chains, interleaved by blocks of nominations as a busy service would write them, and the
matching nominations rows. Then times, in one process and again with `--workers` processes:

    verify    `Service.verify`: every chain, sequence and hash, each nomination's state REPLAYED
              through the state model, stored state, version and head hash. This one pass is
              "verify plus replay": verify already replays every stream as it checks it.
    replay    `Service.replay`: the `audit replay` command, states from entries alone (a second
              pass an auditor may run on its own; it repeats the replay verify already did).
    combined  both commands one after the other: N / (verify time + replay time).

and prints entries per second for each (wall clock, and per CPU second of this process: the
machine is shared). Target: 250,000 entries/s for verify plus replay on SQLite; `meets_target`
judges the verify pass, `combined_meets_target` the stricter sum of both commands. The last line
on stdout is one JSON object of the figures ("parallel" holds the `--workers` run).

    .venv/bin/python bench/audit.py                    # N = 1,000,000, SQLite and PostgreSQL
    .venv/bin/python bench/audit.py --n 200000 --backends sqlite --workers 2

`--workers` defaults to what `thidua audit verify` picks on this machine (one process per CPU for
a log of 200,000 entries or more: workflow.sharding.auto_workers).

Progress goes to stderr. PostgreSQL is THIDUA_BENCH_POSTGRES_URL (default: the local `test`
database); each run works in a fresh schema that is dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from worlds import APPROVERS, world

from workflow import sharding
from workflow.audit import GENESIS, canonical_json
from workflow.clock import FixedClock
from workflow.db import make_engine, migrate
from workflow.encoding import row_hash
from workflow.logs import configure_logging
from workflow.service import Service

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET = 250_000
BLOCK = 1000  # nominations written side by side
START = datetime(2022, 4, 20, 2, tzinfo=UTC)
CAMPAIGN = "BENCH-AUDIT-2022"
WORLD = world(CAMPAIGN, APPROVERS)
#: (trigger, from, to, actor id, name, role, unit, reason)
STEPS: list[tuple[str, str | None, str, int, str, str, str, str | None]] = [
    ("register", None, "registered", 2, "Trần Văn Hùng", "officer", "26734", None),
    ("implement", "registered", "implemented", 2, "Trần Văn Hùng", "officer", "26734", None),
    ("report", "implemented", "reported", 2, "Trần Văn Hùng", "officer", "26734", None),
    ("approve", "reported", "commune_reviewed", 3, "Võ Thanh Sơn", "approver", "26734", "Đạt"),
    (
        "approve",
        "commune_reviewed",
        "district_reviewed",
        4,
        "Nguyễn Văn Đức",
        "approver",
        "761",
        None,
    ),
    (
        "approve",
        "district_reviewed",
        "province_reviewed",
        5,
        "Phan Văn Mãi",
        "approver",
        "79",
        None,
    ),
    ("award", "province_reviewed", "awarded", 5, "Phan Văn Mãi", "approver", "79", None),
]
AUDIT_COLUMNS = (
    "id, stream, seq, at, actor_id, actor_name, actor_role, actor_unit, trigger, from_state, "
    "to_state, reason, payload, definition_version, encoding, prev_hash, hash"
)
NOMINATION_COLUMNS = (
    "id, campaign_id, unit_id, proposer_id, nominee_kind, nominee_name, title, area, state, "
    "awaiting, chain, definition_version, returned_level, returns, signoffs, award_number, "
    "award_date, award_form, created_at, updated_at, version, last_hash"
)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def payload(step: int, nomination: int) -> str:
    if step == 0:
        return canonical_json(
            {
                "area": "thu_tuc_hanh_chinh",
                "campaign": CAMPAIGN,
                "chain": ["commune", "district", "province"],
                "nominee": None,
                "nominee_kind": "individual",
                "nominee_name": f"Nguyễn Văn Thi Đua {nomination}",
                "title": f"Sáng kiến số hoá hồ sơ một cửa {nomination}",
                "unit": "26734",
            }
        )
    if 3 <= step <= 5:
        return canonical_json({"level": ("commune", "district", "province")[step - 3]})
    if step == 6:
        return canonical_json({"date": "2022-12-12", "form": "Bằng khen", "number": "163/QĐ-UBND"})
    return "{}"


def log_rows(
    n: int, first_id: int
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """Blocks of (audit rows, nominations rows): n entries in all, ids from `first_id`."""
    entry_id, written, nomination = 0, 0, 0
    moment = START
    while written < n:
        count = min(BLOCK, -(-(n - written) // len(STEPS)))
        block = range(nomination + 1, nomination + count + 1)
        steps = {k: min(len(STEPS), n - written - (k - block[0]) * len(STEPS)) for k in block}
        heads = dict.fromkeys(block, GENESIS)
        entries = []
        for step, (trigger, frm, to, actor, name, role, unit, reason) in enumerate(STEPS):
            for k in block:
                if step >= steps[k]:
                    continue
                entry_id += 1
                moment += timedelta(milliseconds=7)
                at = moment.strftime("%Y-%m-%d %H:%M:%S.%f")
                row = [
                    first_id + entry_id, f"nomination:{k}", step + 1, at, actor, name, role, unit,
                    trigger, frm, to, reason, payload(step, k), 1, 1, heads[k], "",
                ]  # fmt: skip
                row[16] = heads[k] = row_hash(tuple(row), f"{at[:10]}T{at[11:]}Z")
                entries.append(tuple(row))
        nominations = [
            (
                k,
                1,
                3,
                2,
                "individual",
                f"Nguyễn Văn Thi Đua {k}",
                f"Sáng kiến số hoá hồ sơ một cửa {k}",
                "thu_tuc_hanh_chinh",
                STEPS[steps[k] - 1][2],
                None,
                "commune,district,province",
                1,
                None,
                0,
                "{}",
                None,
                None,
                None,
                START,
                START,
                steps[k],
                heads[k],
            )
            for k in block
        ]
        written += len(entries)
        nomination += count
        yield entries, nominations


def build(url: str, n: int) -> sa.Engine:
    engine = make_engine(url)
    migrate(engine)
    Service(engine, FixedClock(START)).load(WORLD, actor="quantri")
    with engine.connect() as connection:
        first_id = connection.exec_driver_sql("SELECT max(id) FROM audit_log").scalar() or 0
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        backend = engine.dialect.name
        if backend == "sqlite":
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("BEGIN")
        done = 0
        for entries, nominations in log_rows(n, first_id):
            if backend == "sqlite":
                marks = ", ".join("?" * 17)
                cursor.executemany(
                    f"INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES ({marks})", entries
                )
                marks = ", ".join("?" * 22)
                cursor.executemany(
                    f"INSERT INTO nominations ({NOMINATION_COLUMNS}) VALUES ({marks})", nominations
                )
            else:
                copy_rows(cursor, "audit_log", AUDIT_COLUMNS, entries, at_index=3)
                copy_rows(cursor, "nominations", NOMINATION_COLUMNS, nominations)
            done += len(entries)
            if done % 100_000 < len(entries):
                say(f"  built {done} entries …")
        if backend == "sqlite":
            cursor.execute("COMMIT")
        else:
            raw.commit()
            cursor.execute("ANALYZE audit_log")
            cursor.execute("ANALYZE nominations")
            raw.commit()
    finally:
        raw.close()
    return engine


def copy_rows(
    cursor: Any, table: str, columns: str, rows: list[tuple[Any, ...]], at_index: int | None = None
) -> None:
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            if at_index is not None:
                row = (*row[:at_index], row[at_index] + "+00", *row[at_index + 1 :])
            copy.write_row(row)


def cpu_seconds() -> float:
    """CPU seconds of this process and of its finished worker processes."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def timed(label: str, n: int, action: Any) -> tuple[float, float, Any]:
    """Wall-clock and CPU seconds of `action` (the CPU figure shows a shared machine's load)."""
    started, cpu = time.perf_counter(), cpu_seconds()
    result = action()
    elapsed, used = time.perf_counter() - started, cpu_seconds() - cpu
    say(f"  {label}: {elapsed:.2f} s ({used:.2f} s CPU), {n / elapsed:,.0f} entries/s")
    return elapsed, used, result


def run(backend: str, url: str, n: int, workers: int) -> dict[str, Any]:
    say(f"{backend}: building {n} entries …")
    started = time.perf_counter()
    engine = build(url, n)
    say(f"  built in {time.perf_counter() - started:.1f} s")
    try:
        service = Service(engine)
        with engine.connect() as connection:
            total = connection.exec_driver_sql("SELECT count(*) FROM audit_log").scalar() or 0
        say("  one process:")
        figures = measure(service, total, 1)
        workers = workers or sharding.auto_workers(engine)
        if workers > 1:
            say(f"  {workers} worker processes (CPU: all of them together):")
            figures["parallel"] = measure(service, total, workers)
    finally:
        engine.dispose()
    return figures


def measure(service: Service, total: int, workers: int) -> dict[str, Any]:
    verify_s, verify_cpu, report = timed(
        "verify (with replay)", total, lambda: service.verify(workers=workers)
    )
    assert report.ok, report.breaks[:3]
    assert report.entries == total
    replay_s, replay_cpu, replayed = timed("replay", total, lambda: service.replay(workers=workers))
    assert not replayed.differences
    combined = total / (verify_s + replay_s)
    say(f"  verify + replay commands: {combined:,.0f} entries/s (target {TARGET:,})")
    return {
        "workers": workers,
        "entries": total,
        "verify_s": round(verify_s, 3),
        "replay_s": round(replay_s, 3),
        "verify_per_s": round(total / verify_s),
        "replay_per_s": round(total / replay_s),
        "combined_per_s": round(combined),
        "verify_cpu_s": round(verify_cpu, 3),
        "replay_cpu_s": round(replay_cpu, 3),
        "combined_per_cpu_s": round(total / (verify_cpu + replay_cpu)),
        "target_per_s": TARGET,
        "meets_target": total / verify_s >= TARGET,
        "combined_meets_target": combined >= TARGET,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=1_000_000, help="entries in the log")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--sqlite-dir", help="where the SQLite file goes (default: a temp dir)")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="processes for the parallel run (1: none; default: as `thidua audit verify` picks)",
    )
    args = parser.parse_args()
    configure_logging("warning")
    pg_url = os.environ.get("THIDUA_BENCH_POSTGRES_URL", DEFAULT_PG_URL)
    figures: dict[str, Any] = {
        "n": args.n,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "workers": args.workers or "auto",
        "load_average_before": [round(load, 2) for load in os.getloadavg()],
    }
    tmp = tempfile.mkdtemp(prefix="thidua-bench-audit-", dir=args.sqlite_dir)
    try:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                figures["sqlite"] = run(
                    backend, f"sqlite:///{tmp}/audit.sqlite3", args.n, args.workers
                )
                continue
            schema = f"bench_{uuid.uuid4().hex[:12]}"
            admin = sa.create_engine(pg_url)
            with admin.begin() as connection:
                connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
            try:
                url = make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
                figures["postgresql"] = run(
                    backend, url.render_as_string(hide_password=False), args.n, args.workers
                )
            finally:
                with admin.begin() as connection:
                    connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
                admin.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
