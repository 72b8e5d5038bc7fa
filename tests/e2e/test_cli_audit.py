"""`thidua audit …` as an auditor runs it: keys, checkpoint, verify, replay and export."""

from __future__ import annotations

import csv
import json
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.e2e.cli import ok, thidua
from workflow.cli import AUDIT_BROKEN
from workflow.db import make_engine

pytestmark = pytest.mark.slow


def test_an_auditor_signs_a_checkpoint_and_later_finds_the_cut_tail(
    db_url: str, tmp_path: Path
) -> None:
    ok(thidua(db_url, "demo"))
    keys = tmp_path / "keys"
    made = json.loads(ok(thidua(db_url, "audit", "keygen", "--out", str(keys), "--json")))
    private, public = Path(made["private_key"]), Path(made["public_key"])
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert "PUBLIC KEY" in public.read_text(encoding="ascii")
    refused = thidua(db_url, "audit", "keygen", "--out", str(keys))
    assert refused.returncode == 2
    assert "exists already" in refused.stderr

    checkpoint = tmp_path / "checkpoint.json"
    signed = json.loads(
        ok(
            thidua(
                db_url,
                "audit",
                "checkpoint",
                "--key",
                str(private),
                "--out",
                str(checkpoint),
                "--json",
            )
        )
    )
    assert signed["count"] == 22
    verified = ok(
        thidua(
            db_url, "audit", "verify", "--checkpoint", str(checkpoint), "--public-key", str(public)
        )
    )
    assert "audit log intact: 22 entries" in verified

    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
            else:
                connection.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
            connection.execute(sa.text("DELETE FROM audit_log WHERE id = 22"))
    finally:
        engine.dispose()
    broken = thidua(
        db_url,
        "audit",
        "verify",
        "--checkpoint",
        str(checkpoint),
        "--public-key",
        str(public),
        "--json",
    )
    assert broken.returncode == AUDIT_BROKEN
    report = json.loads(broken.stdout)
    assert report["ok"] is False
    streams = {b["stream"] for b in report["breaks"]}
    assert "log" in streams
    assert any(b["why"].endswith("(the tail was cut)") for b in report["breaks"])


def test_replay_and_export_from_the_command_line(db_url: str, tmp_path: Path) -> None:
    ok(thidua(db_url, "demo"))
    replayed = json.loads(ok(thidua(db_url, "audit", "replay", "--json")))
    assert replayed == {"ok": True, "entries": 21, "nominations": 4, "differences": []}
    as_of = json.loads(
        ok(
            thidua(
                db_url,
                "audit",
                "replay",
                "--as-of",
                "01/12/2022",
                "--campaign",
                "Q12-CCHC-2022",
                "--json",
            )
        )
    )
    assert {n["replayed"] for n in as_of["nominations"]} == {"reported", "implemented"}
    text = ok(thidua(db_url, "audit", "replay", "--as-of", "01/12/2022 00:00"))
    assert text.startswith("states as of 01/12/2022 00:00 (Vietnam time)")

    out = tmp_path / "q12.csv"
    ok(
        thidua(
            db_url,
            "audit",
            "export",
            "--campaign",
            "Q12-CCHC-2022",
            "--format",
            "csv",
            "--out",
            str(out),
        )
    )
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 22
    assert any(r["reason"] == "Đã bổ sung số liệu và minh chứng" for r in rows)

    bad = thidua(db_url, "audit", "replay", "--as-of", "31/02/2022", "--json")
    assert bad.returncode == 2
    assert json.loads(bad.stderr)["error"] == "invalid_input"
