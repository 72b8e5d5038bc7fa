"""Bad input through the real `thidua` command line, on SQLite and PostgreSQL.

Every refused command exits with its code (2 bad input, 3 refused by a rule, 4 not found), says on
stderr which value was wrong, and leaves every table exactly as it was. Text that is merely odd
(SQL in a name, decomposed Vietnamese) is valid: it is stored — composed, and otherwise verbatim.

The CLI reads the real clock, so the world here has a campaign whose deadlines lie in 2030.
"""

from __future__ import annotations

import json
import subprocess
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import new_database, snapshot
from tests.e2e.cli import ok
from tests.e2e.cli import thidua as run_cli
from workflow.db import make_engine

pytestmark = pytest.mark.slow

CAMPAIGN = "HCM-2030"
WARD = "26734"

WORLD = f"""
[[units]]
code = "79"
name = "Thành phố Hồ Chí Minh"
level = "province"

[[units]]
code = "{WARD}"
name = "Phường Thạnh Xuân"
level = "commune"
parent = "79"

[[units]]
code = "26740"
name = "Phường Hiệp Thành"
level = "commune"
parent = "79"

[[people]]
username = "quantri"
name = "Quản trị Thành phố"
roles = [{{ role = "admin", unit = "79" }}]

# The officer of the ward, who is also one of its approvers (so may never sign what he proposed).
[[people]]
username = "hung"
name = "Trần Văn Hùng"
roles = [{{ role = "officer", unit = "{WARD}" }}, {{ role = "approver", unit = "{WARD}" }}]

[[people]]
username = "son"
name = "Võ Thanh Sơn"
roles = [{{ role = "approver", unit = "{WARD}" }}]

# The chairman of the neighbouring ward: outside the nomination's unit.
[[people]]
username = "bao"
name = "Đặng Quốc Bảo"
roles = [{{ role = "approver", unit = "26740" }}]

[[campaigns]]
code = "{CAMPAIGN}"
name = "Thi đua cải cách hành chính Thành phố năm 2030"
issuing_unit = "79"
registration_deadline = "05/05/2030"
report_deadline = "01/12/2030"
"""


def thidua(url: str, *args: str, log_level: str | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI against `url`, given in THIDUA_DATABASE_URL."""
    return run_cli(url, *args, log_level=log_level, url_in_env=True)


def register_args(**overrides: str) -> list[str]:
    given = {
        "--as": "hung",
        "--campaign": CAMPAIGN,
        "--unit": WARD,
        "--kind": "collective",
        "--nominee": "Bộ phận Một cửa Phường Thạnh Xuân",
        "--title": "Số hoá hồ sơ thủ tục hành chính",
        "--area": "thu_tuc_hanh_chinh",
        **overrides,
    }
    return ["register", *(part for pair in given.items() for part in pair)]


def error_object(stderr: str) -> dict[str, Any]:
    """stderr that must be exactly one JSON object."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    parsed = json.loads(lines[0])
    assert isinstance(parsed, dict)
    return parsed


@dataclass(frozen=True)
class World:
    url: str
    engine: sa.Engine
    #: A nomination registered by `hung` and reported: it awaits review at the commune level.
    nomination: int

    def run(self, *args: str, log_level: str | None = None) -> subprocess.CompletedProcess[str]:
        return thidua(self.url, *args, log_level=log_level)

    def refused(self, *args: str, code: int, log_level: str | None = None) -> str:
        """Run a command that must exit with `code` and write nothing; returns its stderr."""
        before = snapshot(self.engine)
        result = self.run(*args, log_level=log_level)
        assert result.returncode == code, (
            f"exit {result.returncode}, expected {code}\n{result.stdout}\n{result.stderr}"
        )
        assert result.stdout == ""
        assert snapshot(self.engine) == before
        return result.stderr


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def module_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Like conftest's `db_url`, for the whole module: a new, empty database per backend."""
    folder = tmp_path_factory.mktemp("cli") if request.param == "sqlite" else Path()
    with new_database(request.param, folder) as url:
        yield url


@pytest.fixture(scope="module")
def world(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The 2030 world loaded through the CLI, with one nomination awaiting the ward's review."""
    toml = tmp_path_factory.mktemp("world") / "world.toml"
    toml.write_text(WORLD, encoding="utf-8")
    assert "campaigns: 1" in ok(thidua(module_db_url, "load", str(toml), "--as", "quantri"))
    registered = json.loads(ok(thidua(module_db_url, *register_args(), "--json")))
    number = str(registered["id"])
    ok(thidua(module_db_url, "implement", number, "--as", "hung"))
    reported = json.loads(ok(thidua(module_db_url, "report", number, "--as", "hung", "--json")))
    assert (reported["state"], reported["awaiting"]) == ("reported", "commune")
    engine = make_engine(module_db_url)
    try:
        yield World(module_db_url, engine, registered["id"])
    finally:
        engine.dispose()


# -- not found: exit 4 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "named"),
    [
        pytest.param(["approve", "987654", "--as", "son"], "987654", id="nomination-id"),
        pytest.param(["approve", "{nomination}", "--as", "nobody"], "'nobody'", id="person-in-as"),
        pytest.param(register_args(**{"--unit": "99999"}), "'99999'", id="unit"),
        pytest.param(register_args(**{"--campaign": "KHONG-CO"}), "'KHONG-CO'", id="campaign"),
    ],
)
def test_unknown_records_are_not_found_named_on_stderr_and_nothing_is_written(
    world: World, args: list[str], named: str
) -> None:
    args = [arg.format(nomination=world.nomination) for arg in args]
    stderr = world.refused(*args, code=4)
    assert "not found" in stderr
    assert named in stderr


def test_listing_an_unknown_campaign_is_not_found_like_an_unknown_unit(world: World) -> None:
    unit = world.run("list", "--unit", "KHONG-CO")
    assert unit.returncode == 4 and "'KHONG-CO'" in unit.stderr
    campaign = world.run("list", "--campaign", "KHONG-CO")
    assert campaign.returncode == 4, (
        f"`list --campaign KHONG-CO` exited {campaign.returncode} with {campaign.stdout!r}: "
        "a mistyped campaign reads as an empty campaign"
    )
    assert "'KHONG-CO'" in campaign.stderr


# -- bad input: exit 2 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_id",
    [
        pytest.param("abc", id="letters"),
        pytest.param("1; DROP TABLE nominations", id="sql"),
        pytest.param("-1", id="negative"),
    ],
)
def test_a_malformed_nomination_id_is_bad_input_named_on_stderr_and_nothing_is_written(
    world: World, bad_id: str
) -> None:
    stderr = world.refused("approve", bad_id, "--as", "son", code=2)
    assert f"nomination id '{bad_id}' is not a positive whole number" in stderr


