"""In-memory forks: a new ledger that shares another's history.

The durable `labels.fork(path)` belongs to the store layer; merges only need two
`Labels` whose records share a prefix of hashes, which this gives for tests and
scratch work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.sleap.labels import Labels


def fork_in_memory(labels: Labels, author: str | None = None) -> Labels:
    """A new in-memory `Labels` with the same records (same envelopes, same
    hashes), replayed; it then evolves independently."""
    from ledger.sleap.labels import Labels

    return Labels(project=labels.project.fork_in_memory(author))
