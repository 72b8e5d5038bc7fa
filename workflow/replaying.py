"""Replay nominations from their audit rows alone, fast, through a table derived from the machine.

`states.replay` attaches a dossier to the shared `transitions.Machine` for every entry: exact, but
far too slow for a log of millions. The outcome of a trigger depends only on the chain, the state,
the level a dossier was returned from and whether it was ever returned, so `step` asks the machine
(`states.fire`) once per such combination and remembers the answer. A unit test compares the
table with the machine for every chain, state and trigger.

An entry whose trigger is not the machine's is an annotation: its from- and to-state must both be
the replayed state (as in `states.replay`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from sqlalchemy import Connection

from states import LEVELS, MACHINE, Dossier, InvalidTransition, State, Trigger, fire
from workflow.encoding import Row, at_text
from workflow.scanning import Share, nomination_rows, replay_rows

__all__ = [
    "CHAINS",
    "Outcome",
    "Progress",
    "ReplayReport",
    "ReplayTable",
    "Replayed",
    "Replayer",
    "replay_log",
    "step",
    "transition_table",
]

#: Every chain a campaign can give: the levels in order, any of them skipped.
CHAINS: tuple[tuple[str, ...], ...] = tuple(
    tuple(str(level) for level in chosen)
    for size in range(1, len(LEVELS) + 1)
    for chosen in combinations(LEVELS, size)
)
#: The new state, the level returned from after it, and how many returns it adds; None: refused.
Outcome = tuple[str, str | None, int] | None
_Key = tuple[tuple[str, ...], str, str | None, bool, str]
_TABLE: dict[_Key, Outcome] = {}
_EVENTS = frozenset(MACHINE.events)
_REGISTER = str(Trigger.REGISTER)


def _ask_machine(key: _Key) -> Outcome:
    chain, state, returned_level, returned, trigger = key
    dossier = Dossier(state, chain, returned_level, 1 if returned else 0)
    before = dossier.returns
    try:
        fire(dossier, trigger)
    except InvalidTransition:
        return None
    return dossier.state, dossier.returned_level, dossier.returns - before


def transition_table(chain: tuple[str, ...]) -> dict[_Key, Outcome]:
    """Every (state, returned level, ever returned, trigger) of `chain`, asked of the machine."""
    table = {}
    for state in State:
        for returned_level in (None, *chain):
            for returned in (False, True):
                for trigger in sorted(_EVENTS):
                    key = (chain, str(state), returned_level, returned, trigger)
                    if key not in _TABLE:
                        _TABLE[key] = _ask_machine(key)
                    table[key] = _TABLE[key]
    return table


def step(
    chain: tuple[str, ...], state: str, returned_level: str | None, returns: int, trigger: str
) -> Outcome:
    """What `trigger` does to a dossier, from the table (filled from the machine on first use)."""
    key = (chain, state, returned_level, returns > 0, trigger)
    try:
        return _TABLE[key]
    except KeyError:
        outcome = _TABLE[key] = _ask_machine(key)
        return outcome


@dataclass(slots=True)
class Replayer:
    """One nomination's replay so far: its dossier's fields and the first disagreement."""

    state: str | None = None
    chain: tuple[str, ...] = ()
    returned_level: str | None = None
    returns: int = 0
    problem: str | None = None
    problem_seq: int | None = None
    entries: int = 0

    def _fail(self, seq: int, text: str) -> None:
        self.problem, self.problem_seq = f"entry {seq}: {text}", seq

    def apply(
        self, seq: int, trigger: str, frm: str | None, to: str | None, payload: str | None
    ) -> None:
        """Apply one entry; on the first disagreement keep its description in `problem`."""
        self.entries += 1
        if self.problem is not None:
            return
        state = self.state
        if trigger == _REGISTER:
            if state is not None:
                self._fail(seq, "a second 'register'")
                return
            try:
                chain = tuple(json.loads(payload or "")["chain"])
            except (ValueError, KeyError, TypeError) as exc:
                self._fail(seq, f"'register' without a readable chain ({exc})")
                return
            self.chain, self.state = chain, str(State.REGISTERED)
        elif state is None:
            self._fail(seq, f"'{trigger}' before 'register'")
            return
        elif trigger not in _EVENTS:
            if frm != state:
                self._fail(seq, f"annotation '{trigger}' says from '{frm}', replay is at '{state}'")
                return
        else:
            if frm != state:
                self._fail(seq, f"says from '{frm}', replay is at '{state}'")
                return
            outcome = step(self.chain, state, self.returned_level, self.returns, trigger)
            if outcome is None:
                self._fail(seq, f"'{trigger}' from '{state}' is refused by the state model")
                return
            self.state, self.returned_level, added = outcome
            self.returns += added
        if to != self.state:
            self._fail(seq, f"says to '{to}', replay gives '{self.state}'")


#: A replay that still holds, as what its next entry's outcome depends on:
#: (state, chain, returned level, ever returned).
_Template = tuple[str | None, tuple[str, ...], str | None, bool]
#: One stream's replay in a scan: a state id of a `ReplayTable` while it holds, the Replayer that
#: found its first problem after that.
Progress = int | Replayer


def _chain_text(payload: str | None) -> str | None:
    """The text of a canonical registration payload's "chain" array: from `"chain":[` to the
    first `]`, when no object opens before it (so the key is the payload's own, not a nested
    one). A text that is not the whole array (a level with "]" in it) never matches: the table
    keeps only texts that are exactly a chain's canonical form (`_array_text`)."""
    if not payload:
        return None
    start = payload.find('"chain":[')
    if start < 0 or payload.find("{", 1, start) >= 0:
        return None
    end = payload.find("]", start)
    return payload[start + 8 : end + 1] if end > 0 else None


