"""Benchmark of durable ledgers (issue: the durable ledger).

On top of one 50,000-frame × 3-instance × 20-node project (one import event):
- open time with a snapshot for histories of 10k, 100k and 1M events (goal: flat,
  the 1M case within 1.5× of the 10k case);
- open time without a snapshot (full replay), as replay throughput;
- durable commit latency of a single-point edit on the 1M-event ledger
  (goal: median ≤ 0.5 ms, p99 ≤ 5 ms), through `Labels.set_point`.

Usage: python tools/bench/store.py [--sizes 10000,100000,1000000] [--dir /tmp/...]
Writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, median, percentile, table, write_section  # noqa: E402
from synthetic import synthetic  # noqa: E402

import ledger  # noqa: E402
from ledger.core import events as ev  # noqa: E402
from ledger.core.record import Record  # noqa: E402
from ledger.io.project_convert import import_events  # noqa: E402
from ledger.project.event_ledger import TOOL_VERSION  # noqa: E402
from ledger.sleap.labels import Labels  # noqa: E402
from ledger.store.sqlite import SqliteStore  # noqa: E402


def build_base(path: str, n_frames: int) -> None:
    labels = ledger.open(path, author="bench")
    events = import_events(synthetic(n_frames, 3, 20, 0, 1), labels._ids)
    labels._ledger.commit_events(events, "import")
    labels.close()


def grow(path: str, n_events: int) -> None:
    """Append ``n_events`` point edits (one per transaction) straight to the store."""
    labels = ledger.open(path, author="bench")
    inst = labels[0].instances[0]
    node = inst.skeleton.nodes[3]._id
    led = labels._ledger
    head, tx = led.head, led._last_tx
    labels.close()
    store = SqliteStore(path)
    now = "2026-01-01T00:00:00+00:00"
    step = 20_000
    for start in range(0, n_events, step):
        records = []
        for k in range(start, min(start + step, n_events)):
            seq, tx = head + k + 1, tx + 1
            e = ev.PointSet(inst._id, node, float(k), 1.0, True, True, 0.0,
                            float(k - 1), 1.0, True, True, 0.0)
            records.append(Record(seq, tx, "bench", now, "", TOOL_VERSION, "do", 0, e))
        store.append(records, head + start)
    store.close()


def timed_open(path: str, use_snapshot: bool) -> float:
    t0 = time.perf_counter()
    labels = ledger.open(path, use_snapshot=use_snapshot, read_only=True)
    dt = time.perf_counter() - t0
    labels.close()
    return dt


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
    for size in sizes:
        path = os.path.join(folder, f"h{size}.ledger")
        shutil.copy(base, path)
        t0 = time.perf_counter()
        grow(path, size)
        t_grow = time.perf_counter() - t0
        t_replay = timed_open(path, use_snapshot=False)
        ledger.open(path).close()  # closing takes a snapshot at the head
        t_snap = min(timed_open(path, use_snapshot=True) for _ in range(3))
        opens[size] = t_snap
        mb = os.path.getsize(path) / 1e6
        rows.append([f"{size:,}", f"{mb:,.0f} MB", f"{t_snap * 1e3:,.0f} ms",
                     f"{t_replay:,.2f} s", f"{size / t_replay:,.0f} events/s", f"{t_grow:.1f} s"])
        if size == max(sizes):
            latency = commit_latency(path)
        print(rows[-1], flush=True)
    ratio = opens[max(sizes)] / opens[min(sizes)]
    lat = [
        ["median", f"{median(latency) * 1e3:.3f} ms", "≤ 0.5 ms"],
        ["p99", f"{percentile(latency, 0.99) * 1e3:.3f} ms", "≤ 5 ms"],
        ["max", f"{max(latency) * 1e3:.3f} ms", ""],
    ]
    body = (f"## Durable ledgers (`tools/bench/store.py`)\n\n{machine()}; SQLite WAL, "
            f"synchronous=FULL; {args.frames:,}-frame × 3 × 20 project imported as one event, "
            "then point edits one transaction each.\n\n"
            + table(["history (events)", "file", "open with snapshot", "open without snapshot",
                     "replay", "build"], rows)
            + f"\n\nOpen with snapshot, largest / smallest history: **{ratio:.2f}×** "
              "(goal ≤ 1.5×).\n\n"
            + f"Durable commit of one `set_point` on the {max(sizes):,}-event ledger "
              f"({len(latency):,} commits):\n\n"
            + table(["", "latency", "goal"], lat))
    write_section("store", body)
    print(body)


if __name__ == "__main__":
    main()
