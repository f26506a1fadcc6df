"""The store contract: what the application layer asks of any place records live.

One abstract class, implemented by `MemoryStore`, `SqliteStore` and the server
store, and checked by one conformance suite (``tests/store/conformance.py``) that
every backend runs. Nothing here assumes a local file: every call may be a round
trip to a server, so the contract favours few, batched calls (ranges, pages,
counters kept by the store) over scans.

The guarantees, in the order the suite checks them:

* **Optimistic appends.** ``append(records, expected_head)`` stores records
  ``expected_head + 1 ..`` atomically, or raises `ConcurrencyError` and stores
  nothing when the head moved. Seqs are gap-free; a stale writer can never leave a
  hole or reorder history.
* **The hash chain.** Every stored record has ``hash = sha256(parent ‖ content)``
  (`ledger.core.record.link_hash`, content from `Record.content`). Two stores that
  hold the same records hold the same hashes, whatever they compress or chunk.
* **Reads by range.** ``read`` (records with events) and ``read_envelopes``
  (without) take ``start..stop`` ranges; ``transactions`` summarises transactions by
  number, so undo bookkeeping and ``log`` never decode a payload.
* **Tags** are bookmarks outside the chain; a tag moves only when asked to.
* **Snapshots** are caches: ``save_snapshot`` keeps a projection's payload with the
  chain hash it was built from; ``latest_snapshot`` returns the newest one at or
  before a seq whose hash still matches the chain, never a damaged one.
* **A summary** (counters the application keeps: frames, instances, ...) is stored
  with the append that made it true, so ``stats`` reads it without a replay.
* **verify** re-hashes the chain from what is stored and raises `IntegrityError`
  naming the first bad seq.

Example::

    store = MemoryStore()
    store.append([record_1], expected_head=0)
    store.head(), store.hash_at(1)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any

from ledger.core.codec import Payload
from ledger.core.record import Envelope, Record, TxInfo

Snapshot = tuple[int, str, Any]  # (seq, chain hash at seq, decoded payload)


class Store(ABC):
    """Where committed records live (see the module docstring for the contract)."""

    read_only: bool = False
    # The name this store records as the author of what it appends (a server sets
    # it from the database role), or None when the writer chooses.
    author: str | None = None

    # ------------------------------------------------------------- positions

    @abstractmethod
    def head(self) -> int:
        """Seq of the last stored record (0 when empty)."""

    @abstractmethod
    def hash_at(self, seq: int) -> str | None:
        """Chain hash (hex) after record ``seq``: "" for 0, None past the head."""

    def head_hash(self) -> str:
        return self.hash_at(self.head()) or ""

    # ------------------------------------------------------------- writing

    @abstractmethod
    def append(self, records: Sequence[Record], expected_head: int, *,
               summary: dict[str, Any] | None = None) -> None:
        """Store ``records`` (seqs ``expected_head + 1 ..``, hashes not needed) in one
        atomic step, with ``summary`` when given; `ConcurrencyError` if the head
        moved. A record that carries a hash must carry the one the chain gives it
        (`IntegrityError` otherwise), which is how copied history is checked."""

    # ------------------------------------------------------------- reading

    @abstractmethod
    def read(self, start: int = 1, stop: int | None = None) -> Iterator[Record]:
        """Records ``start <= seq <= stop`` (to the head when None), hashes filled in."""

    def read_events(self, start: int = 1, stop: int | None = None) -> Iterator[Any]:
        """Just the events of `read` (what replay needs); a store may decode them
        in bulk."""
        return (rec.event for rec in self.read(start, stop))

    @abstractmethod
    def read_envelopes(self, start: int = 1, stop: int | None = None) -> Iterator[Envelope]:
        """Like `read` without the events: no payload is fetched or decoded."""

    @abstractmethod
    def last_tx(self) -> int:
        """The highest transaction number stored (0 when empty)."""

    @abstractmethod
    def transactions(self, first: int, last: int) -> list[TxInfo]:
        """Summaries of transactions ``first..last`` (by number) that exist, in order."""

    def tx_range(self, tx: int) -> tuple[int, int] | None:
        """First and last seq of transaction ``tx``, or None."""
        found = self.transactions(tx, tx)
        return (found[0].first, found[0].last) if found else None

    @abstractmethod
    def summary(self) -> dict[str, Any]:
        """The summary stored with the newest append that had one ({} if none)."""

    # ------------------------------------------------------------- tags

    @abstractmethod
    def set_tag(self, name: str, seq: int, *, move: bool = False) -> None:
        """Name position ``seq`` (0..head). An existing name raises `ConflictError`
        unless ``move``."""

    @abstractmethod
    def delete_tag(self, name: str) -> None:
        """Remove a tag (`NotFoundError` if there is none)."""

    @abstractmethod
    def tags(self) -> dict[str, int]:
        """All tags, name → seq, ordered by seq then name."""

    def tag_seq(self, name: str) -> int:
        from ledger.errors import NotFoundError

        found = self.tags().get(name)
        if found is None:
            raise NotFoundError(f"no tag {name!r}")
        return found

    # ------------------------------------------------------------- snapshots

    @abstractmethod
    def save_snapshot(self, seq: int, head_hash: str, payload: Payload, *,
                      keep: int = 1) -> None:
        """Keep a projection's encoded payload built after ``seq``; ``head_hash``
        must be the chain's hash there (`ValidationError`). Only the newest ``keep``
        snapshots stay (old ones and what only they used are pruned)."""

    @abstractmethod
    def latest_snapshot(self, max_seq: int | None = None) -> Snapshot | None:
        """``(seq, head_hash, decoded payload)`` of the newest usable snapshot at or
        before ``max_seq``; stale or damaged ones are skipped (with a warning)."""

    @abstractmethod
    def snapshot_seqs(self) -> list[int]:
        """Seqs of the stored snapshots, oldest first."""

    # ------------------------------------------------------------- checking

    @abstractmethod
    def verify(self) -> int:
        """Re-hash every record from stored bytes; return how many. `IntegrityError`
        names the first record changed, removed, reordered or inserted."""

    # ------------------------------------------------------------- signatures
    #
    # Optional (the audit trail, docs/audit.md): a store that keeps authors'
    # public keys and transaction signatures says so with ``supports_signatures``.
    # The defaults describe a store that keeps none, so older backends still
    # satisfy the contract; the application then commits unsigned.

    supports_signatures: bool = False

    def append_signed(self, records: Sequence[Record], expected_head: int, *,
                      summary: dict[str, Any] | None = None,
                      sign: Callable[[str], tuple[str, str, str]]) -> None:
        """`append`, and in the same atomic step store the signature of the
        transaction ``records`` end: ``sign(last record hash)`` returns
        ``(author, public key hex, signature hex)``; the public key is recorded for
        the author if the store has none (`IntegrityError` if it holds another)."""
        raise NotImplementedError(f"{self.describe()} keeps no signatures (not implemented "
                                  "for this backend yet)")

    def signs_commits(self) -> bool:
        """Whether new commits should be signed here (a replica of a server does
        not sign: its history is rewritten by rebases and the server keeps none)."""
        return self.supports_signatures

    def public_keys(self) -> dict[str, tuple[str, int]]:
        """author → (public key hex, seq of the first record it signed)."""
        return {}

    def signatures(self) -> dict[int, tuple[int, str, str]]:
        """tx → (seq of its last record, author, signature hex)."""
        return {}

    # ------------------------------------------------------------- followers

    def wait_for_append(self, timeout: float) -> bool:
        """Block until another writer appends (True) or ``timeout`` seconds pass
        (False). This default polls the head; a server store listens instead."""
        import time

        start, deadline = self.head(), time.monotonic() + max(timeout, 0.0)
        while True:
            if self.head() != start:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(0.05, left))

    # ------------------------------------------------------------- lifetime

    def describe(self) -> str:
        """A name for messages (never a password)."""
        return type(self).__name__

    @abstractmethod
    def close(self) -> None:
        """Release the store (idempotent)."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
