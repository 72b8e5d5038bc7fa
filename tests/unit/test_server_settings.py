"""The server's settings: read from the environment, bad values named with their key."""

from __future__ import annotations

import subprocess
import sys

import pytest

from workflow.errors import InvalidInput
from workflow.settings import DEFAULT_DB_POOL_SIZE, Settings


def test_server_settings_default_to_a_local_server_running_all_its_work() -> None:
    settings = Settings.from_env({})
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.run_scheduler and settings.run_dispatcher
    assert not settings.secure_cookies
    assert settings.workers == 1


def test_server_settings_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "THIDUA_HOST": "0.0.0.0",
            "THIDUA_PORT": "8080",
            "THIDUA_SCHEDULER": "0",
            "THIDUA_DISPATCHER": "off",
            "THIDUA_SECURE_COOKIES": "yes",
            "THIDUA_WORKERS": "3",
        }
    )
    assert settings.workers == 3
    assert (settings.host, settings.port) == ("0.0.0.0", 8080)
    assert not settings.run_scheduler and not settings.run_dispatcher
    assert settings.secure_cookies


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("THIDUA_PORT", "http"),
        ("THIDUA_PORT", "70000"),
        ("THIDUA_SCHEDULER", "maybe"),
        ("THIDUA_WORKERS", "0"),
        ("THIDUA_WORKERS", "two"),
    ],
)
def test_a_bad_server_setting_is_refused_naming_its_key(key: str, value: str) -> None:
    with pytest.raises(InvalidInput, match=key):
        Settings.from_env({key: value})


def test_the_database_pool_size_is_read_from_the_environment() -> None:
    assert Settings.from_env({}).db_pool_size == DEFAULT_DB_POOL_SIZE == 10
    assert Settings.from_env({"THIDUA_DB_POOL_SIZE": "32"}).db_pool_size == 32


@pytest.mark.parametrize("value", ["0", "many", "-3"])
def test_a_bad_pool_size_is_refused_naming_its_key(value: str) -> None:
    with pytest.raises(InvalidInput, match="THIDUA_DB_POOL_SIZE"):
        Settings.from_env({"THIDUA_DB_POOL_SIZE": value})


def test_a_cli_command_makes_no_password_hash_and_the_server_makes_it_before_answering() -> None:
    """The stand-in hash for unknown names costs an Argon2 hash: not for every CLI command, but
    ready before the server's first sign-in so that an unknown name answers as fast as any."""
    script = (
        "import sqlalchemy as sa\n"
        "from workflow import access, cli\n"
        "assert access.dummy_hash.cache_info().currsize == 0\n"
        "from workflow.server import create_app\n"
        "from workflow.service import Service\n"
        "create_app(Service(sa.create_engine('sqlite://')))\n"
        "assert access.dummy_hash.cache_info().currsize == 1\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
