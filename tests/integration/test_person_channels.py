"""People choose where they hear notifications; a refused choice writes nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.conftest import snapshot
from workflow.errors import InvalidInput, NotFound
from workflow.person_channels import routes
from workflow.service import Service
from workflow.settings import Settings
from workflow.tables import Person


def person_id(engine: sa.Engine, username: str) -> int:
    with Session(engine) as session:
        found = session.scalar(sa.select(Person.id).where(Person.username == username))
        assert found is not None
        return found


def test_without_a_choice_a_person_hears_by_email_at_their_address(world: Service) -> None:
    assert world.channels("chutich.q12") == [
        {
            "channel": "email",
            "address": "chutich.q12@quan12.example.vn",
            "enabled": True,
            "chosen": False,
        }
    ]


def test_someone_without_any_usable_channel_is_still_written_to_the_log(
    world: Service, engine: sa.Engine
) -> None:
    assert world.channels("da.nang")[0]["channel"] == "log", "no e-mail address"
    world.set_channel("chutich.q12", "email", enabled=False)
    pid = person_id(engine, "chutich.q12")
    with Session(engine) as session:
        assert routes(session, [pid]) == {pid: [("log", None)]}


def test_a_person_may_hear_on_several_channels_and_switch_one_off(
    world: Service, engine: sa.Engine
) -> None:
    world.set_channel("chutich.q12", "email", "vanphong@quan12.example.vn")
    world.set_channel("chutich.q12", "webhook", "https://chat.quan12.example.vn/hook")
    pid = person_id(engine, "chutich.q12")
    with Session(engine) as session:
        assert routes(session, [pid])[pid] == [
            ("email", "vanphong@quan12.example.vn"),
            ("webhook", "https://chat.quan12.example.vn/hook"),
        ]
    world.set_channel("chutich.q12", "webhook", enabled=False)
    with Session(engine) as session:
        assert routes(session, [pid])[pid] == [("email", "vanphong@quan12.example.vn")]


@pytest.mark.parametrize(
    ("username", "channel", "address", "match"),
    [
        ("chutich.q12", "sms", None, "not one of email, webhook, log"),
        ("chutich.q12", "webhook", None, "needs its URL"),
        ("chutich.q12", "webhook", "ftp://x", "not an http"),
        ("chutich.q12", "email", "khong-phai-email", "not an e-mail"),
        ("da.nang", "email", None, "has no e-mail address"),
    ],
)
def test_a_bad_channel_choice_is_refused_and_writes_nothing(
    world: Service,
    engine: sa.Engine,
    username: str,
    channel: str,
    address: str | None,
    match: str,
) -> None:
    before = snapshot(engine)
    with pytest.raises(InvalidInput, match=match):
        world.set_channel(username, channel, address)
    assert snapshot(engine) == before


def test_channels_load_with_people_from_a_file(service: Service, engine: sa.Engine) -> None:
    service.load(
        {
            "units": [{"code": "79", "name": "Thành phố Hồ Chí Minh", "level": "province"}],
            "people": [
                {
                    "username": "son",
                    "name": "Võ Thanh Sơn",
                    "email": "son@example.vn",
                    "channels": [
                        {"channel": "webhook", "address": "https://hook.example.vn/son"},
                        {"channel": "email"},
                    ],
                }
            ],
        }
    )
    assert [(c["channel"], c["address"]) for c in service.channels("son")] == [
        ("email", None),
        ("webhook", "https://hook.example.vn/son"),
    ]


def test_retrying_an_unknown_notification_is_not_found(world: Service) -> None:
    with pytest.raises(NotFound, match="no notification with id 99"):
        world.retry_notification(99)
    with pytest.raises(InvalidInput, match="notification id 'x'"):
        world.retry_notification("x")
    with pytest.raises(InvalidInput, match="state 'lost'"):
        world.notifications(state="lost")


def test_a_bad_notification_setting_stops_the_settings_naming_the_key() -> None:
    with pytest.raises(InvalidInput, match="THIDUA_SMTP_SECURITY 'ssl'"):
        Settings.from_env({"THIDUA_SMTP_SECURITY": "ssl"})
    settings = Settings.from_env({"THIDUA_BASE_URL": "https://thidua.example.vn/"})
    assert settings.notifications.base_url == "https://thidua.example.vn"
