"""Export audit entries for auditors: JSON Lines, CSV and XLSX, with one documented column set.

Columns (FORMAT 1, stable: a change adds a new format number and new columns at the end):

    entry_id, stream, nomination_id, campaign, seq, at_local (dd/mm/yyyy HH:MM:SS, Vietnam),
    at_utc (YYYY-MM-DDTHH:MM:SS.ffffffZ), actor_id, actor_name, actor_role, actor_unit,
    actor_unit_name, trigger, from_state, to_state, reason, payload, definition_version,
    encoding, prev_hash, hash

`payload` is the canonical JSON text exactly as hashed (JSON Lines: the same text, parsed, as an
object). Empty values are empty cells in CSV and XLSX and null in JSON Lines. Text is UTF-8 (CSV
with a BOM so spreadsheet programs read Vietnamese correctly) and kept exactly as stored.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from workflow.encoding import at_text
from workflow.errors import InvalidInput, NotFound
from workflow.scanning import audit_rows
from workflow.timeutil import format_local

__all__ = ["COLUMNS", "FORMAT", "FORMATS", "MEDIA_TYPES", "check_format", "export", "records"]

FORMAT = 1
FORMATS = ("jsonl", "csv", "xlsx")
#: The media type of each format, as a download is served.
MEDIA_TYPES = {
    "jsonl": "application/x-ndjson",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
COLUMNS = (
    "entry_id",
    "stream",
    "nomination_id",
    "campaign",
    "seq",
    "at_local",
    "at_utc",
    "actor_id",
    "actor_name",
    "actor_role",
    "actor_unit",
    "actor_unit_name",
    "trigger",
    "from_state",
    "to_state",
    "reason",
    "payload",
    "definition_version",
    "encoding",
    "prev_hash",
    "hash",
)


def _lookup(connection: Connection, sql: str) -> dict[Any, Any]:
    return {row[0]: row[1] for row in connection.exec_driver_sql(sql)}


def _streams(
    connection: Connection, nomination: int | None, campaign: str | None
) -> tuple[set[str] | None, dict[str, str]]:
    """The streams to export (None: all) and each nomination or campaign stream's campaign."""
    codes = _lookup(connection, "SELECT id, code FROM campaigns")
    owner = {f"campaign:{cid}": code for cid, code in codes.items()}
    for nid, cid in connection.exec_driver_sql("SELECT id, campaign_id FROM nominations"):
        owner[f"nomination:{nid}"] = codes[cid]
    if nomination is not None:
        stream = f"nomination:{nomination}"
        if stream not in owner:
            raise NotFound(f"nomination {nomination} does not exist")
        return {stream}, owner
    if campaign is not None:
        if campaign not in codes.values():
            raise NotFound(f"campaign '{campaign}' does not exist")
        return {stream for stream, code in owner.items() if code == campaign}, owner
    return None, owner


def records(
    connection: Connection, *, nomination: int | None = None, campaign: str | None = None
) -> Iterator[dict[str, Any]]:
    """The chosen entries by id, as dicts in COLUMNS order. An unknown nomination or campaign
    is refused here, before any file is opened."""
    wanted, owner = _streams(connection, nomination, campaign)
    units = _lookup(connection, "SELECT code, name FROM units")
    return _records(connection, wanted, owner, units)


def _records(
    connection: Connection,
    wanted: set[str] | None,
    owner: dict[str, str],
    units: dict[Any, Any],
) -> Iterator[dict[str, Any]]:
    only = next(iter(wanted)) if wanted is not None and len(wanted) == 1 else None
    for batch in audit_rows(connection, stream=only):
        for row in batch:
            stream = row[1]
            if wanted is not None and stream not in wanted:
                continue
            at = at_text(row[3])
            kind, _, number = stream.partition(":")
            yield {
                "entry_id": row[0],
                "stream": stream,
                "nomination_id": int(number) if kind == "nomination" else None,
                "campaign": owner.get(stream),
                "seq": row[2],
                "at_local": format_local(datetime.fromisoformat(at), seconds=True),
                "at_utc": at,
                "actor_id": row[4],
                "actor_name": row[5],
                "actor_role": row[6],
                "actor_unit": row[7],
                "actor_unit_name": units.get(row[7]),
                "trigger": row[8],
                "from_state": row[9],
                "to_state": row[10],
                "reason": row[11],
                "payload": row[12],
                "definition_version": row[13],
                "encoding": row[14],
                "prev_hash": row[15],
                "hash": row[16],
            }


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InvalidInput(f"export format '{fmt}' is not one of {', '.join(FORMATS)}")


def export(
    connection: Connection,
    out: str | Path,
    fmt: str,
    *,
    nomination: int | None = None,
    campaign: str | None = None,
) -> int:
    """Write the chosen entries to `out` in `fmt`; the number of entries written."""
    check_format(fmt)
    rows = records(connection, nomination=nomination, campaign=campaign)
    target = Path(out)
    if fmt == "jsonl":
        return _jsonl(rows, target)
    if fmt == "csv":
        return _csv(rows, target)
    return _xlsx(rows, target)


def _jsonl(rows: Iterator[dict[str, Any]], target: Path) -> int:
    count = 0
    with target.open("w", encoding="utf-8", newline="\n") as handle:
        for record in rows:
            record["payload"] = json.loads(record["payload"])
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def _csv(rows: Iterator[dict[str, Any]], target: Path) -> int:
    count = 0
    with target.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for record in rows:
            writer.writerow(["" if value is None else value for value in record.values()])
            count += 1
    return count


def _xlsx(rows: Iterator[dict[str, Any]], target: Path) -> int:
    from openpyxl import Workbook  # loaded only when a spreadsheet is asked for

    book = Workbook(write_only=True)
    sheet = book.create_sheet("audit")
    sheet.append(list(COLUMNS))
    count = 0
    for record in rows:
        sheet.append(list(record.values()))
        count += 1
    book.save(target)
    return count
