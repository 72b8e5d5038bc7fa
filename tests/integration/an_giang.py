"""An Giang's provincial campaign (seed: "An Giang phát động thi đua cải cách hành chính").

UBND tỉnh An Giang's plan for 2023–2030 names provincial departments, districts and communes;
each year the province's certificate of merit goes to 4 collectives and 6 individuals, weighed by
the provincial Hội đồng Thi đua – Khen thưởng. Here: the 2023 round on three tiers; the province's
council of ten decides by 90 % of all members, Long Xuyên's council of four by 3 of 4.
"""

from __future__ import annotations

from typing import Any

from workflow.service import Service
from workflow.views import NominationView

CAMPAIGN = "AG-CCHC-2023"

#: The provincial council: the chairman presides; nine other members.
PROVINCE_COUNCIL = [
    "chutich.ag",
    "pho.ag",
    "giamdoc.snv",
    "hd.tuyengiao",
    "hd.mattran",
    "hd.congdoan",
    "hd.phunu",
    "hd.doanthanhnien",
    "hd.taichinh",
    "hd.giaoduc",
]
DISTRICT_COUNCIL = ["chutich.lx", "pho.lx", "truongphong.lx", "congdoan.lx"]

_NAMES = {
    "chutich.ag": "Nguyễn Thanh Bình",
    "pho.ag": "Lê Văn Nưng",
    "giamdoc.snv": "Trần Thị Thu Hà",
    "hd.tuyengiao": "Phạm Văn Hùng",
    "hd.mattran": "Võ Thị Ánh Xuân",
    "hd.congdoan": "Đặng Minh Tâm",
    "hd.phunu": "Huỳnh Thị Mỹ Lệ",
    "hd.doanthanhnien": "Ngô Quốc Việt",
    "hd.taichinh": "Lâm Văn Phúc",
    "hd.giaoduc": "Trịnh Thị Bích",
    "chutich.lx": "Hồ Văn Mừng",
    "pho.lx": "Châu Thị Ngọc",
    "truongphong.lx": "Dương Văn Tài",
    "congdoan.lx": "Phan Thị Hạnh",
}
_ROLES: dict[str, list[dict[str, str]]] = {
    "chutich.ag": [{"role": "approver", "unit": "89"}],
    "pho.ag": [{"role": "approver", "unit": "89"}],
    "chutich.lx": [{"role": "approver", "unit": "883"}],
}

DATA: dict[str, Any] = {
    "units": [
        {"code": "89", "name": "Tỉnh An Giang", "level": "province"},
        {
            "code": "89-SNV",
            "name": "Sở Nội vụ tỉnh An Giang",
            "level": "province",
            "kind": "agency",
            "parent": "89",
        },
        {"code": "883", "name": "Thành phố Long Xuyên", "level": "district", "parent": "89"},
        {"code": "30280", "name": "Phường Mỹ Bình", "level": "commune", "parent": "883"},
    ],
    "people": [
        {
            "username": "quantri.ag",
            "name": "Quản trị tỉnh An Giang",
            "roles": [{"role": "admin", "unit": "89"}],
        },
        {
            "username": "chau.snv",
            "name": "Nguyễn Thị Minh Châu",
            "roles": [{"role": "officer", "unit": "89-SNV"}],
        },
        {
            "username": "tho.mybinh",
            "name": "Lê Văn Thọ",
            "roles": [{"role": "officer", "unit": "30280"}],
        },
        {
            "username": "chutich.mybinh",
            "name": "Trần Văn Sang",
            "roles": [{"role": "approver", "unit": "30280"}],
        },
        {"username": "thuky.hd", "name": "Nguyễn Thị Thư Ký"},
        {"username": "vanphong.ag", "name": "Phạm Văn Chánh"},
        *(
            {"username": username, "name": name, "roles": _ROLES.get(username, [])}
            for username, name in _NAMES.items()
        ),
    ],
    "campaigns": [
        {
            "code": CAMPAIGN,
            "name": "Phong trào thi đua đẩy mạnh cải cách hành chính tỉnh An Giang năm 2023",
            "issuing_unit": "89",
            "registration_deadline": "01/07/2023",
            "report_deadline": "01/11/2023",
            "tiers": ["commune", "district", "province"],
        }
    ],
}


def load(service: Service) -> Service:
    service.load(DATA, actor="quantri.ag")
    return service


def reported(service: Service, *, from_commune: bool = False) -> NominationView:
    """A reported nomination: of Sở Nội vụ (province only) or of Phường Mỹ Bình (three levels)."""
    officer, unit = ("tho.mybinh", "30280") if from_commune else ("chau.snv", "89-SNV")
    view = service.register(
        officer,
        campaign=CAMPAIGN,
        unit=unit,
        nominee_kind="collective",
        nominee_name="Bộ phận Tiếp nhận và Trả kết quả",
        title="Mô hình “Thân thiện - Trách nhiệm”",
        area="thu_tuc_hanh_chinh",
    )
    service.implement(officer, view.id)
    return service.report(officer, view.id)
