"""The fast form of the audit log's canonical encoding, for scanning millions of stored rows.

`workflow.audit.hash_fields(entry_fields(...))` is the reference: it builds a dict and hands it to
`json.dumps(sort_keys=True)`. Encoding 1 has a fixed set of keys, so the same bytes can be written
with one format string and the C string escaper of the `json` module, NFC-normalising only text
that is not ASCII and not normalised already. The payload is stored as its canonical JSON text,
exactly as hashed, and goes in as stored. A unit test proves both forms give the same hash.
"""

from __future__ import annotations

import hashlib
import json
import json.encoder
import unicodedata
from datetime import datetime
from typing import Any

from workflow.audit import canonical_json
from workflow.timeutil import as_utc

__all__ = ["COLUMNS", "Row", "at_text", "row_hash"]

#: The audit_log columns a scan reads, in this order (see `Row`).
COLUMNS = (
    "id, stream, seq, at, actor_id, actor_name, actor_role, actor_unit, trigger, from_state, "
    "to_state, reason, payload, definition_version, encoding, prev_hash, hash"
)
#: A scanned row: a plain tuple in the order of COLUMNS, `at` as stored by the driver.
Row = tuple[Any, ...]

_escape = json.encoder.encode_basestring  # the C escaper json.dumps(ensure_ascii=False) uses
_ENCODING_1 = (
    '{"actor":{"id":%s,"name":%s,"role":%s,"unit":%s},"at":"%s","definition_version":%d,'
    '"from":%s,"payload":%s,"prev":%s,"reason":%s,"seq":%d,"stream":%s,"to":%s,"trigger":%s,'
    '"v":1}'
)


def _text(value: str | None) -> str:
    if value is None:
        return "null"
    if not value.isascii() and not unicodedata.is_normalized("NFC", value):
        value = unicodedata.normalize("NFC", value)
    return str(_escape(value))


def at_text(value: Any) -> str:
    """An entry's time as encoding 1 writes it: YYYY-MM-DDTHH:MM:SS.ffffffZ (UTC).

    SQLite returns the stored text ("YYYY-MM-DD HH:MM:SS.ffffff", UTC); PostgreSQL scans select
    the same text with to_char; a datetime (from the ORM) is formatted.
    """
    if isinstance(value, str) and len(value) == 26 and value[10] in " T":
        return f"{value[:10]}T{value[11:]}Z"
    if isinstance(value, str) and len(value) == 27 and value.endswith("Z"):
        return value
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _normalised_text(value: str) -> bool:
    return unicodedata.is_normalized("NFC", value)


def _nfc(value: str | None) -> bool:
    return value is None or value.isascii() or unicodedata.is_normalized("NFC", value)


def row_hash(row: Row, at: str) -> str:
    """The SHA-256 of a scanned row's canonical encoding (the row's `encoding` must be 1).

    `str.isascii` is a flag lookup, so only non-ASCII fields are checked for NFC; a row with a
    field that is not NFC (never, for text thidua wrote) is built again with each field
    normalised, as the reference does.
    """
    q = _escape
    _, stream, seq, _, actor_id, name, role, unit, trigger, frm, to, reason, payload, dv = row[:14]
    prev = row[15]
    if not (
        (name.isascii() or _normalised_text(name))
        and (reason is None or reason.isascii() or _normalised_text(reason))
        and (payload.isascii() or _normalised_text(payload))
        and stream.isascii()
        and role.isascii()
        and trigger.isascii()
        and prev.isascii()
        and (unit is None or unit.isascii())
        and (frm is None or frm.isascii())
        and (to is None or to.isascii())
    ) and not all(
        _nfc(v) for v in (stream, role, trigger, prev, unit, frm, to, name, reason, payload)
    ):
        return hashlib.sha256(_normalised(row, at).encode("utf-8")).hexdigest()
    text = (
        f'{{"actor":{{"id":{"null" if actor_id is None else int(actor_id)},"name":{q(name)},'
        f'"role":{q(role)},"unit":{"null" if unit is None else q(unit)}}},"at":"{at}",'
        f'"definition_version":{int(dv)},"from":{"null" if frm is None else q(frm)},'
        f'"payload":{payload},"prev":{q(prev)},"reason":{"null" if reason is None else q(reason)},'
        f'"seq":{int(seq)},"stream":{q(stream)},"to":{"null" if to is None else q(to)},'
        f'"trigger":{q(trigger)},"v":1}}'
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _normalised(row: Row, at: str) -> str:
    _, stream, seq, _, actor_id, name, role, unit, trigger, frm, to, reason, payload, dv = row[:14]
    payload = canonical_json(json.loads(payload))
    return _ENCODING_1 % (
        "null" if actor_id is None else int(actor_id),
        _text(name),
        _text(role),
        _text(unit),
        at,
        dv,
        _text(frm),
        payload,
        _text(row[15]),
        _text(reason),
        seq,
        _text(stream),
        _text(to),
        _text(trigger),
    )
