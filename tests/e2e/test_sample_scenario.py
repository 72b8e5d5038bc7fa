"""`thidua demo`: the Quận 12 (2022) sample played end to end by the real CLI, on both backends.

Its story: a registration at 00:00 on 05/05/2022 comes too late, so does one report; one
nomination is returned once and resubmitted; three are awarded by decision 163/QĐ-UBND; the audit
log stays intact. Run twice, it loads nothing the second time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.conftest import snapshot
from tests.e2e.cli import ok, thidua
from workflow.db import make_engine

pytestmark = pytest.mark.slow

CAMPAIGN = "Q12-CCHC-2022"


def nomination_lines(stdout: str) -> dict[int, tuple[str, str]]:
    """The demo's "Nominations:" block: id → (state, the rest of the line)."""
    block = stdout.split("\nNominations:\n", 1)[1].split("\n\n", 1)[0]
    found: dict[int, tuple[str, str]] = {}
    for line in block.splitlines():
        match = re.fullmatch(r"  #(\d+) (\S+)\s+(.*)", line)
        assert match, f"unexpected line in the nominations block: {line!r}"
        found[int(match[1])] = (match[2], match[3])
    return found


def history_triggers(stdout: str) -> list[str]:
    block = stdout.split("\nHistory of #", 1)[1].split("\n\n", 1)[0]
    return [line.split()[2] for line in block.splitlines()[1:]]


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def test_the_demo_plays_the_quan_12_story_once_and_leaves_an_intact_audit_log(
    db_url: str, engine: sa.Engine
) -> None:
    first = ok(thidua(db_url, "demo"))

    # The registration at midnight of the deadline day is refused, and so is the late report.
    assert re.search(
        r"05/05/2022 00:00  a registration at 00:00 on 05/05/2022\n"
        r"    refused \(deadline_passed\): registration for campaign Q12-CCHC-2022 closed at "
        r"05/05/2022 00:00 \(Vietnam time\); it is now 05/05/2022 00:00:00\n",
        first,
    ), first
    late = re.search(
        r"02/12/2022 08:30  Phường Thới An reports #(\d+) after the deadline\n"
        r"    refused \(deadline_passed\): reports for campaign Q12-CCHC-2022 closed at "
        r"01/12/2022 00:00 \(Vietnam time\)",
        first,
    )
    assert late, first
    late_id = int(late[1])

    # Three awarded; the late one stays implemented — it was never reported.
    nominations = nomination_lines(first)
    assert sorted(state for state, _ in nominations.values()) == ["awarded"] * 3 + ["implemented"]
    assert nominations[late_id][0] == "implemented"
    assert nominations[late_id][1].endswith("Phường Thới An: Công ty TNHH Thới An Xanh")

    # The history shown is the returned nomination's: returned once, then resubmitted.
    triggers = history_triggers(first)
    assert triggers == [
        "register",
        "implement",
        "report",
        "approve",
        "return",
        "resubmit",
        "approve",
        "award",
    ]
    assert re.search(r"\nAudit log: \d+ entries, intact\n", first), first
    assert "BROKEN" not in first

    # A second run finds the campaign and changes nothing at all.
    before = snapshot(engine)
    second = ok(thidua(db_url, "demo"))
    assert f"The sample campaign {CAMPAIGN} is loaded already" in second
    assert "Loaded " not in second and "refused" not in second
    assert nomination_lines(second) == nominations
    assert snapshot(engine) == before
    assert len(before["nominations"]) == 4
    assert len(before["campaigns"]) == 1

    listed = json.loads(ok(thidua(db_url, "list", "--campaign", CAMPAIGN, "--json")))
    assert len(listed) == 4
    assert {item["id"]: item["state"] for item in listed} == {
        number: state for number, (state, _) in nominations.items()
    }

    report = json.loads(ok(thidua(db_url, "audit", "verify", "--json")))
    assert report["ok"] is True
    assert report["breaks"] == []
    assert report["entries"] == len(before["audit_log"])


def test_a_history_shows_vietnam_time_with_seconds(db_url: str) -> None:
    ok(thidua(db_url, "demo"))
    history = ok(thidua(db_url, "history", "2"))
    lines = [line for line in history.splitlines() if not line.lstrip().startswith("«")]
    stamps = [
        re.fullmatch(r"\s+(\d+)  (\d\d/\d\d/\d{4} \d\d:\d\d:\d\d)  (\S+)\s.*", line)
        for line in lines
    ]
    assert all(stamps), history
    # 09:00 in Hồ Chí Minh City, stored as 02:00 UTC.
    assert [(m[1], m[2], m[3]) for m in stamps if m][:3] == [
        ("1", "25/04/2022 09:00:00", "register"),
        ("2", "15/06/2022 09:00:00", "implement"),
        ("3", "25/11/2022 09:00:00", "report"),
    ]
    assert "12/12/2022 15:00:00  award" in history
