"""Award rounds through the real CLI, on both backends: scores, ranking, a batch decision
refused over the quota and then issued, the decision's dossiers, a revocation.

The nominations are brought to the province's sign-off through the service on a fixed clock
(the CLI runs on the real clock); every command below is the `thidua` executable.
"""

from __future__ import annotations

import json
import subprocess

import pytest
import sqlalchemy as sa

from tests.conftest import snapshot, vn
from tests.e2e.cli import ok
from tests.e2e.cli import thidua as run_cli
from tests.integration.test_an_giang import AN_GIANG, CAMPAIGN, FORM, province_reviewed, scored
from workflow.clock import FixedClock
from workflow.service import Service

pytestmark = pytest.mark.slow


def thidua(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(url, *args, log_level="warning")


def test_scores_ranking_batch_award_decision_and_revocation_from_the_command_line(
    db_url: str, engine: sa.Engine
) -> None:
    clock = FixedClock(vn(15, 4, 2024))
    service = Service(engine, clock)
    service.load(AN_GIANG, actor="admin.ag")
    views = province_reviewed(service, clock)
    scored(service, views)
    collectives = [str(v.id) for v in views[:5]]

    done = json.loads(
        ok(
            thidua(
                db_url,
                *("score", collectives[4], "--criterion", "lan_toa", "--points", "20"),
                *("--as", "pho.ag", "--json"),
            )
        )
    )
    assert done == {"nomination": int(collectives[4]), "criterion": "lan_toa", "points": 20}
    ranking = json.loads(
        ok(thidua(db_url, "ranking", "--campaign", CAMPAIGN, "--kind", "collective", "--json"))
    )
    assert [(r["rank"], r["total"]) for r in ranking] == [
        (1, 85),
        (2, 80),
        (2, 80),
        (4, 65),
        (4, 65),
    ]
    text = ok(thidua(db_url, "ranking", "--campaign", CAMPAIGN, "--round", "2024"))
    assert text.splitlines()[0].split()[:4] == ["round", "kind", "rank", "total"]

    clock.set(vn(1, 11, 2024))
    service.publish("chutich.ag", collectives, form=FORM)
    award = ("award", *collectives, "--number", "163/QĐ-UBND", "--date", "12/12/2024")
    before = snapshot(engine)
    over = thidua(db_url, *award, "--form", FORM, "--as", "chutich.ag", "--json")
    assert over.returncode == 3
    assert json.loads(over.stderr) | {"message": ""} == {
        "error": "quota_exceeded",
        "rule": "quota",
        "message": "",
    }
    assert snapshot(engine) == before
    decision = json.loads(
        ok(thidua(db_url, *award[:5], *award[6:], "--form", FORM, "--as", "chutich.ag", "--json"))
    )
    assert decision["nominations"] == [int(i) for i in collectives[:4]]

    shown = json.loads(ok(thidua(db_url, "decision", "show", "163/QĐ-UBND", "--json")))
    assert [d["nomination"]["state"] for d in shown[0]["dossiers"]] == ["awarded"] * 4
    text = ok(thidua(db_url, "decision", "show", "163/QĐ-UBND"))
    # The provincial council decides: the vote that reached 2 of 3 signs the level off.
    assert "signed at province by Đoàn Thị Mai" in text
    assert "vote at province: Lê Văn Phước (pho.ag) approve «Đề nghị khen thưởng»" in text
    revoked = json.loads(
        ok(
            thidua(
                db_url,
                *("revoke", collectives[0], "--number", "5/QĐ-UBND", "--date", "15/03/2025"),
                *("--reason", "Kê khai không trung thực", "--as", "chutich.ag", "--json"),
            )
        )
    )
    assert revoked["state"] == "revoked"
    missing = thidua(db_url, "decision", "show", "999/QĐ-UBND", "--json")
    assert missing.returncode == 4
