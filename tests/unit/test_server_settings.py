"""The server's settings: read from the environment, bad values named with their key."""

from __future__ import annotations

import pytest

from workflow.errors import InvalidInput
from workflow.settings import Settings


def test_server_settings_default_to_a_local_server_running_all_its_work() -> None:
    settings = Settings.from_env({})
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.run_scheduler and settings.run_dispatcher
    assert not settings.secure_cookies


def test_server_settings_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "THIDUA_HOST": "0.0.0.0",
            "THIDUA_PORT": "8080",
            "THIDUA_SCHEDULER": "0",
            "THIDUA_DISPATCHER": "off",
            "THIDUA_SECURE_COOKIES": "yes",
        }
    )
    assert (settings.host, settings.port) == ("0.0.0.0", 8080)
    assert not settings.run_scheduler and not settings.run_dispatcher
    assert settings.secure_cookies


@pytest.mark.parametrize(
    ("key", "value"),
    [("THIDUA_PORT", "http"), ("THIDUA_PORT", "70000"), ("THIDUA_SCHEDULER", "maybe")],
)
def test_a_bad_server_setting_is_refused_naming_its_key(key: str, value: str) -> None:
    with pytest.raises(InvalidInput, match=key):
        Settings.from_env({key: value})
