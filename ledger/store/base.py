"""The store interface the ledger writes through.

Appends are optimistic: the caller says which sequence number it believes is the
head, and a store whose head has moved raises `ConcurrencyError` instead of
writing, so no event is lost or duplicated by a stale writer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from ledger.core.record import Record


class Store(Protocol):
    def head(self) -> int:
        """Sequence number of the last stored record (0 when empty)."""
        ...

    def append(self, records: list[Record], expected_head: int) -> None:
        """Store records ``expected_head + 1 ..`` atomically, or raise
        `ConcurrencyError` when the head is no longer ``expected_head``."""
        ...

    def read(self, start: int = 1, stop: int | None = None) -> Iterator[Record]:
        """Records with ``start <= seq <= stop`` (all from ``start`` when None)."""
        ...

    def close(self) -> None: ...
