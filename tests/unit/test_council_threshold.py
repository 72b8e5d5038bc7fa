"""A council's threshold and tally, without a database."""

from __future__ import annotations

import pytest

from workflow.councils import Tally, parse_threshold
from workflow.errors import InvalidInput


@pytest.mark.parametrize(
    ("text", "members", "expected"),
    [
        ("90%", 10, ("90%", 9)),
        ("90 %", 11, ("90%", 10)),  # 9.9 members: a share of ALL members rounds up
        ("66,67%", 3, ("66.67%", 3)),
        ("50%", 4, ("50%", 2)),
        ("100%", 7, ("100%", 7)),
        ("3/4", 4, ("3/4", 3)),
        (" 2 / 3 ", 3, ("2/3", 2)),
    ],
)
def test_a_threshold_is_a_share_of_all_members_or_n_of_m(
    text: str, members: int, expected: tuple[str, int]
) -> None:
    assert parse_threshold(text, members) == expected


@pytest.mark.parametrize(
    ("text", "members"),
    [("0%", 4), ("101%", 4), ("3/5", 4), ("0/4", 4), ("5/4", 4), ("ba phần tư", 4), ("", 4)],
)
def test_a_threshold_that_means_nothing_is_bad_input(text: str, members: int) -> None:
    with pytest.raises(InvalidInput):
        parse_threshold(text, members)


def test_a_tally_is_reached_or_out_of_reach() -> None:
    assert Tally(10, 9, 9, 0).reached
    assert not Tally(10, 9, 8, 1).unreachable  # the last member could still approve
    assert Tally(10, 9, 8, 2).unreachable
    assert Tally(4, 3, 1, 2).unreachable
    assert Tally(4, 3, 2, 1).to_dict() == {
        "members": 4,
        "required": 3,
        "approve": 2,
        "reject": 1,
        "not_voted": 1,
    }
