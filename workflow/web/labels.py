"""Vietnamese words for the service's codes: states, levels, steps, roles, kinds, areas."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from workflow.campaigns import AREAS, NOMINEE_KINDS
from workflow.timeutil import format_date, format_local

__all__ = [
    "AREAS",
    "LEVELS",
    "NOMINEE_KINDS",
    "ROLES",
    "STATES",
    "TRIGGERS",
    "area",
    "chain",
    "kind",
    "level",
    "moment",
    "role",
    "state",
    "trigger",
]

STATES: dict[str, str] = {
    "registered": "Đã đăng ký",
    "implemented": "Đã triển khai",
    "reported": "Đã báo cáo",
    "returned": "Trả lại bổ sung",
    "commune_reviewed": "Xã đã duyệt",
    "district_reviewed": "Huyện đã duyệt",
    "province_reviewed": "Tỉnh đã duyệt",
    "awarded": "Đã khen thưởng",
    "rejected": "Không được duyệt",
    "expired": "Quá hạn",
    "withdrawn": "Đã rút",
    "revoked": "Đã thu hồi khen thưởng",
}

LEVELS: dict[str, str] = {"commune": "xã", "district": "huyện", "province": "tỉnh"}

TRIGGERS: dict[str, str] = {
    "register": "Đăng ký",
    "implement": "Triển khai",
    "report": "Báo cáo kết quả",
    "approve": "Duyệt",
    "return": "Trả lại bổ sung",
    "resubmit": "Nộp lại hồ sơ bổ sung",
    "reject": "Từ chối",
    "withdraw": "Rút hồ sơ",
    "expire": "Quá hạn báo cáo",
    "award": "Quyết định khen thưởng",
    "revoke": "Thu hồi khen thưởng",
    "object": "Ý kiến phản đối",
    "published": "Công khai lấy ý kiến",
    "scored": "Chấm điểm",
    "voted": "Biểu quyết",
    "marked_overdue": "Quá thời hạn xem xét",
}

ROLES: dict[str, str] = {
    "officer": "Cán bộ thi đua",
    "approver": "Lãnh đạo phê duyệt",
    "auditor": "Thanh tra",
    "admin": "Quản trị",
    "council": "Hội đồng TĐKT",
    "system": "Hệ thống",
}


def state(code: str, awaiting: str | None = None) -> str:
    """ "Chờ huyện duyệt" while a level's review is awaited, else the state's own word."""
    if awaiting is not None and code not in ("returned",):
        return f"Chờ {LEVELS.get(awaiting, awaiting)} duyệt"
    return STATES.get(code, code)


def level(code: str | None) -> str:
    return LEVELS.get(code or "", code or "")


def chain(levels: Any) -> str:
    return " → ".join(level(code).capitalize() for code in levels)


def trigger(code: str) -> str:
    return TRIGGERS.get(code, code)


def role(code: str) -> str:
    return ROLES.get(code, code)


def kind(code: str) -> str:
    return NOMINEE_KINDS.get(code, code)


def area(code: str) -> str:
    return AREAS.get(code, code)


def moment(value: datetime | date | None) -> str:
    """dd/mm/yyyy HH:MM in Vietnam time (an instant), dd/mm/yyyy (a day), or a dash."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return format_local(value)
    return format_date(value)
