"""A committed event with its envelope: who, when, why, and the hash chain.

``hash = sha256(parent hash || canonical encoding of the envelope and event)``; the
first record's parent is 32 zero bytes. Hashes are filled in lazily (`chain_hashes`)
because hashing a large bulk import costs real time and an in-memory load does not
need it until the history is persisted, forked, merged or verified.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import msgspec

from ledger.core.codec import encode
from ledger.core.events import AnyEvent, kind_of

GENESIS = bytes(32)

DO, UNDO, REDO, MERGE = "do", "undo", "redo", "merge"


class Record(msgspec.Struct):
    seq: int
    tx: int
    author: str
    time: str
    message: str
    tool_version: str
    tx_kind: str  # do | undo | redo | merge
    ref: int  # the transaction an undo/redo refers to, else 0
    event: AnyEvent
    hash: str = ""
    meta: dict[str, Any] = {}  # transaction metadata (merge heads, resolutions...)
    size: int = 0  # encoded event bytes, set by stores that encode (not hashed)

    @property
    def kind(self) -> str:
        return kind_of(self.event)

    def content(self) -> bytes:
        """Canonical bytes of everything the hash vouches for."""
        return encode((self.seq, self.tx, self.author, self.time, self.message,
                       self.tool_version, self.tx_kind, self.ref, self.meta, self.event))


def link_hash(parent: bytes, content: bytes) -> bytes:
    return hashlib.sha256(parent + content).digest()


def chain_hashes(records: Iterable[Record], parent_hex: str = "") -> str:
    """Fill in missing hashes in order; return the last hash (hex)."""
    parent = bytes.fromhex(parent_hex) if parent_hex else GENESIS
    last = parent_hex
    for rec in records:
        if not rec.hash:
            rec.hash = link_hash(parent, rec.content()).hex()
        last = rec.hash
        parent = bytes.fromhex(rec.hash)
    return last
