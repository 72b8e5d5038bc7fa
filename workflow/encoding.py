"""The fast form of the audit log's canonical encoding, for scanning millions of stored rows.

`workflow.audit.hash_fields(entry_fields(...))` is the reference: it builds a dict and hands it to
`json.dumps(sort_keys=True)`. Encoding 1 has a fixed set of keys, so the same bytes can be written
with one format string and the C string escaper of the `json` module, NFC-normalising only text
that is not ASCII and not normalised already. The payload is stored as its canonical JSON text,
exactly as hashed, and goes in as stored. A unit test proves both forms give the same hash.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import json.encoder
import re
import unicodedata
from datetime import datetime
from typing import Any

from workflow.audit import canonical_json
from workflow.timeutil import as_utc

_sha256 = hashlib.sha256

__all__ = ["COLUMNS", "Row", "ScanHasher", "at_text", "row_hash"]

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


#: Pieces a scan keeps before it starts again (a log has few actors and state pairs).
_KEEP = 65_536
#: An entry's text around its three kept pieces (actor, since, until): actor, date, time, since,
#: payload, prev, reason, seq, stream, until. The text fields it quotes need no escaping.
_LINE = '%s%sT%sZ%s%s,"prev":"%s","reason":%s,"seq":%d,"stream":"%s"%s'
#: What the escaper rewrites, in text and in UTF-8 bytes.
_UNSAFE = re.compile(r'[\x00-\x1f"\\]')
_UNSAFE_BYTES = re.compile(rb'[\x00-\x1f"\\]')
#: What a scan of text (False) or of UTF-8 bytes (True) works with: the rows' text type, the
#: line, the search for what needs escaping, the date/time separators, "Z", null, a quoted text.
_FORMS: dict[bool, tuple[Any, ...]] = {
    False: (str, _LINE, _UNSAFE.search, " T", "Z", "null", '"%s"'),
    True: (bytes, _LINE.encode(), _UNSAFE_BYTES.search, b" T", b"Z", b"null", b'"%s"'),
}


class ScanHasher:
    """Encoding-1 hashes for a scan of millions of rows, at about 60% of `row_hash`'s cost.

    Rows come as the scan reads them: text as str, or as the UTF-8 bytes SQLite stores
    (`raw`, see workflow.scanning), which spares decoding text only to encode it again. The text
    of an entry repeats from row to row in three places: the actor, the definition version with
    the from-state, and the to-state with the trigger; each is escaped once and kept.

    It does not NFC-normalise: text thidua wrote is NFC, and then the hash is the reference's. A
    row whose text is not NFC gets another hash here, and the caller checks that row again with
    `row_hash` (workflow.verifying does), so a scan may doubt a row but never clears one the
    reference refuses: every field goes in as JSON (numbers through int, text through the
    escaper, the payload as stored, as `row_hash` does), so an equal hash means the same fields.
    """

    __slots__ = ("_actors", "_raw", "_states")

    def __init__(self, raw: bool = False) -> None:
        self._raw = raw
        self._actors: dict[tuple[Any, ...], Any] = {}
        self._states: dict[tuple[Any, ...], tuple[Any, Any]] = {}

    def digests(self, rows: list[Row]) -> list[Any]:
        """Each row's hex hash, as the rows hold text (bytes when raw); None for a row this
        form leaves to the reference: its `encoding` is not 1, its time is not in the stored
        form, its reason or stream needs escaping, or its previous hash is not letters and
        digits (as a hex hash is)."""
        raw, actors, states = self._raw, self._actors, self._states
        kind, line, search, seps, zed, null, quoted = _FORMS[raw]
        sha256, hexlify = _sha256, binascii.hexlify
        out: list[Any] = []
        add = out.append
        for row in rows:
            _, stream, seq, at, actor_id, name, role, unit, trigger, frm, to, reason = row[:12]
            payload, dv, encoding, prev = row[12:16]
            if (
                encoding != 1
                or type(at) is not kind
                or not ((len(at) == 26 and at[10:11] in seps) or (len(at) == 27 and at[-1:] == zed))
                or not prev.isalnum()  # a hex hash needs no escaping
                or search(stream)
                or (reason is not None and search(reason))
            ):
                add(None)
                continue
            actor = actors.get((actor_id, name, role, unit)) or self._actor(row)
            pair = states.get((dv, frm, to, trigger)) or self._states_of(row)
            text = line % (
                actor,
                at[:10],
                at[11:26],
                pair[0],
                payload,
                prev,
                null if reason is None else quoted % reason,
                int(seq),
                stream,
                pair[1],
            )
            add(hexlify(sha256(text).digest()) if raw else sha256(text.encode("utf-8")).hexdigest())
        return out

    def _text(self, value: Any) -> str:
        return "null" if value is None else str(_escape(value.decode() if self._raw else value))

    def _actor(self, row: Row) -> Any:
        actor_id, name, role, unit = row[4:8]
        number = "null" if actor_id is None else int(actor_id)
        text = (
            f'{{"actor":{{"id":{number},"name":{self._text(name)},"role":{self._text(role)},'
            f'"unit":{self._text(unit)}}},"at":"'
        )
        return _keep(self._actors, row[4:8], self._form(text))

    def _states_of(self, row: Row) -> tuple[Any, Any]:
        """The text from the definition version to the payload, and after the stream."""
        trigger, frm, to, dv = row[8], row[9], row[10], row[13]
        since = f'","definition_version":{int(dv)},"from":{self._text(frm)},"payload":'
        until = f',"to":{self._text(to)},"trigger":{self._text(trigger)},"v":1}}'
        pair = (self._form(since), self._form(until))
        _keep(self._states, (dv, frm, to, trigger), pair)
        return pair

    def _form(self, text: str) -> Any:
        return text.encode("utf-8") if self._raw else text


def _keep(pieces: dict[tuple[Any, ...], Any], key: tuple[Any, ...], piece: Any) -> Any:
    """Keep `piece` under `key`, starting again when the pieces are many."""
    if len(pieces) >= _KEEP:
        pieces.clear()
    pieces[key] = piece
    return piece
