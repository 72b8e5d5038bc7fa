"""The replay table that scans use remembers outcomes per state id, and still gives exactly what
a Replayer applying every entry gives: the state, the problem and its wording, the entry count."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from states import MACHINE, State
from workflow.audit import canonical_json
from workflow.replaying import CHAINS, Progress, Replayer, ReplayTable

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("*.jsonl"))
Entry = tuple[int, str, str | None, str | None, str | None]


def through_table(table: ReplayTable, streams: dict[str, list[Entry]]) -> dict[str, Replayer]:
    """Interleaved as a scan reads them: one entry of each stream in turn."""
    progress: dict[str, Progress] = dict.fromkeys(streams, 0)
    longest = max((len(entries) for entries in streams.values()), default=0)
    for position in range(longest):
        for key, entries in streams.items():
            if position >= len(entries):
                continue
            seq, trigger, frm, to, payload = entries[position]
            at = progress[key]
            if isinstance(at, int):
                after = table.next.get((at, trigger, frm, to))
                progress[key] = (
                    after
                    if after is not None
                    else table.advance(at, seq, trigger, frm, to, payload)
                )
    return {key: table.result(progress[key], len(streams[key])) for key in streams}


def one_by_one(entries: list[Entry]) -> Replayer:
    replayer = Replayer()
    for entry in entries:
        replayer.apply(*entry)
    return replayer


def outcome(replayer: Replayer) -> tuple[Any, ...]:
    return (replayer.state, replayer.problem, replayer.problem_seq, replayer.entries)


@pytest.mark.parametrize("path", HISTORIES, ids=lambda path: path.stem)
def test_the_table_replays_every_recorded_history_as_a_replayer_does(path: Path) -> None:
    streams: dict[str, list[Entry]] = defaultdict(list)
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["kind"] == "entry" and record["stream"].startswith("nomination:"):
            streams[record["stream"]].append(
                (
                    record["seq"],
                    record["trigger"],
                    record["from_state"],
                    record["to_state"],
                    record["payload"] if record["trigger"] == "register" else None,
                )
            )
    assert streams
    replayed = through_table(ReplayTable(), streams)
    for key, entries in streams.items():
        assert outcome(replayed[key]) == outcome(one_by_one(entries))


STATES = [None, *(str(state) for state in State)]
TRIGGERS = [*sorted(MACHINE.events), "scored", "voted", "marked_overdue"]


def followed(replayer: Replayer, seq: int, trigger: str) -> str | None:
    """The state `trigger` leads to from the replay so far, or None if it is refused."""
    probe = Replayer(replayer.state, replayer.chain, replayer.returned_level, replayer.returns)
    probe.apply(seq, trigger, replayer.state, None, None)
    return probe.state if probe.problem is None or "says to" in probe.problem else None


@st.composite
def stream(draw: st.DrawFn) -> list[Entry]:
    """Mostly followable entries (allowed triggers, the states the replay gives), some wrong on
    purpose (any trigger, any from- or to-state)."""
    chain = draw(st.sampled_from(CHAINS))
    register = json.dumps({"chain": list(chain)})
    entries: list[Entry] = [(1, "register", None, "registered", register)]
    replayer = one_by_one(entries)
    for seq in range(2, draw(st.integers(2, 16))):
        allowed = [t for t in TRIGGERS if followed(replayer, seq, t) is not None]
        wrong = draw(st.integers(0, 19)) == 0
        trigger = draw(st.sampled_from(TRIGGERS if wrong or not allowed else allowed))
        frm = draw(st.sampled_from(STATES)) if wrong else replayer.state
        to = draw(st.sampled_from(STATES)) if wrong else followed(replayer, seq, trigger)
        entry = (seq, trigger, frm, to, register if trigger == "register" else None)
        entries.append(entry)
        replayer.apply(*entry)
    return entries


@settings(max_examples=200, deadline=None)
@given(st.lists(stream(), min_size=1, max_size=6))
def test_the_table_replays_any_entries_as_a_replayer_does(streams: list[list[Entry]]) -> None:
    table = ReplayTable()  # shared by every stream, as in a scan
    keyed = {f"nomination:{k}": entries for k, entries in enumerate(streams)}
    replayed = through_table(table, keyed)
    for key, entries in keyed.items():
        assert outcome(replayed[key]) == outcome(one_by_one(entries))


LEVEL_TEXT = st.sampled_from(["commune", "district", "province", "x]", '"]', "[", "{", "]"])


@st.composite
def registration(draw: st.DrawFn) -> tuple[str | None, str]:
    """A canonical registration payload: a chain (a real one, or levels with brackets and
    quotes in them), maybe an earlier key holding an object with its own "chain", maybe text
    with braces and brackets; and the to-state the entry claims."""
    chain = draw(st.sampled_from(CHAINS).map(list) | st.lists(LEVEL_TEXT, max_size=3))
    payload: dict[str, Any] = {
        "chain": chain,
        "title": draw(st.sampled_from(["]", "{x}", "Đề án"])),
    }
    if draw(st.booleans()):
        payload["area"] = {"chain": draw(st.lists(LEVEL_TEXT, max_size=2))}
    if draw(st.booleans()):
        payload["campaign"] = draw(st.sampled_from(['{"chain":["province"]}', "Q12]", "HCM"]))
    to = draw(st.sampled_from(["registered", "registered", "implemented", None]))
    return canonical_json(payload), to


@settings(max_examples=300, deadline=None)
@given(st.lists(registration(), min_size=1, max_size=12))
def test_registrations_looked_up_by_their_chain_text_replay_as_a_replayer_does(
    registrations: list[tuple[str, str | None]],
) -> None:
    """Verify looks a canonical payload's registration up by the text of its chain: the same
    state, chain and problem as parsing the payload, across many registrations in one table."""
    table = ReplayTable()
    for payload, to in registrations:
        progress = table.advance(0, 1, "register", None, to, payload, canonical=True)
        looked_up = table.result(progress, 1)
        parsed = one_by_one([(1, "register", None, to, payload)])
        assert outcome(looked_up) == outcome(parsed)
        assert looked_up.chain == parsed.chain
