"""Delivery through real servers on loopback, on SQLite and PostgreSQL: the e-mail reaches an SMTP
server (aiosmtpd) with its Vietnamese subject and body intact, the webhook reaches an HTTP server
with a valid signature; a channel that is down is retried, then delivered once; a message that
never gets through is parked after its last attempt and can be requeued."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from notifications import Dispatcher, NotificationSettings, Outcome, Renderer
from tests.integration.helpers import reported_ward
from tests.sinks import WEBHOOK_SECRET, SmtpSink, WebhookSink
from workflow.clock import FixedClock
from workflow.dispatch import build_dispatcher
from workflow.errors import InvalidTransition
from workflow.outbox_store import SqlStore
from workflow.service import Service
from workflow.tables import OutboxMessage

DAY = timedelta(days=1)


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    yield sink
    sink.stop()


@pytest.fixture
def webhook() -> Iterator[WebhookSink]:
    sink = WebhookSink()
    yield sink
    sink.stop()


def dispatcher(engine: sa.Engine, clock: FixedClock, smtp: SmtpSink, **env: str) -> Dispatcher:
    settings = NotificationSettings.from_env(
        {
            **smtp.env(),
            "THIDUA_SMTP_FROM": "thidua@quan12.example.vn",
            "THIDUA_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "THIDUA_WEBHOOK_TIMEOUT": "5",
            "THIDUA_SMTP_TIMEOUT": "5",
            "THIDUA_BASE_URL": "https://thidua.quan12.example.vn",
            **env,
        }
    )
    return build_dispatcher(engine, settings, clock)


def rows(engine: sa.Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def test_an_email_arrives_with_its_vietnamese_subject_and_body_intact(
    world: Service, engine: sa.Engine, clock: FixedClock, smtp: SmtpSink
) -> None:
    smtp.start()
    view = reported_ward(world)
    world.set_channel("da.nang", "log")
    tally = dispatcher(engine, clock, smtp).drain()
    assert (tally.delivered, tally.by_channel) == (2, {"email": 1, "log": 1})
    (mail,) = smtp.messages
    assert mail["To"].addresses[0].addr_spec == "chutich.thanhxuan@quan12.example.vn"
    assert mail["Subject"] == (
        f"[Thi đua] Hồ sơ #{view.id} chờ anh/chị xét duyệt cấp xã "
        f"/ Nomination #{view.id} awaits your review"
    )
    message = next(r for r in rows(engine) if r.channel == "email")
    assert mail["X-Thidua-Idempotency-Key"] == message.key
    expected = Renderer("https://thidua.quan12.example.vn").render(
        "awaiting_review", message.payload, "Võ Thanh Sơn"
    )
    assert mail.get_content().replace("\r\n", "\n") == expected.body
    assert expected.body.startswith("Kính gửi Võ Thanh Sơn,\n")
    assert f"https://thidua.quan12.example.vn/nominations/{view.id}" in expected.body
    raw = mail.as_bytes()
    assert b"=?utf-8?" in raw.split(b"\n\n", 1)[0].lower(), "the subject is RFC 2047-encoded"
    assert message.delivered_at == clock.now() and message.attempts == 1


def test_a_webhook_arrives_signed_with_its_idempotency_key(
    world: Service,
    engine: sa.Engine,
    clock: FixedClock,
    smtp: SmtpSink,
    webhook: WebhookSink,
) -> None:
    webhook.start()
    world.set_channel("chutich.thanhxuan", "webhook", webhook.url("/thanhxuan"))
    world.set_channel("da.nang", "log")
    view = reported_ward(world)
    dispatcher(engine, clock, smtp).drain()
    (received,) = webhook.received
    assert received.path == "/thanhxuan"
    assert received.signature_ok
    document: dict[str, Any] = json.loads(received.body)
    message = next(r for r in rows(engine) if r.channel == "webhook")
    assert received.headers["x-thidua-idempotency-key"] == document["key"] == message.key
    assert document["event"] == "awaiting_review"
    assert document["payload"]["nomination_id"] == view.id
    assert document["subject"].startswith(f"[Thi đua] Hồ sơ #{view.id} chờ")
    assert smtp.messages == [], "a person who chose channels hears only on them"


def test_a_channel_down_then_up_is_retried_and_delivered_once(
    world: Service, engine: sa.Engine, clock: FixedClock, smtp: SmtpSink
) -> None:
    world.set_channel("da.nang", "log")
    reported_ward(world)
    sender = dispatcher(engine, clock, smtp, THIDUA_NOTIFY_BACKOFF="60")
    first = sender.drain()
    assert (first.delivered, first.retried) == (1, 1)
    email = next(r for r in rows(engine) if r.channel == "email")
    assert email.attempts == 1 and email.last_error and "SMTP" in email.last_error
    wait = email.next_attempt_at - clock.now()
    assert timedelta(seconds=30) <= wait <= timedelta(seconds=60), "first back-off, jittered"
    assert sender.drain().claimed == 0, "not due before its back-off"
    smtp.start()
    clock.advance(timedelta(seconds=61))
    assert sender.drain().delivered == 1
    assert len(smtp.messages) == 1
    assert sender.drain().claimed == 0
    email = next(r for r in rows(engine) if r.channel == "email")
    assert (email.attempts, email.last_error, email.delivered_at) == (2, None, clock.now())


def test_after_its_last_attempt_a_message_is_parked_and_can_be_requeued(
    world: Service, engine: sa.Engine, clock: FixedClock, smtp: SmtpSink
) -> None:
    world.set_channel("da.nang", "log")
    reported_ward(world)
    sender = dispatcher(engine, clock, smtp, THIDUA_NOTIFY_MAX_ATTEMPTS="3")
    outcomes = []
    for _ in range(3):
        outcomes.append(sender.drain())
        clock.advance(DAY)
    assert [(t.retried, t.parked) for t in outcomes] == [(1, 0), (1, 0), (0, 1)]
    (parked,) = world.notifications(state="parked")
    assert parked["attempts"] == 3 and parked["channel"] == "email"
    assert sender.drain().claimed == 0, "a parked message is not retried by itself"
    with pytest.raises(InvalidTransition, match="not parked"):
        world.retry_notification(world.notifications(state="delivered")[0]["id"])
    assert world.retry_notification(parked["id"])["state"] == "pending"
    smtp.start()
    assert sender.drain().delivered == 1
    assert [m["X-Thidua-Idempotency-Key"] for m in smtp.messages] == [parked["key"]]


def test_a_webhook_refused_with_a_client_error_is_parked_at_once(
    world: Service, engine: sa.Engine, clock: FixedClock, smtp: SmtpSink
) -> None:
    hook = WebhookSink(status=410)
    hook.start()
    try:
        world.set_channel("chutich.thanhxuan", "webhook", hook.url())
        world.set_channel("da.nang", "log")
        reported_ward(world)
        tally = dispatcher(engine, clock, smtp).drain()
    finally:
        hook.stop()
    assert tally.parked == 1
    (parked,) = world.notifications(state="parked")
    assert "410" in parked["last_error"] and parked["attempts"] == 1


def test_a_message_written_without_a_channel_fans_out_to_the_recipients_channels(
    world: Service,
    engine: sa.Engine,
    clock: FixedClock,
    smtp: SmtpSink,
    webhook: WebhookSink,
) -> None:
    """As the deadline sweep writes them: bulk-inserted rows with channel NULL."""
    smtp.start()
    webhook.start()
    world.set_channel("chutich.q12", "email")
    world.set_channel("chutich.q12", "webhook", webhook.url())
    with engine.begin() as connection:
        person = connection.scalar(sa.text("SELECT id FROM persons WHERE username = 'chutich.q12'"))
        connection.execute(
            sa.insert(OutboxMessage),
            [
                {
                    "key": "reminder:Q12-CCHC-2022:report:chutich.q12",
                    "event": "reminder",
                    "template": "reminder",
                    "recipient_id": person,
                    "channel": None,
                    "payload": {
                        "campaign_code": "Q12-CCHC-2022",
                        "campaign_name": "Thi đua cải cách hành chính Quận 12 năm 2022",
                        "deadline_kind": "report",
                        "deadline": "2022-11-30T17:00:00+00:00",
                        "pending": 3,
                    },
                    "created_at": clock.now(),
                    "next_attempt_at": clock.now(),
                    "attempts": 0,
                }
            ],
        )
    tally = dispatcher(engine, clock, smtp).drain()
    assert tally.by_channel == {"email": 1, "webhook": 1}
    (mail,) = smtp.messages
    assert mail["Subject"] == (
        "[Thi đua] Nhắc hạn báo cáo kết quả 01/12/2022 00:00: 3 hồ sơ / Reminder: report deadline"
    )
    assert "Anh/chị còn 3 hồ sơ cần xử lý trước hạn." in mail.get_content()
    assert mail["X-Thidua-Idempotency-Key"] == "reminder:Q12-CCHC-2022:report:chutich.q12/email"
    assert webhook.keys() == ["reminder:Q12-CCHC-2022:report:chutich.q12/webhook"]
    assert {r.key: r.channel for r in rows(engine)}[
        "reminder:Q12-CCHC-2022:report:chutich.q12"
    ] == "*"
    assert len(world.notifications()) == 2, "the fanned-out original is not listed"


def test_a_lease_keeps_a_claimed_message_from_others_until_it_runs_out(
    world: Service, engine: sa.Engine, clock: FixedClock, smtp: SmtpSink
) -> None:
    """A dispatcher that claimed a batch and died: its messages come back after the lease."""
    world.set_channel("chutich.thanhxuan", "log")
    world.set_channel("da.nang", "log")
    reported_ward(world)
    store = SqlStore(engine)
    claimed = store.claim(clock.now(), 10, timedelta(minutes=5), "dead-worker")
    assert len(claimed) == 2
    other = dispatcher(engine, clock, smtp)
    assert other.drain().claimed == 0
    clock.advance(timedelta(minutes=5))
    again = store.claim(clock.now(), 10, timedelta(minutes=5), "live-worker")
    assert sorted(m.key for m in again) == sorted(m.key for m in claimed)
    assert {m.attempts for m in again} == {2}


def test_a_message_given_back_unattempted_keeps_its_attempts(
    world: Service, engine: sa.Engine, clock: FixedClock
) -> None:
    world.set_channel("chutich.thanhxuan", "log")
    world.set_channel("da.nang", "log")
    reported_ward(world)
    store = SqlStore(engine)
    (first, second) = store.claim(clock.now(), 10, timedelta(minutes=5), "w")
    store.settle(
        [
            Outcome(first, delivered=True),
            Outcome(second, delivered=False, retry_at=clock.now(), released=True),
        ],
        clock.now(),
    )
    by_key = {r.key: r for r in rows(engine)}
    assert by_key[first.key].delivered_at == clock.now()
    given_back = by_key[second.key]
    assert (given_back.attempts, given_back.claimed_by, given_back.delivered_at) == (0, None, None)
    (again,) = store.claim(clock.now(), 10, timedelta(minutes=5), "w2")
    assert (again.key, again.attempts) == (second.key, 1)