@pytest.mark.parametrize(
    "bad_id",
    [
        pytest.param("0_{nomination}", id="digit-separator"),
        pytest.param("{arabic}", id="arabic-indic-digits"),
    ],
)
def test_a_nomination_id_is_only_plain_ascii_digits(world: World, bad_id: str) -> None:
    # int() reads "0_1" and "١" (Arabic-Indic one) as 1, so `show` finds nomination 1 by them;
    # neither is how anyone writes a nomination's number.
    arabic = "".join(chr(0x0660 + int(digit)) for digit in str(world.nomination))
    bad_id = bad_id.format(nomination=world.nomination, arabic=arabic)
    stderr = world.refused("show", bad_id, code=2)
    assert f"nomination id '{bad_id}'" in stderr


@pytest.mark.parametrize(
    "bad_date",
    [
        pytest.param("31/02/2030", id="no-such-day"),
        pytest.param("2030-05-05", id="iso-form"),
        pytest.param("hôm nay", id="words"),
    ],
)
def test_a_malformed_campaign_date_is_bad_input_named_on_stderr_and_nothing_is_written(
    world: World, bad_date: str
) -> None:
    stderr = world.refused(
        "campaign",
        "create",
        "--as",
        "quantri",
        "--code",
        "HCM-2030-B",
        "--name",
        "Thi đua đợt hai",
        "--issuing-unit",
        "79",
        "--registration-deadline",
        bad_date,
        "--report-deadline",
        "01/12/2030",
        code=2,
    )
    assert f"registration deadline '{bad_date}'" in stderr


@pytest.mark.parametrize(
    ("override", "named"),
    [
        pytest.param({"--nominee": ""}, "nominee name must not be empty", id="empty-nominee"),
        pytest.param({"--title": " \t  "}, "initiative title must not be empty", id="blank-title"),
        pytest.param(
            {"--title": "Số hoá " + "x" * 494},
            "initiative title is 501 characters long; at most 500",
            id="oversized-title",
        ),
        pytest.param({"--area": "van_hoa"}, "area 'van_hoa'", id="unknown-area"),
    ],
)
def test_unusable_registration_text_is_bad_input_named_on_stderr_and_nothing_is_written(
    world: World, override: dict[str, str], named: str
) -> None:
    stderr = world.refused(*register_args(**override), code=2)
    assert "invalid input" in stderr
    assert named in stderr


def test_approving_without_an_acting_person_is_bad_input_and_writes_nothing(
    world: World,
) -> None:
    stderr = world.refused("approve", str(world.nomination), code=2)
    assert "--as" in stderr


