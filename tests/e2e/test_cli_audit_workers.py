"""`thidua audit verify|replay --workers N`: the same report as one process, from N processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_cli_audit import ok, thidua

pytestmark = pytest.mark.slow


def test_verify_and_replay_with_two_workers_report_what_one_process_reports(db_url: str) -> None:
    ok(thidua(db_url, "demo"))
    alone = json.loads(ok(thidua(db_url, "audit", "verify", "--json")))
    shared = json.loads(ok(thidua(db_url, "audit", "verify", "--workers", "2", "--json")))
    assert shared == alone
    assert alone["ok"] is True
    replay_alone = json.loads(ok(thidua(db_url, "audit", "replay", "--json")))
    replay_shared = json.loads(ok(thidua(db_url, "audit", "replay", "--workers", "2", "--json")))
    assert (
        replay_shared
        == replay_alone
        == {
            "ok": True,
            "entries": 21,
            "nominations": 4,
            "differences": [],
        }
    )


def test_a_worker_count_below_one_or_beside_a_checkpoint_is_refused(
    db_url: str, tmp_path: Path
) -> None:
    ok(thidua(db_url, "demo"))
    none = thidua(db_url, "audit", "verify", "--workers", "0", "--json")
    assert none.returncode == 2
    assert "--workers must be 1 or more, not 0" in none.stdout + none.stderr
    beside = thidua(
        db_url,
        "audit",
        "verify",
        "--workers",
        "2",
        "--checkpoint",
        str(tmp_path / "cp.json"),
        "--public-key",
        str(tmp_path / "key.pub"),
    )
    assert beside.returncode == 2
    assert "leave out --workers" in beside.stderr
