"""Units, people and roles: the unit tree, its checks, and today's units from vietnam-provinces."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import snapshot
from workflow.directory import vietnam_units
from workflow.errors import InvalidInput, NotFound
from workflow.service import Service


def test_todays_units_import_as_a_two_tier_tree(service: Service, engine: sa.Engine) -> None:
    records = list(vietnam_units(79))
    seen: list[int] = []
    assert service.import_units(records, seen.append) == len(records)
    units = {unit["code"]: unit for unit in service.units()}
    assert units["79"]["level"] == "province"
    assert units["79"]["name"] == "Thành phố Hồ Chí Minh"
    communes = [u for u in units.values() if u["level"] == "commune"]
    assert len(communes) == len(records) - 1 > 100
    assert all(u["depth"] == 1 for u in communes)
    assert seen == list(range(500, len(records) + 1, 500))


def test_the_whole_country_has_34_provinces_and_3321_communes() -> None:
    records = list(vietnam_units())
    assert sum(r["level"] == "province" for r in records) == 34
    assert sum(r["level"] == "commune" for r in records) == 3321


def test_a_unit_tree_refuses_bad_links_and_writes_nothing(
    service: Service, engine: sa.Engine
) -> None:
    service.add_unit("79", "Thành phố Hồ Chí Minh", "province")
    service.add_unit("761", "Quận 12", "district", parent="79")
    before = snapshot(engine)
    cases: list[tuple[type[Exception], tuple[str, ...], str]] = [
        (InvalidInput, ("79", "Trùng", "province"), "exists already"),
        (NotFound, ("1", "Mồ côi", "commune", "999"), "999"),
        (InvalidInput, ("2", "Tỉnh dưới quận", "province", "761"), "cannot sit under"),
        (
            InvalidInput,
            ("3", "Phòng lệch cấp", "commune", "761", "agency"),
            "sits at level 'district'",
        ),
        (InvalidInput, ("4", "Phòng không cha", "district", "", "agency"), "needs the unit"),
        (InvalidInput, ("5", "Cấp lạ", "hamlet"), "hamlet"),
        (InvalidInput, ("mã có dấu", "Mã lạ", "commune", "761"), "may hold only"),
    ]
    for error, args, match in cases:
        with pytest.raises(error, match=match):
            service.add_unit(*args)
    assert snapshot(engine) == before


def test_people_and_roles_are_checked(service: Service, engine: sa.Engine) -> None:
    service.add_unit("761", "Quận 12", "district")
    service.add_unit("761-PNV", "Phòng Nội vụ", "district", parent="761", kind="agency")
    service.add_person("lan", "Nguyễn Thị Lan", "lan@example.vn")
    before = snapshot(engine)
    with pytest.raises(InvalidInput, match="exists already"):
        service.add_person("lan", "Trùng tên")
    with pytest.raises(InvalidInput, match="not an e-mail"):
        service.add_person("minh", "Minh", "minh.example.vn")
    with pytest.raises(InvalidInput, match="'chairman' is not one of"):
        service.grant_role("lan", "chairman", "761")
    with pytest.raises(NotFound, match="khong"):
        service.grant_role("khong", "officer", "761")
    with pytest.raises(InvalidInput, match="agency"):
        service.grant_role("lan", "approver", "761-PNV")
    assert snapshot(engine) == before
    service.grant_role("lan", "officer", "761-PNV")
    with pytest.raises(InvalidInput, match="already"):
        service.grant_role("lan", "officer", "761-PNV")
