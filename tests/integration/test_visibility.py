"""What a person may read (workflow.visibility): the units their roles reach, their council's
campaign, and what a delegation lends while it is in force — and nothing else."""

from __future__ import annotations

import pytest

from tests.conftest import vn
from tests.integration.helpers import HCM, Q12, register_ward
from workflow.clock import FixedClock
from workflow.errors import Forbidden, NotFound
from workflow.service import Service


def ids(service: Service, reader: str) -> set[int]:
    return {view.id for view in service.list_nominations(reader=reader, limit=200)}


def test_roles_reach_their_unit_and_the_units_below(world: Service) -> None:
    thanh_xuan = register_ward(world).id
    hiep_thanh = register_ward(world, officer="mai.hiepthanh", unit="26740").id
    assert ids(world, "chutich.thanhxuan") == {thanh_xuan}
    assert ids(world, "chutich.hiepthanh") == {hiep_thanh}
    assert ids(world, "chutich.q12") == {thanh_xuan, hiep_thanh}
    assert ids(world, "thanhtra.q12") == {thanh_xuan, hiep_thanh}
    assert ids(world, "chutich.linhtrung") == set()
    with pytest.raises(Forbidden, match="Phường Hiệp Thành") as caught:
        world.show(hiep_thanh, reader="chutich.thanhxuan")
    assert caught.value.rule == "unit_scope"
    with pytest.raises(Forbidden):
        world.history(hiep_thanh, reader="chutich.thanhxuan")
    with pytest.raises(NotFound):
        world.show(999, reader="chutich.thanhxuan")


def test_a_council_member_reads_every_dossier_of_the_councils_campaign_only(
    world: Service,
) -> None:
    world.add_person("hd.q12", "Thành viên Hội đồng")
    world.set_council(
        "quantri",
        campaign=Q12,
        level="district",
        members=["chutich.q12", "pho.q12", "hd.q12"],
        threshold="2/3",
    )
    in_campaign = register_ward(world).id
    other = register_ward(world, campaign=HCM, officer="khoa.linhtrung", unit="26800").id
    assert ids(world, "hd.q12") == {in_campaign}
    assert world.show(in_campaign, reader="hd.q12").id == in_campaign
    assert world.council_status(in_campaign, reader="hd.q12")["votes"] == []
    with pytest.raises(Forbidden):
        world.show(other, reader="hd.q12")


def test_a_delegation_lends_its_reach_only_while_in_force(
    world: Service, clock: FixedClock
) -> None:
    world.add_person("vu.q12", "Trần Minh Vũ")
    hiep_thanh = register_ward(world, officer="mai.hiepthanh", unit="26740").id
    made = world.delegate("chutich.hiepthanh", to="vu.q12", starts="01/06/2022", until="15/06/2022")
    assert ids(world, "vu.q12") == set()
    with pytest.raises(Forbidden):
        world.show(hiep_thanh, reader="vu.q12")
    clock.set(vn(1, 6))
    assert ids(world, "vu.q12") == {hiep_thanh}
    assert world.show(hiep_thanh, reader="vu.q12").id == hiep_thanh
    clock.set(vn(16, 6, hour=0))
    assert ids(world, "vu.q12") == set()
    clock.set(vn(10, 6))
    world.revoke_delegation("chutich.hiepthanh", made["id"])
    assert ids(world, "vu.q12") == set()
    with pytest.raises(Forbidden):
        world.show(hiep_thanh, reader="vu.q12")
