"""Many writers at once: annotator processes on replicas (each its own role) and
online writers, with random pulls, pushes, syncs, undo and redo. At the end every
replica settles and all hold the same head hash and state; every transaction the
server acknowledged is there exactly once with its author; everything verifies."""

from __future__ import annotations

import json
import multiprocessing

import pytest
from swarm import annotator, online_writer, settle
from teamkit import team_project

import ledger
from ledger.core.state import canonical

ANNOTATORS = ("a1", "a2", "a3", "a4")
ONLINE = ("w1", "w2")


def _swarm(pg, tmp_path, ops: int) -> None:
    urls = team_project(pg, roles=ANNOTATORS + ONLINE)
    paths = {}
    for name in ANNOTATORS:
        paths[name] = str(tmp_path / f"{name}.ledger")
        ledger.clone(urls[name], paths[name], project="mice").close()
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=annotator, args=(paths[n], n, k, ops, str(tmp_path / f"{n}.json")))
             for k, n in enumerate(ANNOTATORS)]
    procs += [ctx.Process(target=online_writer, args=(urls[n], n, 100 + k, ops,
                                                      str(tmp_path / f"{n}.json")))
              for k, n in enumerate(ONLINE)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=600)
        assert p.exitcode == 0, f"a writer failed (exit code {p.exitcode})"
    replicas = [ledger.open(paths[n]) for n in ANNOTATORS]
    for labels in replicas:
        settle(labels)
    for labels in replicas:  # the last ones to push moved the origin: everyone pulls
        settle(labels)
    online = ledger.open(urls["admin"], project="mice")
    states = {labels.head_hash() for labels in replicas} | {online.head_hash()}
    assert len(states) == 1
    picture = canonical(online.project.state)
    for labels in replicas:
        assert canonical(labels.project.state) == picture
        assert labels.verify() == labels.project.head
    assert online.verify() == online.project.head
    txs = {}
    for env in online.project.envelopes():
        txs.setdefault(env.tx, (env.author, env.time, env.message))
    counts: dict[tuple[str, ...], int] = {}
    for key in txs.values():
        counts[key] = counts.get(key, 0) + 1
    acked = 0
    for name in ANNOTATORS + ONLINE:
        for author, time, message in json.loads((tmp_path / f"{name}.json").read_text()):
            assert author == pg.real(name)
            assert counts.get((author, time, message)) == 1, (author, message)
            acked += 1
    assert acked > 0
    for labels in replicas:
        labels.close()
    online.close()


def test_swarm_small(pg, tmp_path):
    _swarm(pg, tmp_path, ops=12)


@pytest.mark.slow
def test_swarm_hundreds(pg, tmp_path):
    _swarm(pg, tmp_path, ops=300)
