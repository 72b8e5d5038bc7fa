"""The notifications package alone: settings, back-off, templates, e-mail and webhook shapes,
and the dispatcher's retry and park rules against a recording store and channel."""

from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from notifications import (
    ConfigError,
    DeliveryError,
    Dispatcher,
    Message,
    NotificationSettings,
    Outcome,
    Rendered,
    Renderer,
    backoff,
    build_email,
    sign,
    vn_time,
)
from notifications.smtp import message_id

NOW = datetime(2022, 11, 30, 17, 0, tzinfo=UTC)
PAYLOAD = {
    "nomination_id": 42,
    "title": "Số hoá hồ sơ một cửa",
    "nominee_name": "Bộ phận Một cửa",
    "campaign_code": "Q12-CCHC-2022",
    "campaign_name": "Thi đua cải cách hành chính Quận 12 năm 2022",
    "state": "returned",
    "level": "district",
    "reason": "Thiếu biên bản họp Hội đồng",
    "due": "2022-12-14T10:30:00+00:00",
}


def message(**changes: object) -> Message:
    fields: dict[str, object] = {
        "id": 1,
        "key": "nomination:42:5:returned:3",
        "event": "returned",
        "template": "returned",
        "channel": "email",
        "address": "hung@quan12.example.vn",
        "recipient_id": 3,
        "recipient_name": "Trần Văn Hùng",
        "payload": PAYLOAD,
        "attempts": 1,
        "created_at": NOW,
    }
    fields.update(changes)
    return Message(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"THIDUA_SMTP_SECURITY": "ssl"}, "THIDUA_SMTP_SECURITY"),
        ({"THIDUA_SMTP_PORT": "abc"}, "THIDUA_SMTP_PORT"),
        ({"THIDUA_SMTP_PORT": "70000"}, "THIDUA_SMTP_PORT"),
        ({"THIDUA_NOTIFY_MAX_ATTEMPTS": "0"}, "THIDUA_NOTIFY_MAX_ATTEMPTS"),
        ({"THIDUA_WEBHOOK_TIMEOUT": "soon"}, "THIDUA_WEBHOOK_TIMEOUT"),
        ({"THIDUA_SMTP_FROM": "thidua"}, "THIDUA_SMTP_FROM"),
        ({"THIDUA_SMTP_USER": "thidua"}, "THIDUA_SMTP_PASSWORD"),
        ({"THIDUA_BASE_URL": "ftp://x"}, "THIDUA_BASE_URL"),
    ],
)
def test_a_bad_setting_is_refused_naming_its_key(env: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError, match=key) as caught:
        NotificationSettings.from_env(env)
    assert caught.value.key == key


def test_settings_default_the_smtp_port_to_the_security_chosen() -> None:
    assert NotificationSettings.from_env({"THIDUA_SMTP_SECURITY": "tls"}).smtp_port == 465
    assert NotificationSettings.from_env({"THIDUA_SMTP_SECURITY": "starttls"}).smtp_port == 587
    assert NotificationSettings.from_env({}).smtp_port == 25


def test_back_off_doubles_is_capped_and_keeps_at_least_half_its_step() -> None:
    rng = random.Random(7)
    base, ceiling = timedelta(seconds=30), timedelta(minutes=10)
    for attempts, step in [(1, 30), (2, 60), (3, 120), (6, 600), (20, 600)]:
        waits = [backoff(attempts, base, ceiling, rng).total_seconds() for _ in range(200)]
        assert step / 2 <= min(waits) and max(waits) <= step
        assert len(set(waits)) > 100, "jittered"


def test_instants_show_in_vietnam_time() -> None:
    assert vn_time("2022-11-30T17:00:00+00:00") == "01/12/2022 00:00"
    assert vn_time("2022-05-04T16:59:30Z", seconds=True) == "04/05/2022 23:59:30"


def test_every_event_has_a_vietnamese_first_template() -> None:
    renderer = Renderer("https://thidua.example.vn/")
    reminder = {
        "campaign_code": "Q12-CCHC-2022",
        "campaign_name": "Thi đua cải cách hành chính Quận 12 năm 2022",
        "deadline_kind": "registration",
        "deadline": "2022-05-04T17:00:00+00:00",
        "pending": 2,
    }
    for event in ("awaiting_review", "returned", "rejected", "awarded", "expired", "overdue"):
        text = renderer.render(event, PAYLOAD, "Trần Văn Hùng")
        assert text.subject.startswith("[Thi đua] Hồ sơ #42 ")
        assert text.body.startswith("Kính gửi Trần Văn Hùng,")
        assert "https://thidua.example.vn/nominations/42" in text.body
        assert "14/12/2022 17:30" in text.body, "due date in Vietnam time"
        assert "\n---\nDear Trần Văn Hùng" in text.body, "English after the Vietnamese"
    escalated = renderer.render("escalated", {**PAYLOAD, "to_level": "province"}, None)
    assert "được chuyển lên cấp tỉnh" in escalated.subject
    text = renderer.render("reminder", reminder, "Võ Thanh Sơn")
    assert text.subject == (
        "[Thi đua] Nhắc hạn đăng ký 05/05/2022 00:00: 2 hồ sơ / Reminder: registration deadline"
    )


