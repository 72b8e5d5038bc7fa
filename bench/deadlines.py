"""The report deadline's sweep over N open nominations: the service against a bare-driver floor.

For each backend (SQLite file, PostgreSQL schema) the same world is seeded twice, untimed: one
campaign and N nominations in `registered`, each with its hash-chained `register` entry. Then,
timed:

- the service: `workflow.deadlines.run_due(engine, report deadline)` — the whole sweep as
  `thidua tick` runs it (set-based batches of 5,000: select, hash each entry with
  workflow.audit, executemany UPDATE guarded by version, bulk INSERT of audit and outbox rows);
- the floor: the same writes with the bare driver (`sqlite3` / `psycopg`, same durability
  settings, one connection, same batches): select, hash with hashlib and json directly, executemany
  UPDATE, INSERT audit rows, INSERT outbox rows, commit.

It prints nominations per second for both and their ratio (the target: at least 20,000/s on
SQLite, and the service within 2× of the floor). The last line on stdout is one JSON object.

    .venv/bin/python bench/deadlines.py                 # N = 100,000 on SQLite and PostgreSQL
    .venv/bin/python bench/deadlines.py --n 20000 --backends sqlite --verify

PostgreSQL is THIDUA_BENCH_POSTGRES_URL (default: the local `test` database); each run works in
fresh schemas that are dropped at the end. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from worlds import world

from workflow import audit
from workflow.clock import FixedClock
from workflow.db import make_engine, migrate
from workflow.deadlines import run_due
from workflow.logs import configure_logging
from workflow.service import Service
from workflow.tables import AuditEntry, Nomination

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
VN = ZoneInfo("Asia/Ho_Chi_Minh")
REGISTERED_AT = datetime(2022, 4, 20, 9, tzinfo=VN).astimezone(UTC)
DEADLINE = datetime(2022, 12, 1, 0, 0, tzinfo=VN).astimezone(UTC)
BATCH = 5000
TARGET_RATE = 20_000
TARGET_RATIO = 2.0
CAMPAIGN = "BENCH-CCHC-2022"

WORLD = world(CAMPAIGN)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- seeding (untimed) ---------------------------------------------------------------------------


def seed(url: str, n: int) -> tuple[int, int, int]:
    """The world and n registered nominations; (campaign id, unit id, proposer id)."""
    engine = make_engine(url)
    migrate(engine)
    Service(engine, FixedClock(REGISTERED_AT)).load(WORLD, actor="quantri")
    with engine.begin() as connection:
        campaign_id = connection.exec_driver_sql(
            f"SELECT id FROM campaigns WHERE code = '{CAMPAIGN}'"
        ).scalar_one()
        unit_id = connection.exec_driver_sql(
            "SELECT id FROM units WHERE code = '26734'"
        ).scalar_one()
        officer = connection.exec_driver_sql(
            "SELECT id FROM persons WHERE username = 'canbo.xa'"
        ).scalar_one()
        for start in range(1, n + 1, 10_000):
            nominations, entries = [], []
            for nid in range(start, min(n, start + 9_999) + 1):
                title = f"Sáng kiến số hoá hồ sơ {nid}"
                name = f"Tổ một cửa {nid}"
                payload = {
                    "campaign": CAMPAIGN,
                    "title": title,
                    "nominee_name": name,
                    "chain": ["commune", "district", "province"],
                }
                fields = audit.entry_fields(
                    stream=f"nomination:{nid}",
                    seq=1,
                    at=REGISTERED_AT,
                    actor=audit.Actor(officer, "Trần Văn Hùng", "officer", "26734"),
                    trigger="register",
                    from_state=None,
                    to_state="registered",
                    reason=None,
                    payload=payload,
                    definition_version=1,
                    prev_hash=audit.GENESIS,
                )
                digest = audit.hash_fields(fields)
                nominations.append(
                    {
                        "id": nid,
                        "campaign_id": campaign_id,
                        "unit_id": unit_id,
                        "proposer_id": officer,
                        "nominee_kind": "collective",
                        "nominee_name": name,
                        "nominee_person_id": None,
                        "title": title,
                        "area": "thu_tuc_hanh_chinh",
                        "state": "registered",
                        "awaiting": None,
                        "chain": "commune,district,province",
                        "definition_version": 1,
                        "returned_level": None,
                        "returns": 0,
                        "signoffs": {},
                        "award_number": None,
                        "award_date": None,
                        "award_form": None,
                        "created_at": REGISTERED_AT,
                        "updated_at": REGISTERED_AT,
                        "version": 1,
                        "last_hash": digest,
                    }
                )
                entries.append(
                    {
                        "stream": f"nomination:{nid}",
                        "seq": 1,
                        "at": REGISTERED_AT,
                        "actor_id": officer,
                        "actor_name": "Trần Văn Hùng",
                        "actor_role": "officer",
                        "actor_unit": "26734",
                        "trigger": "register",
                        "from_state": None,
                        "to_state": "registered",
                        "reason": None,
                        "payload": audit.canonical_json(payload),
                        "definition_version": 1,
                        "encoding": 1,
                        "prev_hash": audit.GENESIS,
                        "hash": digest,
                    }
                )
            connection.execute(sa.insert(Nomination.__table__), nominations)
            connection.execute(sa.insert(AuditEntry.__table__), entries)
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
    engine.dispose()
    return campaign_id, unit_id, officer


# -- the floor: the same writes with the bare driver --------------------------------------------


def _floor_batch(
    rows: Sequence[Any], at: Any, at_text: str, campaign_id: int
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The hashes from an f-string of the canonical encoding (every value here is ASCII)."""
    deadline = DEADLINE.isoformat()
    payload = json.dumps({"deadline": deadline}, separators=(",", ":"))
    head = (
        '{"actor":{"id":null,"name":"thidua","role":"system","unit":null},'
        f'"at":"{at_text}","definition_version":'
    )
    sha256 = hashlib.sha256
    updates, entries, messages = [], [], []
    for nid, state, version, last_hash, definition, title, nominee, proposer in rows:
        seq = version + 1
        text = (
            f'{head}{definition},"from":"{state}","payload":{payload},"prev":"{last_hash}",'
            f'"reason":null,"seq":{seq},"stream":"nomination:{nid}","to":"expired",'
            '"trigger":"expire","v":1}'
        )
        digest = sha256(text.encode()).hexdigest()
        updates.append((at, seq, digest, nid, version))
        entries.append(
            (
                f"nomination:{nid}",
                seq,
                at,
                "thidua",
                "system",
                state,
                payload,
                definition,
                last_hash,
                digest,
            )
        )
        body = {
            "nomination_id": nid,
            "title": title,
            "nominee_name": nominee,
            "campaign_code": CAMPAIGN,
            "campaign_name": "bench",
            "state": "expired",
            "deadline": deadline,
        }
        messages.append((f"expired:{nid}", proposer, json.dumps(body), nid, campaign_id, at, at))
    return updates, entries, messages


