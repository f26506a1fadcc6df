"""Records in a Python list: the store of an in-memory ledger."""

from __future__ import annotations

from collections.abc import Iterator

from ledger.core.record import Record
from ledger.errors import ConcurrencyError


class MemoryStore:
    def __init__(self) -> None:
        self.records: list[Record] = []

    def head(self) -> int:
        return len(self.records)

    def append(self, records: list[Record], expected_head: int) -> None:
        if expected_head != len(self.records):
            raise ConcurrencyError(
                f"expected head {expected_head}, store is at {len(self.records)}")
        self.records.extend(records)

    def read(self, start: int = 1, stop: int | None = None) -> Iterator[Record]:
        end = len(self.records) if stop is None else min(stop, len(self.records))
        for i in range(max(start, 1) - 1, end):
            yield self.records[i]

    def close(self) -> None:
        pass
