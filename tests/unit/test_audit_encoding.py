"""The fast encoder, the Merkle tree and the replay table agree with their references."""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from states import MACHINE, Dossier, InvalidTransition, State, fire
from workflow.audit import Actor, canonical_json, entry_fields, hash_fields
from workflow.encoding import ScanHasher, at_text, row_hash
from workflow.merkle import EMPTY_ROOT, MerkleBuilder, leaf_hash, node_hash
from workflow.replaying import CHAINS, step, transition_table

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"]) | st.sampled_from('"\\\n\tÀ\u0301ệ'),
    max_size=12,
)
MAYBE = st.none() | TEXT


def stored_row(fields: dict[str, Any], at: datetime) -> tuple[Any, ...]:
    actor = fields["actor"]
    return (
        1,
        fields["stream"],
        fields["seq"],
        at.strftime("%Y-%m-%d %H:%M:%S.%f"),
        actor["id"],
        actor["name"],
        actor["role"],
        actor["unit"],
        fields["trigger"],
        fields["from"],
        fields["to"],
        fields["reason"],
        canonical_json(fields["payload"]),
        fields["definition_version"],
        1,
        fields["prev"],
        "",
    )


#: An entry's fields as stored text may hold them (the role, trigger and to-state besides).
ENTRY = {
    "stream": TEXT,
    "seq": st.integers(1, 10**6),
    "at": st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    "actor_id": st.none() | st.integers(1, 10**9),
    "name": TEXT,
    "unit": MAYBE,
    "frm": MAYBE,
    "reason": MAYBE,
    "prev": TEXT,
}


@given(
    **ENTRY,
    role=TEXT,
    trigger=TEXT,
    to=MAYBE,
    payload=st.dictionaries(TEXT, st.none() | st.integers() | TEXT | st.lists(TEXT, max_size=3)),
)
def test_the_fast_encoder_hashes_exactly_as_the_reference(
    stream: str,
    seq: int,
    at: datetime,
    actor_id: int | None,
    name: str,
    role: str,
    unit: str | None,
    trigger: str,
    frm: str | None,
    to: str | None,
    reason: str | None,
    payload: dict[str, Any],
    prev: str,
) -> None:
    moment = at.replace(tzinfo=UTC)
    fields = entry_fields(
        stream=stream,
        seq=seq,
        at=moment,
        actor=Actor(actor_id, name, role, unit),
        trigger=trigger,
        from_state=frm,
        to_state=to,
        reason=reason,
        payload=payload,
        definition_version=1,
        prev_hash=prev,
    )
    row = stored_row(fields, moment)
    assert row_hash(row, at_text(row[3])) == hash_fields(fields)


@given(**ENTRY, payload=st.dictionaries(TEXT, TEXT, max_size=2), raw=st.booleans())
def test_the_scan_hasher_gives_the_reference_hash_or_leaves_the_row_to_it(
    stream: str,
    seq: int,
    at: datetime,
    actor_id: int | None,
    name: str,
    unit: str | None,
    frm: str | None,
    reason: str | None,
    payload: dict[str, Any],
    prev: str,
    raw: bool,
) -> None:
    """Text as stored (maybe not NFC), as str or as SQLite's bytes: the scan's hash is the
    reference's when every text is NFC, and never the reference's when one is not; it leaves
    (None) only rows whose reason or stream needs escaping or whose previous hash is not
    letters and digits."""
    moment = at.replace(tzinfo=UTC)
    fields = entry_fields(
        stream=stream,
        seq=seq,
        at=moment,
        actor=Actor(actor_id, name, "approver", unit),
        trigger="approve",
        from_state=frm,
        to_state="commune_reviewed",
        reason=reason,
        payload=payload,
        definition_version=1,
        prev_hash=prev,
    )
    row = list(stored_row(fields, moment))
    row[1], row[5], row[7], row[9], row[11], row[15] = stream, name, unit, frm, reason, prev
    texts = (stream, name, unit, frm, reason, prev)
    if raw:
        row = [value.encode() if isinstance(value, str) else value for value in row]
    digest = ScanHasher(raw).digests([tuple(row)])[0]
    if digest is None:
        escaped = {chr(code) for code in range(32)} | {'"', "\\"}
        letters_and_digits = prev.encode().isalnum() if raw else prev.isalnum()  # bytes: ASCII
        assert not letters_and_digits or any(set(text or "") & escaped for text in (stream, reason))
        return
    digest = digest.decode() if raw else digest
    if all(text is None or unicodedata.is_normalized("NFC", text) for text in texts):
        assert digest == hash_fields(fields)
    else:
        assert digest != hash_fields(fields)


