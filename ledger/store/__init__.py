"""Where committed records live. `Store` is the interface; `MemoryStore` keeps
them in a list. A durable store implements the same interface."""

from ledger.store.base import Store
from ledger.store.memory import MemoryStore
from ledger.store.sqlite import SqliteStore

__all__ = ["MemoryStore", "SqliteStore", "Store"]
