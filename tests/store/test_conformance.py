"""The store contract (`tests/store/conformance.py`) on the memory and SQLite stores.

The PostgreSQL store runs the same class in its own test module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conformance import StoreContract

from ledger.store.base import Store
from ledger.store.memory import MemoryStore
from ledger.store.sqlite import SqliteStore


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def make_store(self) -> Callable[[], Store]:
        return MemoryStore

    @pytest.fixture
    def reopen(self) -> Callable[[Store], Store]:
        return lambda store: store


class TestSqliteStore(StoreContract):
    @pytest.fixture
    def make_store(self, tmp_path: Path) -> Iterator[Callable[[], Store]]:
        made: list[SqliteStore] = []

        def make() -> Store:
            made.append(SqliteStore(tmp_path / f"s{len(made)}.ledger"))
            return made[-1]

        yield make
        for store in made:
            store.close()

    @pytest.fixture
    def reopen(self) -> Callable[[Store], Store]:
        return lambda store: SqliteStore(store.path)  # type: ignore[attr-defined]
