"""Signed checkpoints of the audit log, kept by an auditor outside the database.

A checkpoint is a statement of the log at one moment, signed with Ed25519 (`cryptography`):

    {"format": "thidua-audit-checkpoint", "version": 1, "audit_encoding": 1,
     "count": N, "root": hex of the RFC 6962 Merkle root of the first N entries by id
     (leaf = SHA-256(0x00 || entry hash bytes), see workflow.merkle),
     "at": "YYYY-MM-DDTHH:MM:SS.ffffffZ", "key": hex SHA-256 of the raw public key,
     "heads": {stream: [seq, hash of that entry]}}

signed over its canonical JSON (workflow.audit.canonical_json, UTF-8). The file is
{"statement": …, "signature": hex}. Verifying against it recomputes the root of the first N
entries of today's log (so the log must extend the checkpointed one: a cut tail or a recomputed
chain changes it) and looks up each stream's checkpointed head to name the stream that changed.
A checkpoint whose signature does not verify with the auditor's public key is refused.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection

from workflow.audit import ENCODING, Break, canonical_json
from workflow.clock import SystemClock
from workflow.db import READ_ONLY, make_engine
from workflow.errors import InvalidInput, Refused
from workflow.merkle import MerkleBuilder
from workflow.scanning import audit_rows

__all__ = [
    "FORMAT",
    "VERSION",
    "check_statement",
    "key_id",
    "keygen",
    "load_checkpoint",
    "make_statement",
    "scheduled_checkpoint",
    "sign",
    "watch_breaks",
    "write_checkpoint",
]

FORMAT = "thidua-audit-checkpoint"
VERSION = 1
PRIVATE_NAME = "thidua-audit.key"
PUBLIC_NAME = "thidua-audit.pub"


def _create(path: Path, data: bytes, mode: int) -> None:
    """Write a new file with `mode` from the start; never overwrite one."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError as exc:
        raise InvalidInput(f"file '{path}' exists already; thidua does not overwrite keys") from exc
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def keygen(out_dir: str | Path) -> tuple[Path, Path]:
    """A new Ed25519 key pair in `out_dir`: the private key (mode 0600) and the public key."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_path, public_path = folder / PRIVATE_NAME, folder / PUBLIC_NAME
    _create(private_path, private, 0o600)
    _create(public_path, public, 0o644)
    return private_path, public_path


def _read(path: str | Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read the {what} '{path}': {exc.strerror}") from exc


def _private_key(path: str | Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(_read(path, "private key"), password=None)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"'{path}' is not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInput(f"'{path}' is not an Ed25519 private key")
    return key


def _public_key(path: str | Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(_read(path, "public key"))
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"'{path}' is not a PEM public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInput(f"'{path}' is not an Ed25519 public key")
    return key


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(raw)
    return digest.finalize().hex()


def make_statement(connection: Connection, now: datetime) -> dict[str, Any]:
    """The unsigned statement of the log as this connection's transaction sees it."""
    merkle = MerkleBuilder()
    heads: dict[str, list[Any]] = {}
    for batch in audit_rows(connection):
        for row in batch:
            merkle.add_entry(row[16])
            heads[row[1]] = [row[2], row[16]]
    return {
        "format": FORMAT,
        "version": VERSION,
        "audit_encoding": ENCODING,
        "count": merkle.size,
        "root": merkle.root().hex(),
        "at": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "heads": heads,
    }


def sign(statement: dict[str, Any], private_key_path: str | Path) -> dict[str, Any]:
    key = _private_key(private_key_path)
    statement = {**statement, "key": key_id(key.public_key())}
    signature = key.sign(canonical_json(statement).encode("utf-8"))
    return {"statement": statement, "signature": signature.hex()}


def write_checkpoint(checkpoint: dict[str, Any], path: str | Path) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(checkpoint, ensure_ascii=False, sort_keys=True, indent=1)
    target.write_text(text + "\n", encoding="utf-8")
    return target


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    try:
        data = json.loads(_read(path, "checkpoint").decode("utf-8"))
        statement, signature = data["statement"], data["signature"]
        ok = (
            isinstance(data, dict)
            and statement["format"] == FORMAT
            and isinstance(statement["count"], int)
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"'{path}' is not a thidua audit checkpoint: {exc}") from exc
    if not ok or not isinstance(signature, str):
        raise InvalidInput(f"'{path}' is not a thidua audit checkpoint")
    if statement["version"] != VERSION:
        raise InvalidInput(
            f"checkpoint '{path}' is of version {statement['version']}, "
            f"this thidua reads version {VERSION}"
        )
    return dict(data)


def check_statement(checkpoint: dict[str, Any], public_key_path: str | Path) -> dict[str, Any]:
    """The checkpoint's statement, if it is signed by the key at `public_key_path`; else Refused."""
    key = _public_key(public_key_path)
    statement = checkpoint["statement"]
    try:
        signature = bytes.fromhex(checkpoint["signature"])
        key.verify(signature, canonical_json(statement).encode("utf-8"))
    except (ValueError, InvalidSignature) as exc:
        raise Refused(
            "untrusted_checkpoint",
            f"the checkpoint of {statement.get('at')} is not signed by the trusted key "
            f"{key_id(key)[:16]}… (it names key {str(statement.get('key'))[:16]}…); "
            "it proves nothing and is refused",
        ) from exc
    return dict(statement)


def watch_breaks(
    statement: dict[str, Any], total: int, root: bytes, seen: dict[str, str]
) -> list[Break]:
    """Where today's log fails to extend the checkpointed one."""
    found: list[Break] = []
    count = statement["count"]
    if total < count:
        found.append(
            Break(
                "log",
                None,
                None,
                f"the log has {total} entries, fewer than the {count} of the checkpoint of "
                f"{statement['at']}: entries were deleted (the tail was cut)",
            )
        )
    elif root.hex() != statement["root"]:
        found.append(
            Break(
                "log",
                None,
                None,
                f"the first {count} entries no longer hash to the root signed at "
                f"{statement['at']}: entries were edited, deleted, reordered or recomputed since",
            )
        )
    for stream, (seq, head) in statement["heads"].items():
        now = seen.get(stream)
        if now is None:
            found.append(
                Break(
                    stream,
                    seq,
                    None,
                    f"entry {seq} existed at the checkpoint of {statement['at']} and is gone "
                    "(deleted: the tail was cut)",
                )
            )
        elif now != head:
            found.append(
                Break(
                    stream,
                    seq,
                    None,
                    f"entry {seq} has another hash than at the checkpoint of {statement['at']}: "
                    f"the stream was rewritten (its chain recomputed) at or before entry {seq}",
                )
            )
    return found


def scheduled_checkpoint(database_url: str, key_path: str, out_dir: str) -> str:
    """A scheduler's job (by text: `workflow.checkpoints:scheduled_checkpoint`): sign one now.

    Writes `out_dir/checkpoint-YYYYMMDDTHHMMSSZ.json` and returns its path.
    """
    engine = make_engine(database_url)
    try:
        with engine.execution_options(**READ_ONLY).connect() as connection:
            now = SystemClock().now()
            checkpoint = sign(make_statement(connection, now), key_path)
    finally:
        engine.dispose()
    name = f"checkpoint-{now:%Y%m%dT%H%M%SZ}.json"
    return str(write_checkpoint(checkpoint, Path(out_dir) / name))
