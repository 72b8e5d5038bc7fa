"""The deadline commands through the real `thidua` command line (SQLite file, real processes)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cli import as_json
from tests.e2e.cli import thidua as run_cli

pytestmark = pytest.mark.slow

SAMPLE = Path(__file__).parents[2] / "workflow" / "sample" / "quan12.toml"


def thidua(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(db, *args, log_level="warning", timeout=60)


def ok(db: str, *args: str) -> Any:
    return as_json(run_cli(db, *args, "--json", log_level="warning", timeout=60, code=0))


def test_set_deadline_tick_and_escalations_from_the_command_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'thidua.sqlite3'}"
    ok(db, "load", str(SAMPLE), "--as", "quantri")
    changed = ok(
        db,
        "campaign",
        "set-deadline",
        "Q12-CCHC-2022",
        "--report",
        "15/12/2022 17:30",
        "--review-days",
        "5",
        "--reminders",
        "3,1",
        "--as",
        "quantri",
    )
    assert changed == {
        "campaign": "Q12-CCHC-2022",
        "registration_deadline": "05/05/2022 00:00",
        "report_deadline": "15/12/2022 17:30",
        "review_days": 5,
        "reminder_days": [3, 1],
    }
    swept = ok(db, "tick", "--now", "05/05/2022 00:00")
    assert swept["closed"] == ["Q12-CCHC-2022"]
    assert ok(db, "tick", "--now", "05/05/2022 00:00")["closed"] == []
    assert ok(db, "escalations") == []
    assert ok(db, "reminders") == []
    assert isinstance(ok(db, "deadlines"), list)
    verify = ok(db, "audit", "verify")
    assert verify["ok"] is True


def test_deadline_commands_refuse_bad_input_with_their_exit_codes(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'thidua.sqlite3'}"
    ok(db, "load", str(SAMPLE), "--as", "quantri")
    late = thidua(
        db, "campaign", "set-deadline", "Q12-CCHC-2022", "--registration", "01/01/2030",
        "--as", "quantri", "--json",
    )  # fmt: skip
    assert late.returncode == 3
    assert json.loads(late.stderr.strip().splitlines()[-1])["error"] == "deadline_passed"
    bad = thidua(db, "tick", "--now", "31/02/2022", "--json")
    assert bad.returncode == 2
    assert "31/02/2022" in bad.stderr
    unknown = thidua(db, "campaign", "set-deadline", "NOPE", "--report", "01/01/2030", "--as",
                     "quantri")  # fmt: skip
    assert unknown.returncode == 4
    reminders = thidua(db, "campaign", "set-deadline", "Q12-CCHC-2022", "--reminders", "x",
                       "--as", "quantri")  # fmt: skip
    assert reminders.returncode == 2
