"""The core state machine, through a durable ledger file: snapshots taken and the
file closed and reopened at random points, with random snapshot thresholds. Every
invariant of `LedgerMachine` holds (replay equals the live state, recorded events
never change, caches, time travel, undo/redo), and a reopened ledger -- built from
its newest snapshot and the tail -- equals what was closed."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, rule
from test_core_properties import LedgerMachine

import ledger
from ledger.core.state import canonical


class DurableLedgerMachine(LedgerMachine):
    @initialize(data=st.data(), imported=st.booleans(), every=st.integers(1, 30))
    def setup(self, data: st.DataObject, imported: bool, every: int) -> None:
        self.folder = tempfile.mkdtemp(prefix="ledger-durable-props-")
        self.path = Path(self.folder) / "p.ledger"
        self.every = every
        super().setup(data, imported)
        durable = ledger.open(self.path, author="prop", snapshot_every=every)
        if self.labels.project.head:  # the in-memory start becomes the file's history
            durable.close()
            os.unlink(self.path)
            self.labels.project.fork(self.path).close()
            durable = ledger.open(self.path, author="prop", snapshot_every=every)
        self.labels = durable
        self._refresh_objects()

    def teardown(self) -> None:
        try:
            self.labels.close()
        finally:
            shutil.rmtree(getattr(self, "folder", ""), ignore_errors=True)
            super().teardown()

    def _refresh_objects(self) -> None:
        """Facade objects belong to one `Labels`: after a reopen, take the new ones."""
        if self.labels.skeletons:
            self.skeleton = self.labels.skeletons[0]
        known = {v.filename: v for v in self.labels.videos}
        self.videos = [known.get(v.filename, v) for v in self.videos]
        tracks = {t.name: t for t in self.labels.tracks}
        self.tracks = [tracks.get(t.name, t) for t in self.tracks]
        self.removed_frames, self.removed_instances = [], []

    @rule()
    def snapshot(self) -> None:
        self.labels.project.snapshot()

    @rule(every=st.integers(1, 30))
    def reopen(self, every: int) -> None:
        before = canonical(self.labels._state)
        head, head_hash = self.labels.project.head, self.labels.head_hash()
        self.labels.close()
        self.labels = ledger.open(self.path, author="prop", snapshot_every=every)
        assert self.labels.project.head == head
        assert self.labels.head_hash() == head_hash
        assert canonical(self.labels._state) == before
        self._refresh_objects()

    @invariant()
    def file_verifies(self) -> None:
        assert self.labels.verify() == self.labels.project.head


DurableLedgerMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("LEDGER_DURABLE_PROPERTY_EXAMPLES", "40")),
    stateful_step_count=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TestDurableLedgerMachine = DurableLedgerMachine.TestCase