SELECT = (
    "SELECT id, state, version, last_hash, definition_version, title, nominee_name, proposer_id "
    "FROM nominations WHERE campaign_id = {p} AND state IN ('registered', 'implemented') "
    "ORDER BY id LIMIT {batch}"
)
UPDATE = (
    "UPDATE nominations SET state = 'expired', awaiting = NULL, updated_at = {p}, version = {p}, "
    "last_hash = {p} WHERE id = {p} AND version = {p}"
)
INSERT_AUDIT = (
    "INSERT INTO audit_log (stream, seq, at, actor_id, actor_name, actor_role, actor_unit, "
    "trigger, from_state, to_state, reason, payload, definition_version, encoding, prev_hash, "
    "hash) VALUES ({p}, {p}, {p}, NULL, {p}, {p}, NULL, 'expire', {p}, 'expired', NULL, {p}, "
    "{p}, 1, {p}, {p})"
)
INSERT_OUTBOX = (
    "INSERT INTO outbox (key, event, template, recipient_id, payload, nomination_id, campaign_id, "
    "created_at, next_attempt_at, attempts) VALUES ({p}, 'expired', 'expired', {p}, {p}, {p}, "
    "{p}, {p}, {p}, 0)"
)


def floor_sqlite(path: str, campaign_id: int, batch: int) -> int:
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
        connection.execute(f"PRAGMA {pragma}")
    at_text = DEADLINE.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    at = DEADLINE.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    total = 0
    while True:
        connection.execute("BEGIN IMMEDIATE")
        rows = connection.execute(SELECT.format(p="?", batch=batch), (campaign_id,)).fetchall()
        if not rows:
            connection.execute("COMMIT")
            break
        updates, entries, messages = _floor_batch(rows, at, at_text, campaign_id)
        cursor = connection.executemany(UPDATE.format(p="?"), updates)
        assert cursor.rowcount == len(rows)
        connection.executemany(INSERT_AUDIT.format(p="?"), entries)
        connection.executemany(INSERT_OUTBOX.format(p="?"), messages)
        connection.execute("COMMIT")
        total += len(rows)
    connection.close()
    return total


