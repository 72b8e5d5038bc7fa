"""Every command and guard of the service, on SQLite and PostgreSQL.

A refused command raises the error naming its rule and leaves every table as it was.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tests.conftest import vn
from tests.integration.helpers import (
    HCM,
    Q12,
    refused,
    register_ward,
    reported_ward,
    two_tier_world,
)
from workflow.clock import FixedClock
from workflow.errors import (
    DeadlinePassed,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
    Refused,
)
from workflow.service import Service


def entries(engine: sa.Engine, nomination_id: int) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT trigger, to_state FROM audit_log WHERE stream = :s ORDER BY seq"),
            {"s": f"nomination:{nomination_id}"},
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_a_ward_nomination_goes_commune_then_district_and_is_awarded(
    world: Service, engine: sa.Engine, clock: FixedClock
) -> None:
    view = reported_ward(world)
    assert view.chain == ("commune", "district")
    assert [v.id for v in world.inbox("chutich.thanhxuan")] == [view.id]
    assert world.inbox("chutich.q12") == []
    world.approve("chutich.thanhxuan", view.id, "Đạt")
    assert [v.id for v in world.inbox("chutich.q12")] == [view.id]
    world.approve("chutich.q12", view.id)
    clock.set(vn(12, 12))
    done = world.award(
        "chutich.q12", view.id, number="163/QĐ-UBND", date="12/12/2022", form="Giấy khen"
    )
    assert done.state == "awarded"
    assert (done.award_number, done.award_form) == ("163/QĐ-UBND", "Giấy khen")
    assert done.award_date is not None and f"{done.award_date:%d/%m/%Y}" == "12/12/2022"
    assert entries(engine, view.id) == [
        ("register", "registered"),
        ("implement", "implemented"),
        ("report", "reported"),
        ("approve", "commune_reviewed"),
        ("approve", "district_reviewed"),
        ("award", "awarded"),
    ]
    assert done.version == 6


def test_chains_follow_unit_and_campaign_levels(world: Service) -> None:
    assert register_ward(world, campaign=HCM).chain == ("commune", "district", "province")
    office = world.register(
        "lan.pnv",
        campaign=Q12,
        unit="761-PNV",
        nominee_kind="individual",
        nominee_name="Bà Ngọc",
        title="Sổ tay công vụ",
        area="che_do_cong_vu",
    )
    assert office.chain == ("district",)
    department = world.register(
        "vy.snv",
        campaign=HCM,
        unit="79-SNV",
        nominee_kind="collective",
        nominee_name="Phòng Cải cách hành chính",
        title="Bộ chỉ số",
        area="the_che",
    )
    assert department.chain == ("province",)


def test_a_two_tier_campaign_runs_commune_then_province(
    service: Service, clock: FixedClock
) -> None:
    clock.set(vn(2, 3, 2026))
    service.load(
        two_tier_world(
            province=("01", "Thành phố Hà Nội"),
            commune=("00070", "Phường Hoàn Kiếm"),
            people=[
                ("admin.hn", "Quản trị", "admin", "01"),
                ("cb.hk", "Cán bộ", "officer", "00070"),
                ("ct.hk", "Chủ tịch phường", "approver", "00070"),
                ("ct.hn", "Chủ tịch thành phố", "approver", "01"),
            ],
            campaign={
                "code": "HN-2026",
                "name": "Thi đua CCHC 2026",
                "issuing_unit": "01",
                "registration_deadline": "05/05/2026",
                "report_deadline": "01/12/2026",
            },
        ),
        actor="admin.hn",
    )
    view = register_ward(service, campaign="HN-2026", officer="cb.hk", unit="00070")
    assert view.chain == ("commune", "province")
    service.implement("cb.hk", view.id)
    service.report("cb.hk", view.id)
    service.approve("ct.hk", view.id)
    assert service.approve("ct.hn", view.id).state == "province_reviewed"
    done = service.award("ct.hn", view.id, number="12/QĐ-UBND", date="02/03/2026", form="Bằng khen")
    assert done.state == "awarded"


def test_registration_closes_at_midnight_vietnam_time(
    world: Service, engine: sa.Engine, clock: FixedClock
) -> None:
    clock.set(vn(4, 5, hour=23, minute=59, second=59))
    assert register_ward(world).state == "registered"
    clock.set(vn(5, 5, hour=0))
    error = refused(engine, DeadlinePassed, lambda: register_ward(world), "05/05/2022 00:00")
    assert isinstance(error, Refused) and error.rule == "registration_deadline"


def test_report_after_the_deadline_is_refused_even_without_a_sweep(
    world: Service, engine: sa.Engine, clock: FixedClock
) -> None:
    early, late = register_ward(world), register_ward(world, name="Tổ một cửa 2")
    world.implement("hung.thanhxuan", early.id)
    world.implement("hung.thanhxuan", late.id)
    clock.set(vn(30, 11, hour=23, minute=59, second=59))
    assert world.report("hung.thanhxuan", early.id).state == "reported"
    clock.set(vn(1, 12, hour=0, second=1))
    refused(engine, DeadlinePassed, lambda: world.report("hung.thanhxuan", late.id), "01/12/2022")


def test_registration_needs_an_officer_of_the_unit(world: Service, engine: sa.Engine) -> None:
    error = refused(engine, Forbidden, lambda: register_ward(world, officer="chutich.thanhxuan"))
    assert isinstance(error, Refused) and error.rule == "role"
    error = refused(
        engine,
        Forbidden,
        lambda: register_ward(world, officer="mai.hiepthanh"),
        "does not cover Phường Thạnh Xuân",
    )
    assert isinstance(error, Refused) and error.rule == "unit_scope"


def test_registration_checks_the_campaign_and_its_choices(
    world: Service, engine: sa.Engine
) -> None:
    refused(
        engine,
        Refused,
        lambda: register_ward(world, officer="khoa.linhtrung", unit="26800"),
        "not within the issuing unit",
    )
    refused(engine, NotFound, lambda: register_ward(world, campaign="KHONG-CO"), "KHONG-CO")
    refused(engine, NotFound, lambda: register_ward(world, unit="99999"), "99999")
    refused(
        engine,
        InvalidInput,
        lambda: world.register(
            "hung.thanhxuan",
            campaign=Q12,
            unit="26734",
            nominee_kind="collective",
            nominee_name="X",
            title="Y",
            area="khong_co",
        ),
        "khong_co",
    )
    refused(
        engine,
        InvalidInput,
        lambda: world.register(
            "hung.thanhxuan",
            campaign=Q12,
            unit="26734",
            nominee_kind="alien",
            nominee_name="X",
            title="Y",
            area="the_che",
        ),
        "alien",
    )
    refused(engine, InvalidInput, lambda: register_ward(world, name="   "), "must not be empty")
    refused(engine, InvalidInput, lambda: register_ward(world, name="x" * 201), "201 characters")
    refused(engine, NotFound, lambda: register_ward(world, officer="khong.co"), "khong.co")


def test_the_proposer_never_approves(world: Service, engine: sa.Engine) -> None:
    world.grant_role("tuan.thoian", "approver", "26743")
    view = reported_ward(world, officer="tuan.thoian", unit="26743")
    error = refused(engine, Forbidden, lambda: world.approve("tuan.thoian", view.id), "proposer")
    assert isinstance(error, Refused) and error.rule == "separation_of_duties"


def test_nobody_signs_at_two_levels_of_one_nomination(world: Service, engine: sa.Engine) -> None:
    view = reported_ward(world)
    world.approve("da.nang", view.id)
    error = refused(
        engine,
        Forbidden,
        lambda: world.approve("da.nang", view.id),
        "already signed at level 'commune'",
    )
    assert isinstance(error, Refused) and error.rule == "separation_of_duties"
    assert world.approve("chutich.q12", view.id).state == "district_reviewed"


def test_an_approver_signs_only_for_units_they_cover(world: Service, engine: sa.Engine) -> None:
    view = reported_ward(world)
    error = refused(
        engine,
        Forbidden,
        lambda: world.approve("chutich.hiepthanh", view.id),
        "does not cover Phường Thạnh Xuân",
    )
    assert isinstance(error, Refused) and error.rule == "unit_scope"
    refused(engine, Forbidden, lambda: world.approve("chutich.linhtrung", view.id))
    refused(engine, Forbidden, lambda: world.approve("hung.thanhxuan", view.id), "no approver role")
    # the city's approver covers the ward, but province is not a level of this chain
    refused(
        engine, Forbidden, lambda: world.approve("chutich.hcm", view.id), "a level of its chain"
    )


def test_an_approver_signs_only_at_the_level_the_nomination_awaits(
    world: Service, engine: sa.Engine
) -> None:
    view = reported_ward(world)
    refused(
        engine,
        InvalidTransition,
        lambda: world.approve("chutich.q12", view.id),
        "awaits review at 'commune'",
    )
    world.approve("chutich.thanhxuan", view.id)
    refused(
        engine,
        InvalidTransition,
        lambda: world.approve("chutich.thanhxuan", view.id),
        "awaits review at 'district'",
    )


def test_commands_need_the_right_state(world: Service, engine: sa.Engine) -> None:
    view = register_ward(world)
    refused(
        engine,
        InvalidTransition,
        lambda: world.report("hung.thanhxuan", view.id),
        "it is 'registered'; 'report' needs 'implemented'",
    )
    refused(engine, InvalidTransition, lambda: world.resubmit("hung.thanhxuan", view.id))
    refused(engine, NotFound, lambda: world.implement("hung.thanhxuan", 99999), "99999")
    refused(engine, InvalidInput, lambda: world.implement("hung.thanhxuan", "abc"), "abc")
    refused(engine, InvalidInput, lambda: world.implement("hung.thanhxuan", 0))


def test_a_return_goes_back_to_the_level_that_returned_it_and_happens_once(
    world: Service, engine: sa.Engine
) -> None:
    view = reported_ward(world)
    world.approve("chutich.thanhxuan", view.id)
    refused(engine, InvalidInput, lambda: world.return_for_supplement("chutich.q12", view.id, " "))
    returned = world.return_for_supplement("chutich.q12", view.id, "Bổ sung minh chứng")
    assert (returned.state, returned.returns) == ("returned", 1)
    assert world.inbox("chutich.q12") == []
    back = world.resubmit("hung.thanhxuan", view.id, "Đã bổ sung")
    assert (back.state, back.awaiting) == ("commune_reviewed", "district")
    error = refused(
        engine,
        Forbidden,
        lambda: world.return_for_supplement("pho.q12", view.id, "Lần hai"),
        "only once",
    )
    assert isinstance(error, Refused) and error.rule == "return_once"
    assert world.approve("pho.q12", view.id).state == "district_reviewed"


def test_a_return_at_the_first_level_comes_back_as_reported(world: Service) -> None:
    view = reported_ward(world)
    world.return_for_supplement("chutich.thanhxuan", view.id, "Thiếu hồ sơ")
    back = world.resubmit("hung.thanhxuan", view.id)
    assert (back.state, back.awaiting) == ("reported", "commune")
    assert world.approve("chutich.thanhxuan", view.id).state == "commune_reviewed"


def test_a_return_discards_the_sign_offs_of_that_level(world: Service, engine: sa.Engine) -> None:
    view = reported_ward(world)
    world.approve("chutich.thanhxuan", view.id)
    world.return_for_supplement("chutich.q12", view.id, "Bổ sung")
    with engine.connect() as connection:
        stored = connection.execute(
            sa.text("SELECT signoffs FROM nominations WHERE id = :id"), {"id": view.id}
        ).scalar_one()
    signoffs = stored if isinstance(stored, dict) else __import__("json").loads(stored)
    assert signoffs == {"commune": [signoffs["commune"][0]]}


def test_reject_and_withdraw_end_a_nomination(world: Service, engine: sa.Engine) -> None:
    view = reported_ward(world)
    refused(engine, InvalidInput, lambda: world.reject("chutich.thanhxuan", view.id, ""))
    assert world.reject("chutich.thanhxuan", view.id, "Không đạt tiêu chí").state == "rejected"
    refused(engine, InvalidTransition, lambda: world.withdraw("hung.thanhxuan", view.id, "Rút"))
    other = register_ward(world, name="Khác")
    refused(engine, Forbidden, lambda: world.withdraw("mai.hiepthanh", other.id, "Rút"))
    assert world.withdraw("hung.thanhxuan", other.id, "Đơn vị xin rút").state == "withdrawn"


def test_award_needs_the_last_level_the_issuing_chairman_and_a_valid_decision(
    world: Service, engine: sa.Engine, clock: FixedClock
) -> None:
    view = reported_ward(world)
    world.approve("chutich.thanhxuan", view.id)
    clock.set(vn(12, 12))
    award = world.award
    refused(
        engine,
        InvalidTransition,
        lambda: award(
            "chutich.q12", view.id, number="1/QĐ-UBND", date="12/12/2022", form="Giấy khen"
        ),
        "'award' needs 'district_reviewed'",
    )
    world.approve("chutich.q12", view.id)
    refused(
        engine,
        Forbidden,
        lambda: award(
            "chutich.thanhxuan", view.id, number="1/QĐ-UBND", date="12/12/2022", form="Giấy khen"
        ),
        "only its chairman awards",
    )
    refused(
        engine,
        Refused,
        lambda: award(
            "chutich.q12", view.id, number="1/QĐ-UBND", date="12/12/2022", form="Bằng khen"
        ),
        "not granted at level 'district'",
    )
    refused(
        engine,
        InvalidInput,
        lambda: award(
            "chutich.q12", view.id, number="một trăm", date="12/12/2022", form="Giấy khen"
        ),
        "163/QĐ-UBND",
    )
    refused(
        engine,
        InvalidInput,
        lambda: award(
            "chutich.q12", view.id, number="1/QĐ-UBND", date="13/12/2022", form="Giấy khen"
        ),
        "after today",
    )
    refused(
        engine,
        InvalidInput,
        lambda: award(
            "chutich.q12", view.id, number="1/QĐ-UBND", date="31/02/2022", form="Giấy khen"
        ),
        "not a real day",
    )
    assert (
        award(
            "chutich.q12", view.id, number="163/QĐ-UBND", date="12/12/2022", form="Giấy khen"
        ).state
        == "awarded"
    )


def test_campaign_creation_is_checked_and_audited(world: Service, engine: sa.Engine) -> None:
    from workflow.campaigns import CampaignSpec

    def spec(**changes: Any) -> CampaignSpec:
        base = {
            "code": "Q12-2023",
            "name": "Thi đua 2023",
            "issuing_unit": "761",
            "registration_deadline": "05/05/2023",
            "report_deadline": "01/12/2023",
        }
        return CampaignSpec(**{**base, **changes})

    refused(
        engine, Forbidden, lambda: world.create_campaign("hung.thanhxuan", spec()), "not an admin"
    )
    refused(
        engine,
        InvalidInput,
        lambda: world.create_campaign("quantri", spec(report_deadline="01/01/2023")),
        "must come after",
    )
    refused(
        engine,
        InvalidInput,
        lambda: world.create_campaign("quantri", spec(registration_deadline="2023-05-05")),
        "dd/mm/yyyy",
    )
    refused(
        engine,
        InvalidInput,
        lambda: world.create_campaign("quantri", spec(award_level="province")),
        "cannot award at level 'province'",
    )
    refused(
        engine,
        InvalidInput,
        lambda: world.create_campaign("quantri", spec(areas=["khong_co"])),
        "khong_co",
    )
    refused(
        engine, InvalidInput, lambda: world.create_campaign("quantri", spec(code=Q12)), "exists"
    )
    assert world.create_campaign("quantri", spec()) == "Q12-2023"
    with engine.connect() as connection:
        triggers = (
            connection.execute(
                sa.text(
                    "SELECT a.trigger FROM audit_log a JOIN campaigns c "
                    "ON a.stream = 'campaign:' || c.id WHERE c.code = 'Q12-2023'"
                )
            )
            .scalars()
            .all()
        )
    assert triggers == ["create"]


def test_a_file_with_one_bad_record_loads_nothing(world: Service, engine: sa.Engine) -> None:
    data = {
        "units": [
            {"code": "26749", "name": "Phường An Phú Đông", "level": "commune", "parent": "761"},
            {"code": "26750", "name": "Phường X", "level": "hamlet", "parent": "761"},
        ]
    }
    refused(engine, InvalidInput, lambda: world.load(data), "hamlet")
    refused(
        engine,
        InvalidInput,
        lambda: world.grant_role("hung.thanhxuan", "approver", "761-PNV"),
        "agency",
    )
