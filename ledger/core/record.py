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

from ledger.core.codec import encode_canonical
from ledger.core.events import AnyEvent, kind_of

GENESIS = bytes(32)

DO, UNDO, REDO, MERGE = "do", "undo", "redo", "merge"


class Record(msgspec.Struct, frozen=True):
    """A committed event with its envelope. Immutable: a store hands out records
    with ``hash`` filled in; nothing changes one after it is made."""

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

    @property
    def kind(self) -> str:
        return kind_of(self.event)

    def content(self) -> bytes:
        """Canonical bytes of everything the hash vouches for (big arrays by digest,
        see `ledger.core.codec.encode_canonical`)."""
        return encode_canonical((self.seq, self.tx, self.author, self.time, self.message,
                                 self.tool_version, self.tx_kind, self.ref, self.meta,
                                 self.event))

    def with_hash(self, digest: str) -> Record:
        return msgspec.structs.replace(self, hash=digest)

    def envelope(self) -> Envelope:
        return Envelope(self.seq, self.tx, self.author, self.time, self.message,
                        self.tool_version, self.tx_kind, self.ref, self.kind, self.hash,
                        self.meta)


class Envelope(msgspec.Struct, frozen=True):
    """A record without its event: what `log`, `blame` and undo bookkeeping need,
    read without decoding (or even fetching) an event's payload."""

    seq: int
    tx: int
    author: str
    time: str
    message: str
    tool_version: str
    tx_kind: str
    ref: int
    kind: str
    hash: str = ""
    meta: dict[str, Any] = {}


class TxInfo(msgspec.Struct, frozen=True):
    """One transaction: its seq range and the envelope fields all its records share."""

    tx: int
    first: int
    last: int
    author: str
    time: str
    message: str
    tx_kind: str
    ref: int


def link_hash(parent: bytes, content: bytes) -> bytes:
    return hashlib.sha256(parent + content).digest()


def chain_hashes(records: Iterable[Record], parent_hex: str = "") -> list[Record]:
    """The records with hashes filled in, chaining from ``parent_hex``."""
    parent = bytes.fromhex(parent_hex) if parent_hex else GENESIS
    out = []
    for rec in records:
        digest = link_hash(parent, rec.content())
        out.append(rec.with_hash(digest.hex()))
        parent = digest
    return out