def test_a_payload_missing_a_needed_value_is_a_permanent_failure() -> None:
    with pytest.raises(DeliveryError, match="to_level") as caught:
        Renderer("http://x").render("escalated", PAYLOAD, None)
    assert caught.value.permanent


def test_an_email_carries_its_key_and_a_message_id_derived_from_it() -> None:
    rendered = Renderer("http://x").render_message(message())
    mail = build_email(message(attempts=3), rendered, "thidua@quan12.example.vn")
    assert mail["X-Thidua-Idempotency-Key"] == "nomination:42:5:returned:3"
    assert mail["Message-ID"] == message_id(mail["X-Thidua-Idempotency-Key"], "t@quan12.example.vn")
    again = build_email(message(), rendered, "thidua@quan12.example.vn")
    assert mail["Message-ID"] == again["Message-ID"], "the same on every attempt"
    assert mail["Message-ID"].endswith("@quan12.example.vn>")
    with pytest.raises(DeliveryError, match="no e-mail address") as caught:
        build_email(message(address=None), rendered, "thidua@quan12.example.vn")
    assert caught.value.permanent


def test_the_webhook_signature_is_hmac_sha256_over_the_exact_body() -> None:
    assert sign("khoá", b'{"a":1}') == (
        "sha256=" + hmac.new("khoá".encode(), b'{"a":1}', hashlib.sha256).hexdigest()
    )


class RecordingStore:
    """A store in memory: hands out its messages once, records how they were settled."""

    def __init__(self, messages: list[Message]) -> None:
        self.messages = messages
        self.settled: list[Outcome] = []

    def claim(self, now: datetime, limit: int, lease: timedelta, worker: str) -> list[Message]:
        taken, self.messages = self.messages[:limit], self.messages[limit:]
        return taken

    def settle(self, outcomes: Sequence[Outcome], now: datetime) -> None:
        self.settled.extend(outcomes)


class FlakyChannel:
    name = "email"

    def __init__(self, error: DeliveryError | None) -> None:
        self.error = error
        self.sent: list[str] = []
        self.closed = 0

    def send(self, message: Message, rendered: Rendered) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append(message.key)

    def close(self) -> None:
        self.closed += 1


def run(channel: FlakyChannel, *messages: Message) -> RecordingStore:
    store = RecordingStore(list(messages))
    Dispatcher(
        store,
        {"email": channel},
        Renderer("http://x"),
        now=lambda: NOW,
        max_attempts=3,
        rng=random.Random(1),
    ).drain()
    return store


def test_a_failed_attempt_before_the_last_is_retried_later() -> None:
    store = run(FlakyChannel(DeliveryError("connection refused")), message(attempts=2))
    (outcome,) = store.settled
    assert not outcome.delivered and not outcome.parked
    assert outcome.retry_at is not None and outcome.retry_at > NOW
    assert outcome.error == "connection refused"


def test_the_last_failed_attempt_parks_the_message() -> None:
    (outcome,) = run(FlakyChannel(DeliveryError("refused")), message(attempts=3)).settled
    assert outcome.parked


def test_a_permanent_failure_parks_at_once_and_an_unknown_channel_too() -> None:
    (outcome,) = run(FlakyChannel(DeliveryError("550", permanent=True)), message()).settled
    assert outcome.parked
    (outcome,) = run(FlakyChannel(None), message(channel="sms")).settled
    assert outcome.parked and "sms" in (outcome.error or "")


def test_delivered_messages_are_settled_and_channels_closed_after_a_drain() -> None:
    channel = FlakyChannel(None)
    store = run(channel, message(id=1, key="a"), message(id=2, key="b"))
    assert channel.sent == ["a", "b"]
    assert [o.delivered for o in store.settled] == [True, True]
    assert channel.closed == 1


def test_messages_not_started_before_the_lease_runs_low_are_given_back_unattempted() -> None:
    """Each message takes 3 minutes of a 10-minute lease: the third would start at minute 9,
    past four fifths of the lease, so it and the fourth go back."""
    ticks = iter(NOW + timedelta(minutes=3 * i) for i in range(100))
    channel = FlakyChannel(None)
    store = RecordingStore([message(id=i, key=f"k{i}") for i in range(4)])
    tally = Dispatcher(
        store,
        {"email": channel},
        Renderer("http://x"),
        now=lambda: next(ticks),
        lease=timedelta(minutes=10),
    ).run_once()
    assert channel.sent == ["k0", "k1"]
    assert (tally.delivered, tally.released) == (2, 2)
    assert [o.released for o in store.settled] == [False, False, True, True]
    assert store.settled[-1].retry_at is not None and not store.settled[-1].parked