def test_the_scan_hasher_leaves_rows_it_cannot_write_to_the_reference() -> None:
    fields = entry_fields(
        stream="nomination:1",
        seq=2,
        at=datetime(2022, 4, 20, 2, tzinfo=UTC),
        actor=Actor(1, "Võ Thanh Sơn", "approver", "26734"),
        trigger="return",
        from_state="reported",
        to_state="returned",
        reason='Thiếu "biên bản".\nBổ sung trước 15/11.',
        payload={},
        definition_version=1,
        prev_hash="0" * 64,
    )
    row = stored_row(fields, datetime(2022, 4, 20, 2))
    assert ScanHasher().digests([row]) == [None]
    assert row_hash(row, at_text(row[3])) == hash_fields(fields)
    plain = (*row[:11], "Chưa đạt", *row[12:])
    assert ScanHasher().digests([plain, (*plain[:14], 2, *plain[15:])])[1] is None


def test_text_that_is_not_nfc_hashes_as_its_nfc_form_as_the_reference_does() -> None:
    decomposed = unicodedata.normalize("NFD", "Võ Thanh Sơn")
    fields = entry_fields(
        stream="nomination:1",
        seq=1,
        at=datetime(2022, 4, 20, 2, tzinfo=UTC),
        actor=Actor(1, decomposed, "officer", None),
        trigger="register",
        from_state=None,
        to_state="registered",
        reason=decomposed,
        payload={"chain": ["commune"]},
        definition_version=1,
        prev_hash="0" * 64,
    )
    row = stored_row(fields, datetime(2022, 4, 20, 2))
    assert row_hash(row, at_text(row[3])) == hash_fields(fields)


def test_times_are_written_the_same_from_sqlite_text_postgresql_text_and_datetimes() -> None:
    moment = datetime(2022, 12, 12, 8, 15, 0, 1234, tzinfo=UTC)
    expected = "2022-12-12T08:15:00.001234Z"
    assert at_text("2022-12-12 08:15:00.001234") == expected
    assert at_text(expected) == expected
    assert at_text(moment) == expected


def reference_root(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1, as written: split at the largest power of two below n."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 9, 31, 64, 100])
def test_the_streaming_merkle_root_is_the_rfc_9162_root(n: int) -> None:
    hashes = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(n)]
    builder = MerkleBuilder()
    for entry_hash in hashes:
        builder.add_entry(entry_hash)
    assert builder.root() == reference_root([leaf_hash(h) for h in hashes])
    assert builder.size == n


def test_leaves_and_nodes_are_domain_separated() -> None:
    entry = "ab" * 32
    assert leaf_hash(entry) == hashlib.sha256(b"\x00" + bytes.fromhex(entry)).digest()
    assert MerkleBuilder().root() == EMPTY_ROOT


def test_the_replay_table_gives_what_the_machine_gives_for_every_chain_state_and_trigger() -> None:
    compared = 0
    for chain in CHAINS:
        for key, outcome in transition_table(chain).items():
            _, state, returned_level, returned, trigger = key
            before = 1 if returned else 0
            dossier = Dossier(state, chain, returned_level, before)
            try:
                fire(dossier, trigger)
            except InvalidTransition:
                assert outcome is None, key
            else:
                assert outcome == (dossier.state, dossier.returned_level, dossier.returns - before)
            assert step(chain, state, returned_level, before, trigger) == outcome
            compared += 1
    expected = sum(len(State) * (1 + len(chain)) * 2 * len(MACHINE.events) for chain in CHAINS)
    assert compared == expected
