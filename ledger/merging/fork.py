"""In-memory forks: a new ledger that shares another's history.

The durable `labels.fork(path)` belongs to the store layer; merges only need two
`Labels` whose records share a prefix of hashes, which this gives for tests and
scratch work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.project.event_ledger import EventLedger
from ledger.store import MemoryStore

if TYPE_CHECKING:
    from ledger.sleap.labels import Labels


def fork_in_memory(labels: Labels, author: str | None = None) -> Labels:
    """A new in-memory `Labels` with the same records (same envelopes, same
    hashes), replayed; it then evolves independently."""
    from ledger.sleap.labels import Labels

    records = labels._ledger.records()
    store = MemoryStore()
    if records:
        store.append([r.__copy__() if hasattr(r, "__copy__") else r for r in records], 0)
    ledger = EventLedger(store=store, author=author or labels._ledger.author)
    return Labels(_ledger=ledger, ids=labels._ids)