def floor_postgresql(conninfo: str, schema: str, campaign_id: int, batch: int) -> int:
    at_text = DEADLINE.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    total = 0
    with psycopg.connect(conninfo, options=f"-csearch_path={schema}") as connection:
        while True:
            with connection.transaction(), connection.cursor() as cursor:
                rows = cursor.execute(
                    SELECT.format(p="%s", batch=batch) + " FOR UPDATE SKIP LOCKED", (campaign_id,)
                ).fetchall()
                if not rows:
                    break
                updates, entries, messages = _floor_batch(rows, DEADLINE, at_text, campaign_id)
                cursor.executemany(UPDATE.format(p="%s"), updates)
                assert cursor.rowcount == len(rows)
                cursor.executemany(INSERT_AUDIT.format(p="%s"), entries)
                cursor.executemany(INSERT_OUTBOX.format(p="%s"), messages)
            total += len(rows)
    return total


# -- running ------------------------------------------------------------------------------------


def timed(action: Callable[[], int]) -> tuple[int, float]:
    started = time.perf_counter()
    done = action()
    return done, time.perf_counter() - started


def run_backend(
    backend: str, n: int, pg_url: str, tmp: str, verify: bool, batch: int
) -> dict[str, Any]:
    schemas: list[str] = []
    admin = sa.create_engine(pg_url) if backend == "postgresql" else None

    def place(label: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{os.path.join(tmp, f'{label}.sqlite3')}"
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        assert admin is not None
        with admin.begin() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
        schemas.append(schema)
        url = make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    try:
        service_url, floor_url = place("service"), place("floor")
        say(f"{backend}: seeding {n:,} open nominations twice …")
        seed(service_url, n)
        campaign_id, _unit, _officer = seed(floor_url, n)
        say(f"{backend}: the service sweeps …")
        engine = make_engine(service_url)
        expired, service_s = timed(lambda: run_due(engine, DEADLINE, batch=batch).expired)
        assert expired == n, f"the service expired {expired} of {n}"
        if verify:
            say(f"{backend}: verifying the audit log …")
            with sa.orm.Session(engine) as session:
                report = audit.verify(session)
            assert report.ok, report.breaks[:3]
        again = run_due(engine, DEADLINE).expired
        assert again == 0, "a second sweep expired something"
        engine.dispose()
        say(f"{backend}: the bare-driver floor sweeps …")
        if backend == "sqlite":
            path = make_url(floor_url).database
            assert path is not None
            floored, floor_s = timed(lambda: floor_sqlite(path, campaign_id, batch))
        else:
            conninfo = (
                make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
            )
            floored, floor_s = timed(
                lambda: floor_postgresql(conninfo, schemas[1], campaign_id, batch)
            )
        assert floored == n
    finally:
        if admin is not None:
            with admin.begin() as connection:
                for schema in schemas:
                    connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            admin.dispose()
    figures = {
        "n": n,
        "service_s": round(service_s, 3),
        "service_per_s": round(n / service_s),
        "floor_s": round(floor_s, 3),
        "floor_per_s": round(n / floor_s),
        "ratio": round(service_s / floor_s, 2),
        "verified": verify,
    }
    print(
        f"{backend:<10} service {figures['service_per_s']:>8,} nominations/s "
        f"({figures['service_s']:.2f} s)   floor {figures['floor_per_s']:>8,}/s "
        f"({figures['floor_s']:.2f} s)   service/floor time {figures['ratio']:.2f}×",
        flush=True,
    )
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=100_000, help="open nominations (100,000)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--batch", type=int, default=BATCH, help="rows per transaction (5,000)")
    parser.add_argument("--verify", action="store_true", help="verify the audit log (untimed)")
    parser.add_argument("--sqlite-dir", help="where the SQLite files go (default: a temp dir)")
    args = parser.parse_args(argv)
    configure_logging("warning")
    pg_url = os.environ.get("THIDUA_BENCH_POSTGRES_URL", DEFAULT_PG_URL)
    tmp = tempfile.mkdtemp(prefix="thidua-bench-deadlines-", dir=args.sqlite_dir)
    results: dict[str, Any] = {
        "benchmark": "deadlines",
        "python": platform.python_version(),
        "sqlite_version": sqlite3.sqlite_version,
        "batch": args.batch,
        "targets": {"sqlite_per_s": TARGET_RATE, "max_ratio": TARGET_RATIO},
    }
    try:
        for backend in args.backends.split(","):
            results[backend] = run_backend(backend, args.n, pg_url, tmp, args.verify, args.batch)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if "sqlite" in results:
        sqlite = results["sqlite"]
        results["sqlite_meets_rate"] = sqlite["service_per_s"] >= TARGET_RATE
    results["within_ratio"] = all(
        results[b]["ratio"] <= TARGET_RATIO for b in ("sqlite", "postgresql") if b in results
    )
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
