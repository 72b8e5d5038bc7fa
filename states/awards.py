"""Award forms and the level that grants each, as data with the date each rule applies from.

Law on Emulation and Commendation 06/2022/QH15 (in force 1/1/2024), Decree 98/2023/NĐ-CP
art. 79–80: a commune chairman grants Lao động tiên tiến and Giấy khen; a district chairman or
a provincial department head ("department" below) grants Giấy khen, Lao động tiên tiến, Chiến
sĩ thi đua cơ sở and Tập thể lao động tiên tiến; a provincial chairman grants Bằng khen, Cờ thi
đua, Chiến sĩ thi đua cấp tỉnh and Tập thể lao động xuất sắc.

From 1 July 2025 the district level is gone (two-tier local government, Law 72/2025/QH15): the
commune chairman takes over what the district chairman granted; thidua keeps that as a rule of
its own date, so a campaign's date picks the table in force for it.

The form a nomination seeks fixes its *granting level* — the highest of the campaign's tiers, up
to the campaign's award level, whose chairman grants that form — and so the top of its chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

__all__ = [
    "AUTHORITY",
    "FORMS",
    "PUBLIC_COMMENT_FORMS",
    "Authority",
    "forms_granted",
    "granting_level",
]

FORMS: tuple[str, ...] = (
    "Giấy khen",
    "Lao động tiên tiến",
    "Chiến sĩ thi đua cơ sở",
    "Tập thể lao động tiên tiến",
    "Bằng khen",
    "Cờ thi đua",
    "Chiến sĩ thi đua cấp tỉnh",
    "Tập thể lao động xuất sắc",
)

#: The high provincial titles published for comment before the decision unless a campaign says
#: otherwise (a campaign may add Bằng khen, as An Giang's does).
PUBLIC_COMMENT_FORMS: frozenset[str] = frozenset(
    {"Cờ thi đua", "Chiến sĩ thi đua cấp tỉnh", "Tập thể lao động xuất sắc"}
)

_BASE = frozenset({"Giấy khen", "Lao động tiên tiến"})
_LOCAL = frozenset(
    {"Giấy khen", "Lao động tiên tiến", "Chiến sĩ thi đua cơ sở", "Tập thể lao động tiên tiến"}
)
_PROVINCIAL = frozenset(
    {"Bằng khen", "Cờ thi đua", "Chiến sĩ thi đua cấp tỉnh", "Tập thể lao động xuất sắc"}
)


@dataclass(frozen=True)
class Authority:
    """From `applies_from`, a chairman at `level` (or a department head) grants `forms`."""

    applies_from: date
    level: str
    forms: frozenset[str]


AUTHORITY: tuple[Authority, ...] = (
    Authority(date(2024, 1, 1), "commune", _BASE),
    Authority(date(2024, 1, 1), "district", _LOCAL),
    Authority(date(2024, 1, 1), "department", _LOCAL),
    Authority(date(2024, 1, 1), "province", _PROVINCIAL),
    # Two tiers: the commune takes the district's powers; the district grants nothing more.
    Authority(date(2025, 7, 1), "commune", _LOCAL),
    Authority(date(2025, 7, 1), "district", frozenset()),
)


def forms_granted(level: str, on: date) -> frozenset[str]:
    """The forms a chairman at `level` (or "department") grants on `on`.

    The newest rule in force applies, or the first rule for an earlier day (the earlier law gave
    these levels the same titles)."""
    rules = sorted((a for a in AUTHORITY if a.level == level), key=lambda a: a.applies_from)
    if not rules:
        return frozenset()
    in_force = [a for a in rules if a.applies_from <= on]
    return (in_force[-1] if in_force else rules[0]).forms


def granting_level(form: str, on: date, tiers: Sequence[str], ceiling: str) -> str:
    """The level whose chairman grants `form` on `on`: the highest of `tiers` up to `ceiling`.

    >>> three = ("commune", "district", "province")
    >>> granting_level("Giấy khen", date(2024, 5, 1), three, "province")
    'district'
    >>> granting_level("Bằng khen", date(2026, 5, 1), ("commune", "province"), "province")
    'province'

    Raises ValueError, naming the form, when it is not a known form or no level up to `ceiling`
    grants it.
    """
    if form not in FORMS:
        raise ValueError(f"'{form}' is not an award form; the forms are: {', '.join(FORMS)}")
    allowed = list(tiers[: tiers.index(ceiling) + 1]) if ceiling in tiers else list(tiers)
    for level in reversed(allowed):
        if form in forms_granted(level, on):
            return level
    raise ValueError(
        f"no level up to '{ceiling}' grants '{form}' on {on:%d/%m/%Y}; "
        f"'{ceiling}' grants: {', '.join(sorted(forms_granted(ceiling, on))) or 'nothing'}"
    )
