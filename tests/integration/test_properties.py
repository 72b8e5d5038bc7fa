"""Property: whatever commands people send, the audit log tells the truth.

Random sequences of commands from random people are sent through the service against one
nomination each: no nomination reaches 'awarded' without a sign-off at every level of its chain,
every refused command leaves no entry, and replaying its entries gives its stored state.
"""

from __future__ import annotations

import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from states import replay
from tests.integration.helpers import HCM, Q12, register_ward, replay_entries
from workflow.errors import WorkflowError
from workflow.service import Service

PEOPLE = [
    "hung.thanhxuan",
    "chutich.thanhxuan",
    "chutich.q12",
    "pho.q12",
    "da.nang",
    "chutich.hcm",
    "pho.hcm",
    "chutich.hiepthanh",
]
COMMANDS = ["implement", "report", "approve", "return", "resubmit", "reject", "withdraw", "award"]
#: Who may plausibly act next, by what the nomination waits for.
APPROVERS = {
    "commune": ["chutich.thanhxuan", "da.nang"],
    "district": ["chutich.q12", "pho.q12", "da.nang"],
    "province": ["chutich.hcm", "pho.hcm"],
}
AUTHORITY = {Q12: ["chutich.q12", "pho.q12"], HCM: ["chutich.hcm", "pho.hcm"]}
#: A step: None moves the nomination on as its chain expects (with the pick-th plausible
#: person); a pair sends any command from anyone.
Step = tuple[str, str] | None


def next_move(service: Service, nomination: int, campaign: str, pick: int) -> tuple[str, str]:
    view = service.show(nomination)
    if view.state == "registered":
        return "implement", "hung.thanhxuan"
    if view.state == "implemented":
        return "report", "hung.thanhxuan"
    if view.state == "returned":
        return "resubmit", "hung.thanhxuan"
    if view.awaiting is not None:
        people = APPROVERS[view.awaiting]
        return ("approve" if pick % 5 else "return"), people[pick % len(people)]
    people = AUTHORITY[campaign]
    return "award", people[pick % len(people)]


def send(service: Service, command: str, person: str, nomination: int) -> None:
    if command == "implement":
        service.implement(person, nomination)
    elif command == "report":
        service.report(person, nomination)
    elif command == "approve":
        service.approve(person, nomination)
    elif command == "return":
        service.return_for_supplement(person, nomination, "Bổ sung hồ sơ")
    elif command == "resubmit":
        service.resubmit(person, nomination)
    elif command == "reject":
        service.reject(person, nomination, "Không đạt")
    elif command == "withdraw":
        service.withdraw(person, nomination, "Rút hồ sơ")
    else:
        form = "Bằng khen" if person.endswith(".hcm") else "Giấy khen"
        service.award(person, nomination, number="163/QĐ-UBND", date="20/04/2022", form=form)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    campaign=st.sampled_from([Q12, HCM]),
    steps=st.lists(
        st.tuples(
            st.none() | st.tuples(st.sampled_from(COMMANDS), st.sampled_from(PEOPLE)),
            st.integers(0, 29),
        ),
        min_size=1,
        max_size=25,
    ),
)
def test_no_award_without_every_level_and_replay_gives_the_stored_state(
    world: Service, engine: sa.Engine, campaign: str, steps: list[tuple[Step, int]]
) -> None:
    view = register_ward(world, campaign=campaign)
    accepted = 1
    for step, pick in steps:
        command, person = step or next_move(world, view.id, campaign, pick)
        try:
            send(world, command, person, view.id)
        except WorkflowError:
            continue
        accepted += 1
    stored = world.show(view.id)
    event(f"ended {stored.state}")
    with engine.connect() as connection:
        entries = replay_entries(
            connection.execute(
                sa.text("SELECT * FROM audit_log WHERE stream = :s ORDER BY seq"),
                {"s": f"nomination:{view.id}"},
            )
        )
    assert len(entries) == accepted == stored.version
    result = replay(entries)
    assert result.mismatches == []
    assert result.dossier is not None
    assert result.dossier.state == stored.state
    if stored.state == "awarded":
        signed = [e["payload"]["level"] for e in entries if e["trigger"] == "approve"]
        assert list(dict.fromkeys(signed)) == list(stored.chain)
