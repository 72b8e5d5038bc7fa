"""`thidua dispatch` as a process: killed in the middle of a batch it loses nothing (a message
delivered again carries the same idempotency key); two at once never deliver the same message
at the same time; SIGTERM stops it cleanly. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from notifications import NotificationSettings
from tests.e2e.cli import thidua as run_cli
from tests.sinks import WEBHOOK_SECRET, WebhookSink, free_port
from workflow.clock import FixedClock
from workflow.dispatch import build_dispatcher
from workflow.tables import OutboxMessage

pytestmark = pytest.mark.slow


@pytest.fixture
def webhook() -> Iterator[WebhookSink]:
    sink = WebhookSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def db(engine: sa.Engine) -> sa.Engine:
    """conftest's migrated `engine` on `db_url`."""
    return engine


def fill(engine: sa.Engine, url: str, n: int) -> list[str]:
    """n webhook messages, due now, as the deadline sweep writes them (one INSERT)."""
    now = datetime.now(UTC)
    keys = [f"reminder:BENCH:{i:04d}" for i in range(n)]
    payload = {
        "campaign_code": "HCM-2030",
        "campaign_name": "Thi đua cải cách hành chính Thành phố năm 2030",
        "deadline_kind": "report",
        "deadline": "2030-11-30T17:00:00+00:00",
        "pending": 1,
    }
    with engine.begin() as connection:
        connection.execute(
            sa.insert(OutboxMessage),
            [
                {
                    "key": key,
                    "event": "reminder",
                    "template": "reminder",
                    "recipient_id": None,
                    "channel": "webhook",
                    "address": url,
                    "payload": payload,
                    "created_at": now,
                    "next_attempt_at": now - timedelta(seconds=1),
                    "attempts": 0,
                }
                for key in keys
            ],
        )
    return keys


def dispatch(db_url: str, *args: str, batch: int = 50) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "THIDUA_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "THIDUA_DISPATCH_BATCH": str(batch),
        "THIDUA_DISPATCH_POLL": "0.2",
        "THIDUA_LOG_LEVEL": "warning",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "workflow.cli", "dispatch", "--db", db_url, "--json", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def undelivered(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.scalar(sa.text("SELECT count(*) FROM outbox WHERE delivered_at IS NULL"))
            or 0
        )


def test_a_dispatcher_killed_mid_batch_loses_nothing_and_redelivers_with_the_same_key(
    db_url: str, db: sa.Engine, webhook: WebhookSink
) -> None:
    keys = fill(db, webhook.url(), 40)
    webhook.hang_on = 10
    process = dispatch(db_url, batch=40)
    try:
        assert webhook.hung.wait(60), "the dispatcher reached the 10th message"
    finally:
        process.kill()
        process.wait(30)
        process.communicate()
    webhook.release.set()
    assert process.returncode == -signal.SIGKILL
    assert undelivered(db) == 40, "the killed batch was never settled"
    assert sorted(webhook.keys()) == sorted(keys[:10])
    # Its lease (5 minutes) runs out; another dispatcher takes the batch over.
    later = FixedClock(datetime.now(UTC) + timedelta(minutes=6))
    settings = NotificationSettings.from_env({"THIDUA_WEBHOOK_SECRET": WEBHOOK_SECRET})
    tally = build_dispatcher(db, settings, later).drain()
    assert (tally.delivered, tally.parked, tally.retried) == (40, 0, 0)
    assert undelivered(db) == 0
    counts = Counter(webhook.keys())
    assert set(counts) == set(keys), "nothing was lost"
    assert {key for key, count in counts.items() if count == 2} == set(keys[:10])
    for key in keys[:10]:
        first, second = (
            r for r in webhook.received if r.headers["x-thidua-idempotency-key"] == key
        )
        assert json.loads(first.body)["key"] == json.loads(second.body)["key"] == key
        assert (json.loads(first.body)["attempt"], json.loads(second.body)["attempt"]) == (1, 2)
        assert first.signature_ok and second.signature_ok


def test_two_dispatchers_never_deliver_the_same_message_at_once(
    db_url: str, db: sa.Engine, webhook: WebhookSink
) -> None:
    keys = fill(db, webhook.url(), 200)
    webhook.delay = 0.002
    processes = [dispatch(db_url, "--once", batch=10) for _ in range(2)]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        results.append(json.loads(out))
    assert webhook.overlaps == []
    assert Counter(webhook.keys()) == dict.fromkeys(keys, 1), "each message delivered once"
    assert sum(r["delivered"] for r in results) == 200
    assert undelivered(db) == 0


def test_sigterm_stops_the_dispatcher_cleanly(
    db_url: str, db: sa.Engine, webhook: WebhookSink
) -> None:
    fill(db, webhook.url(), 5)
    process = dispatch(db_url)
    deadline = datetime.now(UTC) + timedelta(seconds=60)
    while undelivered(db) and datetime.now(UTC) < deadline:
        process.poll()
        assert process.returncode is None
        webhook.hung.wait(0.1)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert json.loads(out)["delivered"] == 5


def thidua(db_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_cli(db_url, *args, "--json", log_level="warning", env=env)


def test_the_commands_list_park_and_retry_notifications(
    tmp_path: os.PathLike[str], webhook: WebhookSink
) -> None:
    url = f"sqlite:///{tmp_path}/thidua.sqlite3"
    assert thidua(url, "demo").returncode == 0
    chosen = thidua(url, "person", "channel", "chutich.q12", "webhook", "--address", webhook.url())
    assert json.loads(chosen.stdout) == {
        "person": "chutich.q12",
        "channel": "webhook",
        "address": webhook.url(),
        "enabled": True,
    }
    pending = json.loads(thidua(url, "notifications", "--state", "pending").stdout)
    assert {m["event"] for m in pending} == {"awaiting_review", "returned", "awarded"}
    down = {"THIDUA_SMTP_PORT": str(free_port()), "THIDUA_NOTIFY_MAX_ATTEMPTS": "1"}
    secret = {"THIDUA_WEBHOOK_SECRET": WEBHOOK_SECRET}
    tally = json.loads(thidua(url, "dispatch", "--once", **down, **secret).stdout)
    to_q12 = sum(m["recipient"] == "chutich.q12" for m in pending)
    assert tally["by_channel"] == {"webhook": to_q12} and len(webhook.received) == to_q12
    parked = json.loads(thidua(url, "notifications", "--state", "parked").stdout)
    assert len(parked) == tally["parked"] == len(pending) - to_q12
    assert all(m["channel"] == "email" and "SMTP" in m["last_error"] for m in parked)
    retried = thidua(url, "notifications", "retry", str(parked[0]["id"]))
    assert json.loads(retried.stdout)["state"] == "pending"
    again = thidua(url, "notifications", "retry", str(parked[0]["id"]))
    assert again.returncode == 5 and "not parked" in again.stderr
    assert thidua(url, "notifications", "retry", "999").returncode == 4
