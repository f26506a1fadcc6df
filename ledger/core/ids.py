"""Stable identities for everything that events mention.

Ids are positive 63-bit integers chosen when an object is first committed, never
reused, and carried in every event that refers to it. Random ids keep two forks of
a ledger from handing out the same id for different things, which is what lets a
merge line them up. Bulk imports take one contiguous block (``base .. base + n``)
so a 1,000,000-instance import costs one random draw, not a million.

The source is injectable: tests use `SequentialIds` for reproducible histories.
"""

from __future__ import annotations

import secrets
from typing import Protocol

NO_ID = -1  # "none" in id columns (no track, no from_predicted link)


class IdSource(Protocol):
    def new_id(self) -> int: ...

    def new_block(self, n: int) -> int:
        """Return ``base`` such that ``base .. base + n - 1`` are all fresh ids."""
        ...


class RandomIds:
    """Ids from the operating system's randomness (the default)."""

    def new_id(self) -> int:
        return secrets.randbits(62) + 1

    def new_block(self, n: int) -> int:
        # 62 random bits leave room below 2**63 for any block a machine can hold.
        return secrets.randbits(61) + 1


class SequentialIds:
    """Deterministic ids for tests and reproducible examples."""

    def __init__(self, start: int = 1) -> None:
        self._next = start

    def new_id(self) -> int:
        value = self._next
        self._next += 1
        return value

    def new_block(self, n: int) -> int:
        base = self._next
        self._next += max(n, 1)
        return base
