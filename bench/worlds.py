"""The Quận 12 world the benchmarks load: three tiers up to the city, one ward officer."""

from __future__ import annotations

from typing import Any

#: The ward's chairman, the district's and the city's, in the order their ids are given.
APPROVERS: list[dict[str, Any]] = [
    {
        "username": "chutich.xa",
        "name": "Võ Thanh Sơn",
        "roles": [{"role": "approver", "unit": "26734"}],
    },
    {
        "username": "chutich.huyen",
        "name": "Nguyễn Văn Đức",
        "roles": [{"role": "approver", "unit": "761"}],
    },
    {
        "username": "chutich.tinh",
        "name": "Phan Văn Mãi",
        "roles": [{"role": "approver", "unit": "79"}],
    },
]


def world(campaign: str, approvers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The three units, the admin and the ward's officer (ids 1 and 2), then `approvers`."""
    return {
        "units": [
            {"code": "79", "name": "Thành phố Hồ Chí Minh", "level": "province"},
            {"code": "761", "name": "Quận 12", "level": "district", "parent": "79"},
            {"code": "26734", "name": "Phường Thạnh Xuân", "level": "commune", "parent": "761"},
        ],
        "people": [
            {"username": "quantri", "name": "Quản trị", "roles": [{"role": "admin", "unit": "79"}]},
            {
                "username": "canbo.xa",
                "name": "Trần Văn Hùng",
                "roles": [{"role": "officer", "unit": "26734"}],
            },
            *(approvers or []),
        ],
        "campaigns": [
            {
                "code": campaign,
                "name": "Thi đua cải cách hành chính năm 2022 (benchmark)",
                "issuing_unit": "79",
                "registration_deadline": "05/05/2022",
                "report_deadline": "01/12/2022",
                "tiers": ["commune", "district", "province"],
            }
        ],
    }
