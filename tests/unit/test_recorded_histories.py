"""Recorded histories (tests/histories, written by tools/record_histories.py) still hold.

Every entry's hash is recomputed from its recorded fields with the encoding it was written with,
by the reference and by the fast encoder; every chain links; every nomination replays, through the
state model and through the replay table, to the state recorded beside it. A change of the
encoding or of the state model that alters a hash or a state fails here: add a new encoding (or
definition) version instead.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from states import replay
from workflow.audit import GENESIS, Actor, entry_fields, hash_fields
from workflow.encoding import COLUMNS, row_hash
from workflow.replaying import Replayer

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("*.jsonl"))
NAMES = [name.strip() for name in COLUMNS.split(",")]


def load(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return (
        [r for r in records if r["kind"] == "entry"],
        [r for r in records if r["kind"] == "nomination"],
    )


def test_the_histories_are_recorded() -> None:
    assert [path.name for path in HISTORIES] == ["demo.jsonl", "properties.jsonl"]


@pytest.mark.parametrize("path", HISTORIES, ids=lambda path: path.stem)
def test_every_recorded_hash_is_what_the_current_code_computes(path: Path) -> None:
    entries, _ = load(path)
    assert entries
    for entry in entries:
        fields = entry_fields(
            stream=entry["stream"],
            seq=entry["seq"],
            at=datetime.fromisoformat(entry["at"].replace("Z", "+00:00")),
            actor=Actor(
                entry["actor_id"], entry["actor_name"], entry["actor_role"], entry["actor_unit"]
            ),
            trigger=entry["trigger"],
            from_state=entry["from_state"],
            to_state=entry["to_state"],
            reason=entry["reason"],
            payload=json.loads(entry["payload"]),
            definition_version=entry["definition_version"],
            prev_hash=entry["prev_hash"],
        )
        assert hash_fields(fields, entry["encoding"]) == entry["hash"], entry["id"]
        row = tuple(entry[name] for name in NAMES)
        assert row_hash(row, entry["at"]) == entry["hash"], entry["id"]


@pytest.mark.parametrize("path", HISTORIES, ids=lambda path: path.stem)
def test_every_recorded_chain_links_in_sequence(path: Path) -> None:
    entries, _ = load(path)
    heads: dict[str, tuple[int, str]] = {}
    for entry in entries:
        seq, prev = heads.get(entry["stream"], (0, GENESIS))
        assert (entry["seq"], entry["prev_hash"]) == (seq + 1, prev), entry["id"]
        heads[entry["stream"]] = (entry["seq"], entry["hash"])


@pytest.mark.parametrize("path", HISTORIES, ids=lambda path: path.stem)
def test_every_recorded_nomination_replays_to_its_recorded_state(path: Path) -> None:
    entries, nominations = load(path)
    streams: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        streams[entry["stream"]].append(entry)
    assert nominations
    for nomination in nominations:
        stream = streams[f"nomination:{nomination['id']}"]
        model = replay({**entry, "payload": json.loads(entry["payload"])} for entry in stream)
        assert model.mismatches == []
        assert model.dossier is not None
        fast = Replayer()
        for entry in stream:
            fast.apply(
                entry["seq"],
                entry["trigger"],
                entry["from_state"],
                entry["to_state"],
                entry["payload"],
            )
        assert fast.problem is None
        assert model.dossier.state == fast.state == nomination["state"]
        assert (len(stream), stream[-1]["hash"]) == (
            nomination["version"],
            nomination["last_hash"],
        )
