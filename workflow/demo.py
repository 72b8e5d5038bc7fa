"""The sample scenario: Quận 12's 2022 reform campaign, played on a simulated clock.

Registrations before 05/05/2022, reports before 01/12/2022 (seed: "Quận 12 phát động phong trào
thi đua về cải cách hành chính … năm 2022"). Nominations from wards run commune → district; one
from Phòng Nội vụ runs district only; one is returned once and resubmitted; one report comes late
and is refused; the rest are awarded by decision 163/QĐ-UBND.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from importlib.resources import files
from typing import Any, TextIO

from workflow.clock import FixedClock
from workflow.errors import NotFound, WorkflowError
from workflow.service import Service
from workflow.timeutil import VIETNAM

__all__ = ["CAMPAIGN", "run"]

CAMPAIGN = "Q12-CCHC-2022"


def _at(day: int, month: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2022, month, day, hour, minute, tzinfo=VIETNAM)


def sample_data() -> dict[str, Any]:
    return tomllib.loads(files("workflow").joinpath("sample/quan12.toml").read_text("utf-8"))


def run(service: Service, out: TextIO) -> dict[str, Any]:
    """Load the sample (once) and move it through its chains; print states and one history."""
    if any(c["code"] == CAMPAIGN for c in service.campaigns()):
        print(f"The sample campaign {CAMPAIGN} is loaded already; its nominations now:", file=out)
    else:
        _play(Service(service.engine, FixedClock(_at(20, 4))), out)
    views = service.list_nominations(campaign=CAMPAIGN)
    print("\nNominations:", file=out)
    for view in views:
        print(
            f"  #{view.id} {view.state:<18} {' → '.join(view.chain):<20} "
            f"{view.unit_name}: {view.nominee_name}",
            file=out,
        )
    returned = next((v for v in views if v.returns), None)
    if returned is not None:
        print(f"\nHistory of #{returned.id} ({returned.nominee_name}):", file=out)
        for entry in service.history(returned.id):
            reason = f" — «{entry.reason}»" if entry.reason else ""
            print(
                f"  {entry.at.astimezone(VIETNAM):%d/%m/%Y %H:%M}  {entry.trigger:<10} "
                f"{entry.from_state or '—'} → {entry.to_state}  by {entry.actor}{reason}",
                file=out,
            )
    report = service.verify()
    print(
        f"\nAudit log: {report.entries} entries, "
        f"{'intact' if report.ok else 'BROKEN: ' + '; '.join(map(str, report.breaks))}",
        file=out,
    )
    return {
        "campaign": CAMPAIGN,
        "nominations": [v.to_dict() for v in views],
        "audit_ok": report.ok,
        "audit_entries": report.entries,
    }


def _play(service: Service, out: TextIO) -> None:
    clock = service.clock
    assert isinstance(clock, FixedClock)
    counts = service.load(sample_data(), actor="quantri")
    print(
        f"Loaded {counts['units']} units, {counts['people']} people and campaign {CAMPAIGN} "
        "(registrations before 05/05/2022, reports before 01/12/2022).",
        file=out,
    )

    def step(moment: datetime, text: str) -> None:
        clock.set(moment)
        print(f"{moment:%d/%m/%Y %H:%M}  {text}", file=out)

    step(_at(25, 4), "officers register initiatives")
    one_stop = service.register(
        "hung.thanhxuan",
        campaign=CAMPAIGN,
        unit="26734",
        nominee_kind="collective",
        nominee_name="Bộ phận Tiếp nhận và Trả kết quả Phường Thạnh Xuân",
        title="Số hoá hồ sơ thủ tục hành chính, trả kết quả trong ngày",
        area="thu_tuc_hanh_chinh",
    )
    citizen = service.register(
        "mai.hiepthanh",
        campaign=CAMPAIGN,
        unit="26740",
        nominee_kind="citizen",
        nominee_name="Ông Nguyễn Văn Tâm",
        title="Tổ dân phố số: hướng dẫn người dân dùng dịch vụ công trực tuyến mức độ 4",
        area="chinh_quyen_so",
    )
    office = service.register(
        "lan.pnv",
        campaign=CAMPAIGN,
        unit="761-PNV",
        nominee_kind="individual",
        nominee_name="Bà Trương Thị Ngọc",
        title="Sổ tay điện tử quy trình nội bộ về chế độ công vụ",
        area="che_do_cong_vu",
    )
    late = service.register(
        "tuan.thoian",
        campaign=CAMPAIGN,
        unit="26743",
        nominee_kind="business",
        nominee_name="Công ty TNHH Thới An Xanh",
        title="Thanh toán không dùng tiền mặt phí, lệ phí tại phường",
        area="tai_chinh_cong",
    )
    for view in (one_stop, citizen, office, late):
        print(f"    #{view.id} {view.nominee_name}: chain {' → '.join(view.chain)}", file=out)

    step(_at(5, 5, 0, 0), "a registration at 00:00 on 05/05/2022")
    _refused(
        out,
        lambda: service.register(
            "tuan.thoian",
            campaign=CAMPAIGN,
            unit="26743",
            nominee_kind="individual",
            nominee_name="Ông Lý Văn Phúc",
            title="Hộp thư góp ý điện tử",
            area="the_che",
        ),
    )

    step(_at(15, 6), "initiatives implemented")
    service.implement("hung.thanhxuan", one_stop.id)
    service.implement("mai.hiepthanh", citizen.id)
    service.implement("lan.pnv", office.id)
    service.implement("tuan.thoian", late.id)

    step(_at(25, 11), "results reported")
    service.report("hung.thanhxuan", one_stop.id)
    service.report("mai.hiepthanh", citizen.id)
    service.report("lan.pnv", office.id)
    step(_at(2, 12, 8, 30), f"Phường Thới An reports #{late.id} after the deadline")
    _refused(out, lambda: service.report("tuan.thoian", late.id))

    step(_at(5, 12), "ward chairmen sign off")
    service.approve("chutich.thanhxuan", one_stop.id, "Đạt yêu cầu")
    service.approve("chutich.hiepthanh", citizen.id, "Đạt yêu cầu")
    step(_at(7, 12), "the district reviews")
    service.approve("chutich.q12", one_stop.id, "Đề nghị khen thưởng")
    service.approve("chutich.q12", office.id, "Đề nghị khen thưởng")
    service.return_for_supplement(
        "chutich.q12", citizen.id, "Bổ sung số liệu người dân được hướng dẫn và minh chứng kèm theo"
    )
    step(_at(9, 12), f"Phường Hiệp Thành supplements #{citizen.id}")
    service.resubmit("mai.hiepthanh", citizen.id, "Đã bổ sung số liệu và minh chứng")
    service.approve("chutich.q12", citizen.id, "Đề nghị khen thưởng")
    step(_at(12, 12, 15), "the chairman of Quận 12 signs decision 163/QĐ-UBND")
    for view in (one_stop, citizen, office):
        service.award(
            "chutich.q12", view.id, number="163/QĐ-UBND", date="12/12/2022", form="Giấy khen"
        )


def _refused(out: TextIO, action: Any) -> None:
    try:
        action()
    except (WorkflowError, NotFound) as exc:
        print(f"    refused ({exc.code}): {exc}", file=out)
    else:  # pragma: no cover - the scenario is built so that this is refused
        raise AssertionError("the sample expected a refusal here")
