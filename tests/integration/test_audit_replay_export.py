"""Auditors replay the decision history as of any instant and export it, Vietnamese kept exactly."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from tests.conftest import vn
from tests.integration.helpers import HCM, register_ward
from tests.integration.test_audit import allow_tampering
from workflow.clock import FixedClock
from workflow.errors import InvalidInput, NotFound
from workflow.export import COLUMNS
from workflow.service import Service
from workflow.timeutil import parse_instant


@pytest.fixture
def story(world: Service, clock: FixedClock) -> int:
    """One nomination: registered 20/04, implemented 25/04, reported 30/04/2022 (09:00)."""
    view = register_ward(world)
    clock.set(vn(25, 4))
    world.implement("hung.thanhxuan", view.id)
    clock.set(vn(30, 4))
    world.report("hung.thanhxuan", view.id)
    return view.id


def states(service: Service, as_of: str | None = None, campaign: str | None = None) -> Any:
    instant = parse_instant(as_of) if as_of else None
    return {n.nomination: n.replayed for n in service.replay(instant, campaign).nominations}


def test_replay_as_of_an_instant_gives_each_state_at_that_instant(
    world: Service, story: int
) -> None:
    assert states(world, "20/04/2022 08:59") == {story: None}
    assert states(world, "20/04/2022 09:00") == {story: "registered"}
    assert states(world, "26/04/2022") == {story: "implemented"}
    assert states(world, "30/04/2022 09:00") == {story: "reported"}


def test_replay_now_matches_every_stored_state(world: Service, story: int) -> None:
    report = world.replay()
    assert report.entries == 3
    assert [(n.nomination, n.replayed, n.stored) for n in report.nominations] == [
        (story, "reported", "reported")
    ]
    assert report.differences == []


def test_replay_reports_a_stored_state_its_entries_do_not_give(
    world: Service, engine: sa.Engine, story: int
) -> None:
    allow_tampering(engine)
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE nominations SET state = 'district_reviewed' WHERE id = :i"),
            {"i": story},
        )
    [difference] = world.replay().differences
    assert (difference.nomination, difference.replayed, difference.stored) == (
        story,
        "reported",
        "district_reviewed",
    )


def test_replay_of_one_campaign_lists_only_its_nominations(world: Service, story: int) -> None:
    other = register_ward(world, campaign=HCM)
    assert states(world, campaign=HCM) == {other.id: "registered"}
    with pytest.raises(NotFound, match="KHONG-CO"):
        world.replay(campaign="KHONG-CO")


@pytest.fixture
def returned(world: Service, story: int) -> int:
    world.approve("chutich.thanhxuan", story, "Đạt yêu cầu")
    world.return_for_supplement("chutich.q12", story, "Bổ sung minh chứng “số hoá” — lần 1")
    return story


def test_export_as_json_lines_keeps_every_field_and_the_vietnamese_text(
    world: Service, returned: int, tmp_path: Path
) -> None:
    out = tmp_path / "audit.jsonl"
    assert world.export_audit(str(out), "jsonl", nomination=returned) == 5
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [list(line) for line in lines] == [list(COLUMNS)] * 5
    first, last = lines[0], lines[-1]
    assert first["payload"]["nominee_name"] == "Bộ phận Một cửa"
    assert first["at_local"] == "20/04/2022 09:00:00"
    assert first["at_utc"] == "2022-04-20T02:00:00.000000Z"
    assert (last["trigger"], last["actor_name"], last["actor_role"]) == (
        "return",
        "Nguyễn Văn Đức",
        "approver",
    )
    assert last["reason"] == "Bổ sung minh chứng “số hoá” — lần 1"
    assert last["actor_unit"] == "761"
    assert last["actor_unit_name"] == "Quận 12"
    assert last["campaign"] == "Q12-CCHC-2022"
    assert last["prev_hash"] == lines[-2]["hash"]


def test_export_as_csv_reads_back_with_the_csv_module(
    world: Service, returned: int, tmp_path: Path
) -> None:
    out = tmp_path / "audit.csv"
    count = world.export_audit(str(out), "csv", campaign="Q12-CCHC-2022")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == count == 6  # the campaign's own entry and the nomination's five
    assert list(rows[0]) == list(COLUMNS)
    assert rows[0]["stream"].startswith("campaign:")
    assert rows[-1]["reason"] == "Bổ sung minh chứng “số hoá” — lần 1"
    assert json.loads(rows[1]["payload"])["title"] == "Số hoá hồ sơ thủ tục hành chính"
    assert rows[1]["reason"] == ""


def test_export_as_xlsx_reads_back_with_openpyxl(
    world: Service, returned: int, tmp_path: Path
) -> None:
    out = tmp_path / "audit.xlsx"
    assert world.export_audit(str(out), "xlsx") == 7  # two campaigns' entries and five
    sheet = load_workbook(out, read_only=True)["audit"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == COLUMNS
    record = dict(zip(COLUMNS, rows[-1], strict=True))
    assert record["reason"] == "Bổ sung minh chứng “số hoá” — lần 1"
    assert record["actor_unit_name"] == "Quận 12"
    assert record["at_local"] == "30/04/2022 09:00:00"


def test_export_of_an_unknown_nomination_or_format_is_refused(
    world: Service, story: int, tmp_path: Path
) -> None:
    with pytest.raises(NotFound, match="nomination 999"):
        world.export_audit(str(tmp_path / "x.csv"), "csv", nomination=999)
    with pytest.raises(InvalidInput, match="pdf"):
        world.export_audit(str(tmp_path / "x.pdf"), "pdf")
