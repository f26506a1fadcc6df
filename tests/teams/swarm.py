"""A swarm of annotators for the multi-process and crash tests.

`annotator` edits a replica (as its own role) with random pulls, pushes, syncs,
undo and redo; `online_writer` edits the server project directly. Each writes the
transactions the server acknowledged (author, time, message) to a JSON file, so
the parent can check that every one is there exactly once at the end.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import ledger
from ledger.errors import ConcurrencyError

NODES = ("head", "tail")


def _edit(labels, rng: random.Random, name: str, k: int) -> None:
    frame = rng.randrange(len(labels))
    inst = labels[frame].instances[0]
    with labels.transaction(f"{name}-{k}"):
        labels.set_point(inst, rng.choice(NODES), rng.uniform(0, 500), rng.uniform(0, 500))


def _envelope(rec) -> list[str]:
    return [rec.author, rec.time, rec.message]


def settle(labels, prefer: str = "theirs", attempts: int = 50) -> None:
    """Sync until the replica is neither ahead nor behind."""
    for _ in range(attempts):
        try:
            result = labels.sync()
        except ConcurrencyError:
            continue
        if result.committed_tx is None:
            result.resolve_all(prefer)
            result.commit("resolve")
            continue
        info = labels.remote()
        if info["ahead"] == 0 and info["behind"] == 0:
            return
    raise AssertionError("the replica did not settle")


def annotator(path: str, name: str, seed: int, ops: int, acks: str) -> None:
    rng = random.Random(seed)
    acked: set[tuple[str, ...]] = set()
    labels = ledger.open(path)
    for k in range(ops):
        roll = rng.random()
        try:
            if roll < 0.55:
                _edit(labels, rng, name, k)
            elif roll < 0.62:
                labels.undo()
            elif roll < 0.67:
                labels.redo()
            elif roll < 0.8:
                result = labels.pull()
                if result.committed_tx is None:
                    result.resolve_all(rng.choice(["ours", "theirs"]))
                    result.commit(f"{name}-resolve-{k}")
            else:
                if roll < 0.9:
                    labels.push()
                elif labels.sync().committed_tx is None:
                    continue
                synced = labels.remote()["synced"]
                acked |= {tuple(_envelope(r)) for r in labels.project.envelopes(1, synced)
                          if r.author == labels.author}
        except ConcurrencyError:
            pass
    labels.close()
    Path(acks).write_text(json.dumps(sorted(acked)))


def online_writer(url: str, name: str, seed: int, ops: int, acks: str) -> None:
    rng = random.Random(seed)
    acked: list[list[str]] = []
    labels = ledger.open(url, project="mice")
    for k in range(ops):
        roll = rng.random()
        try:
            head = labels.project.head
            if roll < 0.75:
                labels.retrying(lambda k=k: _edit(labels, rng, name, k))
            elif roll < 0.88:
                labels.undo()
            else:
                labels.redo()
            if labels.project.head > head:
                acked.append(_envelope(labels.project.history[-1]))
        except ConcurrencyError:
            labels.refresh()
    labels.close()
    Path(acks).write_text(json.dumps(acked))
