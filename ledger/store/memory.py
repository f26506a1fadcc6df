"""Records in a Python list: the store of an in-memory ledger.

Hashes are computed lazily (on the first `hash_at`, `read` or `verify` that needs
them): an in-memory load of a big file must not pay for hashing on the way in.
Snapshots keep their payloads as they are, arrays included (no copy: the arrays
are read-only).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ledger.core.codec import Payload, decode_payload, local_arrays
from ledger.core.record import GENESIS, Envelope, Record, TxInfo, chain_hashes, link_hash
from ledger.errors import (
    ConcurrencyError,
    ConflictError,
    IntegrityError,
    NotFoundError,
    ValidationError,
)
from ledger.store.base import Snapshot, Store


def _frozen(arr: np.ndarray) -> np.ndarray:
    """A read-only array that nobody else can change: shared when it already is
    read-only and owns no writable base (borrowed import columns), else copied."""
    if not arr.flags.writeable and (arr.base is None or not getattr(arr.base, "flags", arr)
                                    .writeable):
        return arr
    out = arr.copy()
    out.flags.writeable = False
    return out


class MemoryStore(Store):
    def __init__(self) -> None:
        self.records: list[Record] = []
        self._hashes: list[str] = []  # hashes of records[:len(_hashes)]
        self._tx_first: dict[int, int] = {}
        self._summary: dict[str, Any] = {}
        self._tags: dict[str, int] = {}
        self._snapshots: dict[int, tuple[str, Payload]] = {}
        self._keys: dict[str, tuple[str, int]] = {}
        self._signatures: dict[int, tuple[int, str, str]] = {}

    def head(self) -> int:
        return len(self.records)

    def _hash_upto(self, seq: int) -> None:
        parent = bytes.fromhex(self._hashes[-1]) if self._hashes else GENESIS
        for rec in self.records[len(self._hashes):seq]:
            digest = link_hash(parent, rec.content())
            if rec.hash and rec.hash != digest.hex():
                raise IntegrityError(f"record {rec.seq} carries a hash that does not "
                                     "continue this chain", seq=rec.seq)
            self._hashes.append(digest.hex())
            parent = digest

    def hash_at(self, seq: int) -> str | None:
        if seq == 0:
            return ""
        if not 0 < seq <= len(self.records):
            return None
        self._hash_upto(seq)
        return self._hashes[seq - 1]

    def append(self, records: Sequence[Record], expected_head: int, *,
               summary: dict[str, Any] | None = None) -> None:
        if expected_head != len(self.records):
            raise ConcurrencyError(
                f"expected head {expected_head}, store is at {len(self.records)}")
        for i, rec in enumerate(records):
            if rec.seq != expected_head + i + 1:
                raise ValidationError(f"record {i} has seq {rec.seq}, "
                                      f"expected {expected_head + i + 1}")
        if any(rec.hash for rec in records):  # copied history: check before storing
            self._hash_upto(len(self.records))
            parent = bytes.fromhex(self._hashes[-1]) if self._hashes else GENESIS
            for rec in records:
                digest = link_hash(parent, rec.content())
                if rec.hash and rec.hash != digest.hex():
                    raise IntegrityError(f"record {rec.seq} carries a hash that does not "
                                         "continue this chain", seq=rec.seq)
                parent = digest
        for rec in records:
            self._tx_first.setdefault(rec.tx, rec.seq)
        self.records.extend(records)
        if summary is not None:
            self._summary = dict(summary)

    def read(self, start: int = 1, stop: int | None = None) -> Iterator[Record]:
        end = len(self.records) if stop is None else min(stop, len(self.records))
        if end >= max(start, 1):
            self._hash_upto(end)
        for i in range(max(start, 1) - 1, end):
            rec = self.records[i]
            yield rec if rec.hash == self._hashes[i] else rec.with_hash(self._hashes[i])

    def read_envelopes(self, start: int = 1, stop: int | None = None) -> Iterator[Envelope]:
        for rec in self.read(start, stop):
            yield rec.envelope()

    def last_tx(self) -> int:
        return self.records[-1].tx if self.records else 0

    def transactions(self, first: int, last: int) -> list[TxInfo]:
        out = []
        for tx in range(max(first, 1), min(last, self.last_tx()) + 1):
            lo = self._tx_first.get(tx)
            if lo is None:
                continue
            hi = lo
            while hi < len(self.records) and self.records[hi].tx == tx:
                hi += 1
            rec = self.records[lo - 1]
            out.append(TxInfo(tx, lo, hi, rec.author, rec.time, rec.message, rec.tx_kind,
                              rec.ref))
        return out

    def summary(self) -> dict[str, Any]:
        return dict(self._summary)

    # ------------------------------------------------------------- signatures

    supports_signatures = True

    def append_signed(self, records: Sequence[Record], expected_head: int, *,
                      summary: dict[str, Any] | None = None,
                      sign: Callable[[str], tuple[str, str, str]]) -> None:
        """`append` plus the transaction's signature (see `Store.append_signed`);
        the signature is made before anything is stored, so a refusal stores nothing."""
        if expected_head != len(self.records) or not records:
            return self.append(records, expected_head, summary=summary)
        parent = self.hash_at(expected_head) or ""
        last = chain_hashes(records, parent)[-1]
        author, public, signature = sign(last.hash)
        known = self._keys.get(author)
        if known is not None and known[0] != public:
            raise IntegrityError(f"the ledger holds another public key for {author!r}")
        self.append(records, expected_head, summary=summary)
        self._keys.setdefault(author, (public, records[0].seq))
        self._signatures[last.tx] = (last.seq, author, signature)

    def copy_signatures(self, keys: dict[str, tuple[str, int]],
                        signatures: dict[int, tuple[int, str, str]]) -> None:
        """Take another store's keys and signatures (an in-memory fork)."""
        self._keys.update(keys)
        self._signatures.update(signatures)

    def public_keys(self) -> dict[str, tuple[str, int]]:
        return dict(self._keys)

    def signatures(self) -> dict[int, tuple[int, str, str]]:
        return dict(self._signatures)

    # ------------------------------------------------------------- tags

    def set_tag(self, name: str, seq: int, *, move: bool = False) -> None:
        if not name or not isinstance(name, str):
            raise ValidationError("a tag needs a name")
        if not 0 <= seq <= self.head():
            raise ValidationError(f"seq {seq} is outside the ledger (0..{self.head()})")
        if name in self._tags and not move and self._tags[name] != seq:
            raise ConflictError(f"tag {name!r} already names seq {self._tags[name]} "
                                "(move it explicitly)")
        self._tags[name] = seq

    def delete_tag(self, name: str) -> None:
        if self._tags.pop(name, None) is None:
            raise NotFoundError(f"no tag {name!r}")

    def tags(self) -> dict[str, int]:
        return dict(sorted(self._tags.items(), key=lambda kv: (kv[1], kv[0])))

    # ------------------------------------------------------------- snapshots

    def save_snapshot(self, seq: int, head_hash: str, payload: Payload, *,
                      keep: int = 1) -> None:
        if self.hash_at(seq) != head_hash:
            raise ValidationError(f"{head_hash!r} is not the chain's hash at seq {seq}")
        self._snapshots[seq] = (head_hash, Payload(payload.body, {
            d: _frozen(a) for d, a in payload.arrays.items()}))
        for old in sorted(self._snapshots)[:-max(keep, 1)]:
            del self._snapshots[old]

    def latest_snapshot(self, max_seq: int | None = None) -> Snapshot | None:
        for seq in sorted(self._snapshots, reverse=True):
            if max_seq is not None and seq > max_seq:
                continue
            head_hash, payload = self._snapshots[seq]
            if self.hash_at(seq) != head_hash:
                continue
            return seq, head_hash, decode_payload(payload.body, local_arrays(payload.arrays))
        return None

    def snapshot_seqs(self) -> list[int]:
        return sorted(self._snapshots)

    # ------------------------------------------------------------- checking

    def verify(self) -> int:
        self._hashes.clear()
        self._hash_upto(len(self.records))
        return len(self.records)

    def close(self) -> None:
        pass
