"""The hash `audit.record` writes is the reference `hash_fields(entry_fields(...))`, for any text.

`record` normalises the payload once and only the texts beside it again; the reference
normalises the whole tree. Decomposed (NFD) Vietnamese must give the same hash either way.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from workflow import audit

VIETNAMESE = "Nguyễn Văn Đức — Phường Thạnh Xuân, Sở Nội vụ; cải cách hành chính"
texts = st.one_of(
    st.text(max_size=20),
    st.sampled_from([VIETNAMESE, unicodedata.normalize("NFD", VIETNAMESE)]),
)
payloads = st.dictionaries(
    texts, st.one_of(texts, st.integers(), st.none(), st.lists(texts, max_size=3)), max_size=4
)


def fields(name: str, reason: str | None, payload: dict[str, Any]) -> dict[str, Any]:
    return audit.entry_fields(
        stream="nomination:7",
        seq=3,
        at=datetime(2022, 4, 20, 2, tzinfo=UTC),
        actor=audit.Actor(5, name, "approver", "26734"),
        trigger="approve",
        from_state="reported",
        to_state="commune_reviewed",
        reason=reason,
        payload=payload,
        definition_version=1,
        prev_hash=audit.GENESIS,
    )


@given(name=texts, reason=st.one_of(st.none(), texts), payload=payloads)
def test_the_hash_a_command_writes_is_the_reference_hash(
    name: str, reason: str | None, payload: dict[str, Any]
) -> None:
    reference = audit.hash_fields(fields(name, reason, payload))
    assert audit._entry_hash(fields(name, reason, audit._nfc(payload))) == reference


def test_decomposed_vietnamese_hashes_as_composed() -> None:
    decomposed = unicodedata.normalize("NFD", VIETNAMESE)
    assert decomposed != VIETNAMESE
    assert audit._entry_hash(fields(decomposed, decomposed, {"x": VIETNAMESE})) == (
        audit.hash_fields(fields(VIETNAMESE, VIETNAMESE, {"x": decomposed}))
    )
