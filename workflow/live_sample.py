"""The sample for `thidua serve --demo`: Quận 12's history, an open campaign, people who sign in.

On top of the 2022 scenario (`workflow.demo`, kept for auditors to replay), it opens this year's
campaign — or next year's once 05/05 has passed — with a few dossiers already reported, so that a
ward chairman's inbox has work in it; and gives every sample person the demo password.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any, TextIO

from workflow import demo
from workflow.campaigns import CampaignSpec
from workflow.service import Service
from workflow.timeutil import VIETNAM

__all__ = ["DEMO_PASSWORD", "live_campaign_code", "prepare"]

#: The password of every sample person, printed when the server starts with --demo.
DEMO_PASSWORD = "thidua-demo"


def _year(now: datetime) -> int:
    local = now.astimezone(VIETNAM)
    return local.year if (local.month, local.day) < (5, 5) else local.year + 1


def live_campaign_code(now: datetime) -> str:
    return f"Q12-CCHC-{_year(now)}"


def prepare(service: Service, out: TextIO) -> dict[str, Any]:
    """Load the sample once; answer the live campaign's code and who can sign in."""
    demo.run(service, out=io.StringIO())
    code = live_campaign_code(service.now())
    if not any(c["code"] == code for c in service.campaigns()):
        year = _year(service.now())
        service.create_campaign(
            "quantri",
            CampaignSpec.from_mapping(
                {
                    "code": code,
                    "name": (
                        f"Phong trào thi đua về cải cách hành chính trên địa bàn Quận 12 năm {year}"
                    ),
                    "issuing_unit": "761",
                    "award_level": "district",
                    "tiers": ["commune", "district", "province"],
                    "registration_deadline": f"05/05/{year}",
                    "report_deadline": f"01/12/{year}",
                }
            ),
        )
        _dossiers(service, code)
    people = [p["username"] for p in demo.sample_data()["people"]]
    for username in people:
        service.set_password(username, DEMO_PASSWORD)
        # The sample's addresses are not real: its messages go to the server's log.
        service.set_channel(username, "log")
    print(
        f"Mẫu Quận 12: phong trào {code} đang mở; đăng nhập bằng một trong "
        f"{', '.join(people)} — mật khẩu «{DEMO_PASSWORD}».",
        file=out,
    )
    return {"campaign": code, "people": people, "password": DEMO_PASSWORD}


def _dossiers(service: Service, code: str) -> None:
    reported = [
        (
            "hung.thanhxuan",
            "26734",
            "collective",
            "Tổ Một cửa Phường Thạnh Xuân",
            "Hẹn giờ trả kết quả qua tin nhắn cho người dân",
            "thu_tuc_hanh_chinh",
        ),
        (
            "mai.hiepthanh",
            "26740",
            "individual",
            "Bà Lê Thị Hồng Nhung",
            "Sổ tay hướng dẫn nộp hồ sơ trực tuyến cho khu phố",
            "chinh_quyen_so",
        ),
    ]
    views = []
    for officer, unit, kind, name, title, area in reported:
        view = service.register(
            officer,
            campaign=code,
            unit=unit,
            nominee_kind=kind,
            nominee_name=name,
            title=title,
            area=area,
        )
        service.implement(officer, view.id)
        service.report(officer, view.id)
        views.append(view)
    service.approve("chutich.hiepthanh", views[1].id, "Đạt yêu cầu")
    service.register(
        "tuan.thoian",
        campaign=code,
        unit="26743",
        nominee_kind="business",
        nominee_name="Hợp tác xã Thới An",
        title="Thu phí chợ không dùng tiền mặt",
        area="tai_chinh_cong",
    )
