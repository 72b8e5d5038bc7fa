"""Two processes approve the same nomination at the same level at once: exactly one succeeds, the
other gets a conflict (exit 5), and the audit log holds one 'approve' entry for it.

Each process is a small driver that imports the CLI first, then waits for a shared instant and
calls `workflow.cli.main([...])`, so both commands start within a millisecond or so of each other.
Five nominations are raced, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from workflow.db import make_engine
from workflow.service import Service

pytestmark = pytest.mark.slow

RACES = 5
#: Seconds between two races, long enough for both commands of one race to finish.
SLOT = 0.3
#: Seconds from spawning the two processes to the first race: time to start and import.
LEAD = 1.5

WORLD = """
[[units]]
code = "79"
name = "Thành phố Hồ Chí Minh"
level = "province"

[[units]]
code = "26734"
name = "Phường Thạnh Xuân"
level = "commune"
parent = "79"

[[people]]
username = "quantri"
name = "Quản trị Thành phố"
roles = [{ role = "admin", unit = "79" }]

[[people]]
username = "hung"
name = "Trần Văn Hùng"
roles = [{ role = "officer", unit = "26734" }]

# Two approvers of the same ward: the chairman and his deputy.
[[people]]
username = "son"
name = "Võ Thanh Sơn"
roles = [{ role = "approver", unit = "26734" }]

[[people]]
username = "binh"
name = "Lê Văn Bình"
roles = [{ role = "approver", unit = "26734" }]

[[campaigns]]
code = "HCM-2030"
name = "Thi đua cải cách hành chính Thành phố năm 2030"
issuing_unit = "79"
registration_deadline = "05/05/2030"
report_deadline = "01/12/2030"
"""

#: Runs a plan of [start instant or null, argv] steps through `workflow.cli.main`, in order,
#: and prints one JSON list of {code, stdout, stderr, t0, t1}.
DRIVER = """
import contextlib, io, json, sys, time
from workflow.cli import main

results = []
for at, argv in json.loads(sys.argv[1]):
    if at is not None:
        while time.time() < at - 0.01:
            time.sleep(0.005)
        while time.time() < at:
            pass
    out, err = io.StringIO(), io.StringIO()
    t0 = time.time()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
    t1 = time.time()
    results.append(
        {"argv": argv, "code": code, "stdout": out.getvalue(), "stderr": err.getvalue(),
         "t0": t0, "t1": t1}
    )
print(json.dumps(results))
"""


def driver(
    script: Path, url: str, plan: list[tuple[float | None, list[str]]]
) -> subprocess.Popen[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("THIDUA_")}
    env["THIDUA_DATABASE_URL"] = url
    env["THIDUA_LOG_LEVEL"] = "warning"
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.Popen(
        [sys.executable, str(script), json.dumps(plan)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


def results(process: subprocess.Popen[str]) -> list[dict[str, Any]]:
    try:
        stdout, stderr = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    assert process.returncode == 0, f"the driver failed:\n{stdout}\n{stderr}"
    parsed: list[dict[str, Any]] = json.loads(stdout)
    return parsed


def batch(script: Path, url: str, *commands: list[str]) -> list[dict[str, Any]]:
    """Run `commands` one after the other in one process; each must succeed."""
    done = results(driver(script, url, [(None, command) for command in commands]))
    for result in done:
        assert result["code"] == 0, f"{result['argv']} exited {result['code']}: {result['stderr']}"
    return done


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def test_two_approvers_racing_on_one_nomination_one_wins_one_conflicts_one_audit_entry(
    db_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    script = tmp_path / "driver.py"
    script.write_text(DRIVER, encoding="utf-8")
    world = tmp_path / "world.toml"
    world.write_text(WORLD, encoding="utf-8")

    registered = batch(
        script,
        db_url,
        ["load", str(world), "--as", "quantri"],
        *(
            [
                "register",
                "--as",
                "hung",
                "--campaign",
                "HCM-2030",
                "--unit",
                "26734",
                "--kind",
                "collective",
                "--nominee",
                f"Tổ Một cửa số {n}",
                "--title",
                "Số hoá hồ sơ thủ tục hành chính",
                "--area",
                "thu_tuc_hanh_chinh",
                "--json",
            ]
            for n in range(RACES)
        ),
    )
    ids = [str(json.loads(result["stdout"])["id"]) for result in registered[1:]]
    reported = batch(
        script,
        db_url,
        *(
            [trigger, number, "--as", "hung", "--json"]
            for number in ids
            for trigger in ("implement", "report")
        ),
    )
    for result in reported[1::2]:
        assert (json.loads(result["stdout"])["awaiting"]) == "commune"

    start = time.time() + LEAD
    racers = {
        who: driver(
            script,
            db_url,
            [
                (start + k * SLOT, ["approve", number, "--as", who, "--json"])
                for k, number in enumerate(ids)
            ],
        )
        for who in ("son", "binh")
    }
    try:
        outcomes = {who: results(process) for who, process in racers.items()}
    finally:
        for process in racers.values():
            if process.poll() is None:
                process.kill()
                process.communicate()

    with engine.connect() as connection:
        people: dict[str, int] = dict(
            connection.execute(sa.text("SELECT username, id FROM persons")).all()
        )
    overlapping = 0
    for k, number in enumerate(ids):
        son, binh = outcomes["son"][k], outcomes["binh"][k]
        assert sorted((son["code"], binh["code"])) == [0, 5], (
            f"nomination {number}: son exited {son['code']} ({son['stderr']!r}), "
            f"binh exited {binh['code']} ({binh['stderr']!r})"
        )
        winner, loser = ("son", son), ("binh", binh)
        if son["code"] != 0:
            winner, loser = loser, winner
        overlapping += max(son["t0"], binh["t0"]) < min(son["t1"], binh["t1"])

        assert json.loads(winner[1]["stdout"])["state"] == "commune_reviewed"
        assert loser[1]["stdout"] == ""
        error = json.loads(loser[1]["stderr"])
        assert error["error"] in {"conflict", "invalid_transition"}
        assert f"nomination {number}" in error["message"]

        with engine.connect() as connection:
            state, awaiting, signoffs = connection.execute(
                sa.text("SELECT state, awaiting, signoffs FROM nominations WHERE id = :id"),
                {"id": int(number)},
            ).one()
            approvals = connection.execute(
                sa.text(
                    "SELECT actor_id, from_state, to_state FROM audit_log "
                    "WHERE stream = :stream AND trigger = 'approve'"
                ),
                {"stream": f"nomination:{number}"},
            ).all()
        signoffs = json.loads(signoffs) if isinstance(signoffs, str) else signoffs
        assert (state, awaiting) == ("commune_reviewed", "province")
        assert signoffs == {"commune": [people[winner[0]]]}
        assert [tuple(row) for row in approvals] == [
            (people[winner[0]], "reported", "commune_reviewed")
        ]

    # The two commands of a race ran at the same time (not one after the other) at least once.
    assert overlapping >= 1
    assert Service(engine).verify().ok