def test_a_decomposed_vietnamese_username_is_composed_before_it_is_checked(world: World) -> None:
    # Usernames are letters a–z, digits, '.', '_' and '-': a Vietnamese one can never exist, so
    # the decomposed "hùng" is refused as malformed — shown composed, as the person typed it.
    composed = "hùng"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    stderr = world.refused(
        "approve", str(world.nomination), "--as", decomposed, code=2, log_level="warning"
    )
    assert f"person '{composed}'" in stderr
    assert decomposed not in stderr


# -- refused by a rule: exit 3 -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("approver", "rule", "named"),
    [
        pytest.param("bao", "unit_scope", "does not cover Phường Thạnh Xuân (26734)", id="outside"),
        pytest.param("hung", "separation_of_duties", "proposer", id="proposer"),
    ],
)
def test_a_refusal_by_a_rule_exits_3_as_one_json_object_and_writes_nothing(
    world: World, approver: str, rule: str, named: str
) -> None:
    stderr = world.refused(
        "approve", str(world.nomination), "--as", approver, "--json", code=3, log_level="warning"
    )
    error = error_object(stderr)
    assert error["error"] == "forbidden"
    assert error["rule"] == rule
    assert approver in error["message"] and named in error["message"]


# -- JSON errors ---------------------------------------------------------------------------------


def test_a_json_error_is_one_object_with_error_and_message_on_stderr(world: World) -> None:
    error = error_object(world.refused("show", "987654", "--json", code=4, log_level="warning"))
    assert error == {"error": "not_found", "message": "no nomination with id 987654"}


def test_a_json_error_stays_apart_from_the_log_lines_of_a_script(world: World) -> None:
    # Without a terminal thidua logs JSON lines (info) on stderr; the error is still its own
    # line: the last, the only one that is not a log event.
    stderr = world.refused("approve", "987654", "--as", "son", "--json", code=4)
    lines = [json.loads(line) for line in stderr.strip().splitlines()]
    assert all(isinstance(line, dict) for line in lines)
    errors = [line for line in lines if "event" not in line]
    assert errors == [lines[-1]]
    assert lines[-1] == {"error": "not_found", "message": "no nomination with id 987654"}


def test_a_json_usage_error_is_one_json_object_too(world: World) -> None:
    # argparse's own checks (here: --limit is not a number) are bad input like any other.
    stderr = world.refused("list", "--limit", "muoi", "--json", code=2, log_level="warning")
    error = error_object(stderr)
    assert error["error"] == "invalid_input"
    assert "'muoi'" in error["message"]


# -- odd but valid text: stored --------------------------------------------------------------------


def test_sql_in_a_nominee_name_is_stored_verbatim_and_every_table_survives(world: World) -> None:
    name = "Robert'); DROP TABLE nominations;--"
    before = snapshot(world.engine)
    registered = json.loads(ok(world.run(*register_args(**{"--nominee": name}), "--json")))
    assert registered["nominee_name"] == name
    shown = json.loads(ok(world.run("show", str(registered["id"]), "--json")))
    assert shown["nominee_name"] == name
    after = snapshot(world.engine)
    assert set(after) == set(before)
    assert len(after["nominations"]) == len(before["nominations"]) + 1
    assert len(after["audit_log"]) == len(before["audit_log"]) + 1
    for table in ("units", "persons", "role_grants", "campaigns"):
        assert after[table] == before[table]
    with world.engine.connect() as connection:
        stored = connection.execute(
            sa.text("SELECT nominee_name FROM nominations WHERE id = :id"),
            {"id": registered["id"]},
        ).scalar_one()
    assert stored == name


def test_decomposed_vietnamese_is_stored_composed_and_audited_composed(world: World) -> None:
    name = "Nguyễn Thị Ánh"
    # 500 characters composed, more than 500 decomposed: the limit counts composed characters.
    title = ("Cải cách thủ tục hành chính " * 20)[:500]
    assert len(title) == 500 and len(unicodedata.normalize("NFD", title)) > 500
    args = register_args(
        **{
            "--kind": "individual",
            "--nominee": unicodedata.normalize("NFD", name),
            "--title": unicodedata.normalize("NFD", title),
        }
    )
    assert unicodedata.normalize("NFD", name) != name
    registered = json.loads(ok(world.run(*args, "--json")))
    number = str(registered["id"])
    shown = json.loads(ok(world.run("show", number, "--json")))
    assert (shown["nominee_name"], shown["title"]) == (name, title)
    history = json.loads(ok(world.run("history", number, "--json")))
    assert [entry["trigger"] for entry in history] == ["register"]
    payload = history[0]["payload"]
    assert (payload["nominee_name"], payload["title"]) == (name, title)
    with world.engine.connect() as connection:
        stored = connection.execute(
            sa.text("SELECT nominee_name, title FROM nominations WHERE id = :id"),
            {"id": registered["id"]},
        ).one()
    assert tuple(stored) == (name, title)
