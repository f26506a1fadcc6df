"""Benchmark of durable ledgers with long histories.

On top of one 50,000-frame × 3-instance × 20-node project (one import event):
- open time (the `Labels` facade: state from the newest snapshot plus the tail)
  for histories of 10k, 100k and 1M point edits (goal: flat, the 1M case within
  1.5× of the 10k case); each history is snapshotted at its head by closing a
  session (the close writes one when the tail is long);
- replay from the store without a snapshot, *with decoding*: records read, decoded
  and applied per second (goal ≥ 500k small events/s);
- durable commit latency of a single-point edit on the 1M-event ledger through
  `Labels.set_point` (each edit its own transaction), beside a raw SQLite WAL +
  fsync commit of a 300-byte row measured in the same run (goal: median ≤ 1.6×
  the raw commit, p99 ≤ 5 ms).

Usage: python tools/bench/store.py [--sizes 10000,100000,1000000] [--dir /tmp/...]
Writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, median, percentile, table, write_section  # noqa: E402
from synthetic import synthetic  # noqa: E402

import ledger  # noqa: E402
from ledger.core import events as ev  # noqa: E402
from ledger.core.apply_bulk import apply_events  # noqa: E402
from ledger.core.record import Record  # noqa: E402
from ledger.core.state import State  # noqa: E402
from ledger.io.project_convert import import_events  # noqa: E402
from ledger.project.event_ledger import TOOL_VERSION  # noqa: E402
from ledger.project.project import Project  # noqa: E402
from ledger.sleap.labels import Labels  # noqa: E402
from ledger.store.memory import MemoryStore  # noqa: E402
from ledger.store.sqlite import SqliteStore  # noqa: E402


def build_base(path: str, n_frames: int) -> None:
    project = Project(MemoryStore(), "bench")
    project.commit(import_events(synthetic(n_frames, 3, 20, 0, 1), project.ids), "import")
    project.fork(path).close()


def grow(path: str, n_events: int) -> None:
    """Append ``n_events`` point edits (one per transaction) straight to the store."""
    labels = ledger.open(path, author="bench")
    inst = labels[0].instances[0]
    node = inst.skeleton.nodes[3]._id
    old = labels.project.state.instances.points_of(labels.project.state.instances.row_of(
        inst._id))[3]
    head, tx = labels.project.head, labels.project.last_tx
    labels.close()
    store = SqliteStore(path)
    now = "2026-01-01T00:00:00+00:00"
    step = 20_000
    prev = (float(old[0]), float(old[1]), bool(old[2]), bool(old[3]), float(old[4]))
    for start in range(0, n_events, step):
        records = []
        for k in range(start, min(start + step, n_events)):
            seq, tx = head + k + 1, tx + 1
            e = ev.PointSet(inst._id, node, float(k), 1.0, True, True, prev[4], *prev)
            prev = (float(k), 1.0, True, True, prev[4])
            records.append(Record(seq, tx, "bench", now, "", TOOL_VERSION, "do", 0, e))
        store.append(records, head + start)
    store.close()


def timed_open(path: str) -> float:
    t0 = time.perf_counter()
    labels = ledger.open(path, read_only=True)
    dt = time.perf_counter() - t0
    labels.close()
    return dt


def timed_replay(path: str) -> tuple[float, int]:
    """Read, decode and apply the point edits after the import (no snapshot), in
    bulk as opening does; the import itself is replayed first, untimed (it is one
    bulk event whose cost is the load, measured elsewhere). Returns (seconds,
    events)."""
    with SqliteStore(path, read_only=True) as store:
        state = State()
        imported = store.tx_range(1)[1]  # transaction 1 is the import
        apply_events(state, store.read_events(1, imported))
        t0 = time.perf_counter()
        n = apply_events(state, store.read_events(imported + 1))
        return time.perf_counter() - t0, n


def commit_latency(path: str, n: int = 2000) -> list[float]:
    labels: Labels = ledger.open(path, author="bench")
    inst = labels[1].instances[0]
    samples = []
    for k in range(n):
        t0 = time.perf_counter()
        labels.set_point(inst, "n5", float(k), 2.0)
        samples.append(time.perf_counter() - t0)
    labels.close()
    return samples


def raw_latency(folder: str, n: int = 2000) -> list[float]:
    """The floor: one 300-byte row per committed SQLite transaction, WAL + FULL."""
    conn = sqlite3.connect(os.path.join(folder, "raw.sqlite"), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS t(seq INTEGER PRIMARY KEY, body BLOB)")
    row = os.urandom(300)
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t(body) VALUES (?)", (row,))
        conn.execute("COMMIT")
        samples.append(time.perf_counter() - t0)
    conn.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--frames", type=int, default=50_000)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    folder = args.dir or tempfile.mkdtemp(prefix="ledger-store-bench-")
    os.makedirs(folder, exist_ok=True)
    base = os.path.join(folder, "base.ledger")
    if os.path.exists(base):
        os.remove(base)
    build_base(base, args.frames)
    rows, opens = [], {}
    latency: list[float] = []
    raw: list[float] = []
    for size in sizes:
        path = os.path.join(folder, f"h{size}.ledger")
        for leftover in (path, path + "-wal", path + "-shm"):
            if os.path.exists(leftover):
                os.remove(leftover)
        shutil.copy(base, path)
        t0 = time.perf_counter()
        grow(path, size)
        t_grow = time.perf_counter() - t0
        t_replay, n_replayed = timed_replay(path)
        labels = ledger.open(path)
        labels.close()  # the tail is long: closing writes a snapshot at the head
        t_snap = median([timed_open(path) for _ in range(5)])
        opens[size] = t_snap
        mb = os.path.getsize(path) / 1e6
        rows.append([f"{size:,}", f"{mb:,.0f} MB", f"{t_snap * 1e3:,.0f} ms",
                     f"{t_replay:,.2f} s", f"{n_replayed / t_replay:,.0f} events/s",
                     f"{t_grow:.1f} s"])
        if size == max(sizes):
            for _ in range(3):  # interleaved, so a slow spell falls on both alike
                raw += raw_latency(folder, 700)
                latency += commit_latency(path, 700)
        print(rows[-1], flush=True)
    ratio = opens[max(sizes)] / opens[min(sizes)]
    lat = [
        ["median", f"{median(latency) * 1e3:.3f} ms", f"{median(raw) * 1e3:.3f} ms",
         f"{median(latency) / median(raw):.2f}×", "≤ 1.6× raw"],
        ["p99", f"{percentile(latency, 0.99) * 1e3:.3f} ms",
         f"{percentile(raw, 0.99) * 1e3:.3f} ms", "", "≤ 5 ms"],
        ["max", f"{max(latency) * 1e3:.3f} ms", f"{max(raw) * 1e3:.3f} ms", "", ""],
    ]
    body = (f"## Durable ledgers with long histories (`tools/bench/store.py`)\n\n{machine()}; "
            "SQLite WAL, synchronous=FULL; "
            f"{args.frames:,}-frame × 3 × 20 project imported as one event, "
            "then point edits one transaction each.\n\n"
            + table(["history (events)", "file", "open (median of 5)",
                     "replay of the edits, no snapshot", "replay with decoding", "build"], rows)
            + f"\n\nOpen, largest / smallest history: **{ratio:.2f}×** (goal ≤ 1.5×).\n\n"
            + f"Durable commit of one `set_point` on the {max(sizes):,}-event ledger "
              f"({len(latency):,} commits), beside a raw SQLite commit of a 300-byte row:\n\n"
            + table(["", "ours", "raw SQLite", "ours / raw", "goal"], lat))
    write_section("store", body)
    print(body)


if __name__ == "__main__":
    main()