def _array_text(chain: tuple[str, ...]) -> str:
    return json.dumps(list(chain), ensure_ascii=False, separators=(",", ":"))


class ReplayTable:
    """Replays many streams at once: a stream that still holds is a small int (a state id), and
    what an entry other than 'register' does to it is remembered per (state id, trigger, from,
    to), which is everything `Replayer.apply` looks at. A scan looks an entry up in `next`
    itself and calls `advance` only on a miss; a miss replays the entry with a Replayer, so the
    outcome and every problem's wording are the Replayer's."""

    def __init__(self) -> None:
        first: _Template = (None, (), None, False)
        self._templates: list[_Template] = [first]
        self._ids: dict[_Template, int] = {first: 0}
        self.next: dict[tuple[Any, ...], int] = {}
        #: a fresh stream's state id after 'register', by (its chain's text, to-state)
        self._registered: dict[tuple[str | None, str | None], int] = {}

    def replayer(self, progress: Progress) -> Replayer:
        """A stream's replay as a Replayer (a new one for a state id)."""
        if isinstance(progress, Replayer):
            return progress
        state, chain, returned_level, returned = self._templates[progress]
        return Replayer(state, chain, returned_level, 1 if returned else 0)

    def state(self, progress: int) -> str | None:
        """The replayed state of a stream that still holds."""
        return self._templates[progress][0]

    def advance(
        self,
        progress: int,
        seq: int,
        trigger: str,
        frm: str | None,
        to: str | None,
        payload: str | None,
        key: tuple[Any, Any, Any] | None = None,
        canonical: bool = False,
    ) -> Progress:
        """The stream's replay after one more entry (the Replayer, if the entry is a problem).
        `key` is (trigger, from, to) as the scan looks them up in `next`, when it reads them in
        another form than text (bytes). `canonical` says the payload is canonical JSON, as
        thidua writes it (verify knows it of an entry whose hash holds): a registration is then
        looked up by the text of its chain instead of parsing the whole payload."""
        chain = None
        if canonical and trigger == _REGISTER and progress == 0:
            chain = (_chain_text(payload), to)
            found = self._registered.get(chain)
            if found is not None:
                return found
        replayer = self.replayer(progress)
        replayer.apply(seq, trigger, frm, to, payload)
        if replayer.problem is not None:
            return replayer
        template = (replayer.state, replayer.chain, replayer.returned_level, replayer.returns > 0)
        found = self._ids.get(template)
        if found is None:
            found = self._ids[template] = len(self._templates)
            self._templates.append(template)
        if trigger != _REGISTER:  # a registration's chain comes from its payload
            self.next[(progress, *(key or (trigger, frm, to)))] = found
        elif chain is not None and chain[0] == _array_text(replayer.chain):
            self._registered[chain] = found
        return found

    def result(self, progress: Progress, entries: int) -> Replayer:
        """A stream's finished replay with its count of entries."""
        replayer = self.replayer(progress)
        replayer.entries = entries
        return replayer


@dataclass(frozen=True)
class Replayed:
    """One nomination: its replayed state (as of the instant) beside its stored state (now)."""

    nomination: int
    campaign: str
    replayed: str | None
    stored: str
    entries: int
    problem: str | None

    @property
    def differs(self) -> bool:
        return self.problem is not None or self.replayed != self.stored


@dataclass
class ReplayReport:
    entries: int = 0
    nominations: list[Replayed] = field(default_factory=list)

    @property
    def differences(self) -> list[Replayed]:
        return [item for item in self.nominations if item.differs]


def _rows_until(batches: Iterable[list[Row]], as_of: str | None) -> Iterator[list[Row]]:
    for batch in batches:
        yield batch if as_of is None else [row for row in batch if at_text(row[3]) <= as_of]


def replay_log(
    connection: Connection,
    *,
    as_of: str | None = None,
    campaign: str | None = None,
    progress: Callable[[int], None] | None = None,
    share: Share | None = None,
) -> ReplayReport:
    """Replay every nomination's stream (up to `as_of`, encoding-1 time text, when given), or
    one share's (see workflow.scanning.Share)."""
    report = ReplayReport()
    table = ReplayTable()
    # per stream: [its replay (a state id or the Replayer that found a problem), entries]
    streams: dict[str, list[Any]] = {}
    get, known = streams.get, table.next.get
    for batch in _rows_until(replay_rows(connection, share), as_of):
        for row in batch:
            stream = get(row[1])
            if stream is None:
                stream = streams[row[1]] = [0, 0]
            stream[1] += 1
            at = stream[0]
            if type(at) is int:
                after: Progress | None = known((at, row[4], row[5], row[6]))
                if after is None:
                    after = table.advance(at, row[2], row[4], row[5], row[6], row[7])
                stream[0] = after
        report.entries += len(batch)
        if progress is not None:
            progress(report.entries)
    replayers = {key: table.result(*stream) for key, stream in streams.items()}
    for batch in nomination_rows(connection, share):
        for nomination, code, state, _version, _last_hash in batch:
            if campaign is not None and code != campaign:
                continue
            key = f"nomination:{nomination}"
            replayer = replayers.get(key, Replayer())
            report.nominations.append(
                Replayed(
                    int(nomination),
                    code,
                    replayer.state,
                    state,
                    replayer.entries,
                    replayer.problem,
                )
            )
    return report
