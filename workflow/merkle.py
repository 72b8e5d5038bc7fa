"""Merkle tree hashing of RFC 6962 / RFC 9162 (§2.1.1), over the audit log's entries by id.

    leaf  = SHA-256(0x00 || the 32 bytes of the entry's hash)
    node  = SHA-256(0x01 || left || right)
    MTH of n leaves: split at the largest power of two below n, left side complete.

The leaf is the entry's own hash (whose canonical encoding covers every field and the previous
hash), so the root commits to every entry's content and to their order by id.
"""

from __future__ import annotations

import hashlib

__all__ = ["EMPTY_ROOT", "MerkleBuilder", "leaf_hash", "merkle_root", "node_hash"]

#: The root of an empty tree: SHA-256 of nothing (RFC 9162 §2.1.1).
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry_hash_hex: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(entry_hash_hex)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class MerkleBuilder:
    """The root of a growing list of leaves, in O(log n) memory.

    Complete subtrees are merged as soon as two of one size meet; at the end the incomplete right
    edge is folded from right to left, which is the RFC's split at the largest power of two.
    """

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []
        self.size = 0

    def add(self, leaf: bytes) -> None:
        size, node = 1, leaf
        stack = self._stack
        while stack and stack[-1][0] == size:
            node = node_hash(stack.pop()[1], node)
            size *= 2
        stack.append((size, node))
        self.size += 1

    def add_entry(self, entry_hash_hex: str) -> None:
        self.add(leaf_hash(entry_hash_hex))

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        node = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            node = node_hash(left, node)
        return node


def merkle_root(entry_hashes: list[str]) -> bytes:
    builder = MerkleBuilder()
    for entry_hash in entry_hashes:
        builder.add_entry(entry_hash)
    return builder.root()
