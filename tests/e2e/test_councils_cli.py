"""Councils and delegation through the real `thidua` command line (SQLite).

The CLI reads the real clock: the campaign's deadlines lie in 2030 and the delegation runs from
today to the end of 2030.
"""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from tests.e2e.cli import as_json, error_of
from tests.e2e.cli import thidua as run_cli
from workflow.timeutil import VIETNAM

pytestmark = pytest.mark.slow

WORLD = """
[[units]]
code = "89"
name = "Tỉnh An Giang"
level = "province"

[[units]]
code = "89-SNV"
name = "Sở Nội vụ tỉnh An Giang"
level = "province"
kind = "agency"
parent = "89"

[[people]]
username = "quantri.ag"
name = "Quản trị tỉnh An Giang"
roles = [{ role = "admin", unit = "89" }]

[[people]]
username = "chau.snv"
name = "Nguyễn Thị Minh Châu"
roles = [{ role = "officer", unit = "89-SNV" }]

[[people]]
username = "chutich.ag"
name = "Nguyễn Thanh Bình"
roles = [{ role = "approver", unit = "89" }]

[[people]]
username = "pho.ag"
name = "Lê Văn Nưng"

[[people]]
username = "hd.mattran"
name = "Võ Thị Ánh Xuân"

[[people]]
username = "hd.congdoan"
name = "Đặng Minh Tâm"

[[people]]
username = "thuky.hd"
name = "Nguyễn Thị Thư Ký"

[[campaigns]]
code = "AG-2030"
name = "Thi đua đẩy mạnh cải cách hành chính tỉnh An Giang năm 2030"
issuing_unit = "89"
registration_deadline = "05/05/2030"
report_deadline = "01/12/2030"
"""


def thidua(db: str, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    return run_cli(db, *args, log_level="warning", code=code)


def test_a_council_votes_and_a_substitute_signs_through_the_cli(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'thidua.sqlite3'}"
    world = tmp_path / "an-giang.toml"
    world.write_text(WORLD, encoding="utf-8")
    thidua(db, "load", str(world), "--as", "quantri.ag")
    council = as_json(
        thidua(
            db,
            *("council", "set", "--as", "quantri.ag", "--campaign", "AG-2030"),
            *("--level", "province", "--members", "pho.ag,hd.mattran,hd.congdoan,chutich.ag"),
            *("--threshold", "3/4", "--json"),
        )
    )
    assert (council["threshold"], council["required"]) == ("3/4", 3)
    registered = as_json(
        thidua(
            db,
            *("register", "--as", "chau.snv", "--campaign", "AG-2030", "--unit", "89-SNV"),
            *("--kind", "collective", "--nominee", "Phòng Cải cách hành chính"),
            *("--title", "Một cửa liên thông điện tử", "--area", "chinh_quyen_so", "--json"),
        )
    )
    number = str(registered["id"])
    thidua(db, "implement", number, "--as", "chau.snv")
    thidua(db, "report", number, "--as", "chau.snv")

    error = error_of(thidua(db, "approve", number, "--as", "chutich.ag", "--json", code=3))
    assert error["rule"] == "council"
    error = error_of(thidua(db, "vote", number, "--as", "thuky.hd", "--approve", "--json", code=3))
    assert error["rule"] == "council_member"

    shown = as_json(
        thidua(db, "vote", number, "--as", "pho.ag", "--approve", "--comment", "Đồng ý", "--json")
    )
    assert shown["state"] == "reported"
    assert shown["council"]["tally"]["approve"] == 1
    thidua(db, "vote", number, "--as", "hd.mattran", "--reject", "--comment", "Chưa đạt")

    today = datetime.now(VIETNAM).strftime("%d/%m/%Y")
    delegation = as_json(
        thidua(
            db,
            *("delegate", "--as", "hd.congdoan", "--to", "thuky.hd"),
            *("--from", today, "--until", "31/12/2030", "--json"),
        )
    )
    assert (delegation["delegator"], delegation["substitute"]) == ("hd.congdoan", "thuky.hd")
    thidua(db, "vote", number, "--as", "thuky.hd", "--approve", "--for", "hd.congdoan")
    done = as_json(thidua(db, "vote", number, "--as", "chutich.ag", "--approve", "--json"))
    assert done["state"] == "province_reviewed"
    assert [vote["member"] for vote in done["votes"]] == [
        "pho.ag",
        "hd.mattran",
        "hd.congdoan",
        "chutich.ag",
    ]

    history = thidua(db, "history", number).stdout
    assert "voted" in history and "reject (member hd.mattran)" in history
    assert "on behalf of Đặng Minh Tâm (hd.congdoan)" in history
    assert "«Chưa đạt»" in history
    shown_text = thidua(db, "show", number).stdout
    assert "vote province: hd.congdoan (cast by thuky.hd) approve" in shown_text
    listed = as_json(thidua(db, "delegation", "list", "--as", "thuky.hd", "--json"))
    assert [d["id"] for d in listed] == [delegation["id"]]
    revoked = as_json(
        thidua(db, "delegation", "revoke", str(delegation["id"]), "--as", "hd.congdoan", "--json")
    )
    assert revoked["revoked_at"] is not None
    assert "intact" in thidua(db, "audit", "verify").stdout
