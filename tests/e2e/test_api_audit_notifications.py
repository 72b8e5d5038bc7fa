"""The audit routes (verify, replay as of an instant, export as a download) for auditors and
admins, and the notification routes: the outbox and its retry for admins, channels for their
owner (or an admin)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from tests.conftest import vn
from tests.e2e.api import Api, api_over, error
from tests.integration.helpers import Q12, reported_ward
from workflow.clock import FixedClock
from workflow.service import Service


@pytest.fixture
def api(world: Service) -> Iterator[Api]:
    with api_over(world) as client:
        yield client


def test_verify_is_for_auditors_and_admins(api: Api, world: Service) -> None:
    reported_ward(world)
    report = api.get("thanhtra.q12", "/audit/verify").json()
    assert report == {"ok": True, "entries": report["entries"], "streams": 3, "breaks": []}
    assert report["entries"] == 5
    assert api.get("quantri", "/audit/verify").json()["ok"] is True
    body = error(api.get("chutich.q12", "/audit/verify"), 403, "forbidden", "role")
    assert "auditor" in body["message"]


def test_replay_as_of_an_instant_and_in_pages(api: Api, world: Service, clock: FixedClock) -> None:
    first = reported_ward(world).id
    clock.set(vn(21, 4))
    world.approve("chutich.thanhxuan", first)
    second = reported_ward(world, name="Tổ hai").id
    now = api.get("thanhtra.q12", "/audit/replay").json()
    assert (now["ok"], now["differences"], now["as_of"]) == (True, 0, None)
    assert [(i["nomination"], i["replayed"]) for i in now["items"]] == [
        (first, "commune_reviewed"),
        (second, "reported"),
    ]
    before = api.get("thanhtra.q12", "/audit/replay", as_of="20/04/2022 23:59", limit=1).json()
    assert before["as_of"] == "2022-04-20T16:59:00+00:00"
    assert [(i["nomination"], i["replayed"], i["stored"]) for i in before["items"]] == [
        (first, "reported", "commune_reviewed")
    ]
    assert before["next_offset"] == 1
    rest = api.get("thanhtra.q12", "/audit/replay", as_of="20/04/2022", offset=1).json()
    assert [i["replayed"] for i in rest["items"]] == [None]
    assert rest["next_offset"] is None
    scoped = api.get("thanhtra.q12", "/audit/replay", campaign=Q12).json()
    assert len(scoped["items"]) == 2
    error(api.get("thanhtra.q12", "/audit/replay", as_of="32/13/2022"), 422, "invalid_input")
    error(api.get("thanhtra.q12", "/audit/replay", as_of="hôm qua"), 422, "invalid_input")
    error(api.get("thanhtra.q12", "/audit/replay", campaign="KHONG"), 404, "not_found")
    error(api.get("chutich.q12", "/audit/replay"), 403, "forbidden", "role")


def test_export_downloads_a_nomination_a_campaign_or_the_log(api: Api, world: Service) -> None:
    number = reported_ward(world).id
    lines = api.get("thanhtra.q12", "/audit/export", nomination=number)
    assert lines.status_code == 200
    assert lines.headers["content-type"] == "application/x-ndjson"
    assert (
        lines.headers["content-disposition"]
        == f'attachment; filename="thidua-audit-nomination-{number}.jsonl"'
    )
    entries = [json.loads(line) for line in lines.text.splitlines()]
    assert [e["trigger"] for e in entries] == ["register", "implement", "report"]
    assert entries[0]["payload"]["nominee_name"] == "Bộ phận Một cửa"
    table = api.get("thanhtra.q12", "/audit/export", format="csv", campaign=Q12)
    assert table.headers["content-type"] == "text/csv; charset=utf-8"
    assert table.text.lstrip("\ufeff").splitlines()[0].startswith("entry_id,stream")
    assert len(table.text.strip().splitlines()) == 1 + 1 + 3  # header, campaign, nomination
    sheet = api.get("quantri", "/audit/export", format="xlsx")
    assert sheet.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    rows = list(load_workbook(io.BytesIO(sheet.content), read_only=True)["audit"].values)
    assert rows[0][0] == "entry_id" and len(rows) == 1 + 2 + 3
    error(api.get("quantri", "/audit/export", format="pdf"), 422, "invalid_input")
    error(
        api.get("quantri", "/audit/export", nomination=number, campaign=Q12),
        422,
        "invalid_input",
    )
    error(api.get("quantri", "/audit/export", nomination=999), 404, "not_found")
    error(api.get("quantri", "/audit/export", campaign="KHONG"), 404, "not_found")
    error(api.get("hung.thanhxuan", "/audit/export"), 403, "forbidden", "role")


def test_the_outbox_and_its_retry_are_for_admins(
    api: Api, world: Service, engine: sa.Engine
) -> None:
    number = reported_ward(world).id
    world.approve("chutich.thanhxuan", number)
    listed = api.get("quantri", "/notifications", limit=1).json()
    assert len(listed["items"]) == 1 and listed["next_offset"] == 1
    message = listed["items"][0]
    assert message["state"] == "pending"
    error(api.get("chutich.q12", "/notifications"), 403, "forbidden", "role")
    error(api.get("quantri", "/notifications", state="lost"), 422, "invalid_input")
    assert api.get("quantri", "/notifications", state="parked").json()["items"] == []
    path = f"/notifications/{message['id']}/retry"
    error(api.post("quantri", path), 409, "invalid_transition")
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE outbox SET parked_at = :at, attempts = 8 WHERE id = :id"),
            {"at": vn(20, 4).replace(tzinfo=None), "id": message["id"]},
        )
    parked = api.get("quantri", "/notifications", state="parked").json()["items"]
    assert [m["id"] for m in parked] == [message["id"]]
    error(api.post("chutich.q12", path), 403, "forbidden", "role")
    retried = api.post("quantri", path).json()
    assert retried == {"id": message["id"], "key": message["key"], "state": "pending"}
    error(api.post("quantri", "/notifications/99999/retry"), 404, "not_found")


def test_channels_are_ones_own_or_an_admins_to_set(api: Api) -> None:
    assert api.get("lan.pnv", "/me/channels").json() == [
        {
            "channel": "email",
            "address": "lan.pnv@quan12.example.vn",
            "enabled": True,
            "chosen": False,
        }
    ]
    made = api.put("lan.pnv", "/me/channels/email", {"address": "lan@quan12.example.vn"})
    assert made.json() == {
        "person": "lan.pnv",
        "channel": "email",
        "address": "lan@quan12.example.vn",
        "enabled": True,
    }
    assert api.get("lan.pnv", "/me/channels").json()[0]["chosen"] is True
    error(api.put("lan.pnv", "/me/channels/webhook", {}), 422, "invalid_input")
    error(api.put("lan.pnv", "/me/channels/pigeon", {}), 422, "invalid_input")
    error(
        api.put("lan.pnv", "/me/channels/email", {"address": "không-phải-email"}),
        422,
        "invalid_input",
    )
    body = error(
        api.get("hung.thanhxuan", "/people/lan.pnv/channels"), 403, "forbidden", "own_channels"
    )
    assert "lan.pnv" in body["message"]
    error(
        api.put("hung.thanhxuan", "/people/lan.pnv/channels/log", {"enabled": False}),
        403,
        "forbidden",
        "own_channels",
    )
    assert api.get("quantri", "/people/lan.pnv/channels").json()[0]["channel"] == "email"
    set_by_admin = api.put("quantri", "/people/lan.pnv/channels/log", {"enabled": True}).json()
    assert set_by_admin["person"] == "lan.pnv"
    assert api.get("lan.pnv", "/people/lan.pnv/channels").status_code == 200
    error(api.get("quantri", "/people/khong.co/channels"), 404, "not_found")
