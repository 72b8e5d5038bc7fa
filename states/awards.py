"""Award forms and the level that grants each, as data with the date each rule applies from.

Law on Emulation and Commendation 06/2022/QH15 (in force 1/1/2024), Decree 98/2023/NĐ-CP
art. 79–80: a commune chairman grants Lao động tiên tiến and Giấy khen; a district chairman or
a provincial department head ("department" below) grants Giấy khen, Lao động tiên tiến, Chiến
sĩ thi đua cơ sở and Tập thể lao động tiên tiến; a provincial chairman grants Bằng khen, Cờ thi
đua, Chiến sĩ thi đua cấp tỉnh and Tập thể lao động xuất sắc.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = ["AUTHORITY", "FORMS", "Authority", "forms_granted"]

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


@dataclass(frozen=True)
class Authority:
    """From `applies_from`, a chairman at `level` (or a department head) grants `forms`."""

    applies_from: date
    level: str
    forms: frozenset[str]


AUTHORITY: tuple[Authority, ...] = (
    Authority(date(2024, 1, 1), "commune", frozenset({"Lao động tiên tiến", "Giấy khen"})),
    Authority(
        date(2024, 1, 1),
        "district",
        frozenset(
            {
                "Giấy khen",
                "Lao động tiên tiến",
                "Chiến sĩ thi đua cơ sở",
                "Tập thể lao động tiên tiến",
            }
        ),
    ),
    Authority(
        date(2024, 1, 1),
        "department",
        frozenset(
            {
                "Giấy khen",
                "Lao động tiên tiến",
                "Chiến sĩ thi đua cơ sở",
                "Tập thể lao động tiên tiến",
            }
        ),
    ),
    Authority(
        date(2024, 1, 1),
        "province",
        frozenset(
            {
                "Bằng khen",
                "Cờ thi đua",
                "Chiến sĩ thi đua cấp tỉnh",
                "Tập thể lao động xuất sắc",
            }
        ),
    ),
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
