"""Replaying many events at once: runs of point edits applied as one vectorised step.

An editor's history is mostly `PointSet` events, one per transaction. Replaying
them one by one costs a few microseconds each in Python; `apply_events` gathers
each run of consecutive point edits and applies it with a handful of numpy calls,
with exactly the checks `apply_event` makes: every instance is live, every node is
in its skeleton, and every event's old value is what the point held just before it
(for a point edited several times in the run, the previous edit's new value). A run
that fails any check is applied event by event instead, so the error, and what was
applied before it, are those of the one-by-one replay.

Example::

    state = State()
    apply_events(state, store.read_events())
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ledger.core import events as ev
from ledger.core.apply import apply_event
from ledger.core.columns import POINT_COLUMNS
from ledger.core.state import State

MIN_RUN = 16  # shorter runs are cheaper one by one
_NAMES = tuple(POINT_COLUMNS)  # x, y, visible, complete, score


def apply_events(state: State, events: Iterable[ev.Event]) -> int:
    """Apply ``events`` in order (see the module docstring); return how many."""
    run: list[ev.PointSet] = []
    count = 0
    for event in events:
        count += 1
        if type(event) is ev.PointSet:
            run.append(event)
            continue
        if run:
            _apply_run(state, run)
            run = []
        apply_event(state, event)
    if run:
        _apply_run(state, run)
    return count


def _apply_run(state: State, run: list[ev.PointSet]) -> None:
    if len(run) < MIN_RUN or not _try_vectorised(state, run):
        for event in run:
            apply_event(state, event)


def _try_vectorised(state: State, run: list[ev.PointSet]) -> bool:
    """Apply the run in one step when every check passes; else change nothing and
    return False."""
    table = state.instances
    n = len(run)
    ids = np.fromiter((e.instance for e in run), np.int64, n)
    rows = table.index.get_many(ids)
    if (rows < 0).any():
        return False
    cols = table.cols.cols
    if not cols["alive"][rows].all():
        return False
    pairs = np.column_stack([cols["skeleton"][rows].astype(np.int64),
                             np.fromiter((e.node for e in run), np.int64, n)])
    keys, inverse = np.unique(pairs, axis=0, return_inverse=True)
    where = np.empty(len(keys), np.int64)
    for k, (sk, node) in enumerate(keys.tolist()):
        try:
            where[k] = state.skeletons[sk].node_position(node)
        except KeyError:
            return False
    pos = where[inverse.reshape(-1)]
    g = cols["pt_start"][rows].astype(np.int64) + pos
    new = np.array([(e.x, e.y, e.visible, e.complete, e.score) for e in run], np.float64)
    old = np.array([(e.old_x, e.old_y, e.old_visible, e.old_complete, e.old_score)
                    for e in run], np.float64)
    order = np.lexsort((np.arange(n), g))
    gs = g[order]
    first = np.ones(n, bool)
    first[1:] = gs[1:] != gs[:-1]
    current = table.points.gather(gs[first], np.ones(int(first.sum()), np.int64))[0]
    held = np.empty((n, 5), np.float64)
    held[first] = np.column_stack([current[name].astype(np.float64) for name in _NAMES])
    later = np.flatnonzero(~first)
    held[later] = new[order][later - 1]
    if not np.array_equal(held, old[order], equal_nan=True):
        return False
    last = np.ones(n, bool)
    last[:-1] = gs[1:] != gs[:-1]
    final = new[order][last]
    table.points.scatter(gs[last], {
        name: final[:, k].astype(dtype) for k, (name, dtype) in enumerate(POINT_COLUMNS.items())})
    return True
