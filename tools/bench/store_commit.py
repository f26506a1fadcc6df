"""Benchmark: durable commit latency of a point edit on a 1,000,000-event ledger.

Target (issue): through ``EventLedger.emit`` on a `SqliteStore` holding 1,000,000
events, median <= 0.5 ms and p99 <= 5 ms with ``synchronous=FULL`` (WAL).

Steps, each timed:
1. build the ledger file: a skeleton, a video, a frame with one instance, then
   point edits of that instance, appended through ``SqliteStore.append`` in big
   batches (so hashes are computed exactly as in normal use);
2. open it with a fresh `EventLedger` (replays every event: no snapshot yet);
3. commit single point edits one by one through ``emit`` -- each is a whole
   transaction: apply, encode, hash, ``BEGIN IMMEDIATE``, head check, insert,
   COMMIT with fsync -- with ``synchronous=FULL``, then ``NORMAL`` for comparison;
4. the same through ``SqliteStore.append`` alone, to split store from ledger cost.

Usage: python tools/bench/store_commit.py [--events 1000000] [--commits 3000]
       [--dir /path/on/the/disk/to/measure] [--write]  (--write: docs/benchmarks.md)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))
from report import machine, median, percentile, table, write_section  # noqa: E402

from ledger.core import events as ev  # noqa: E402
from ledger.core.record import Record  # noqa: E402
from ledger.project.event_ledger import TOOL_VERSION, EventLedger  # noqa: E402
from ledger.store.sqlite import SqliteStore  # noqa: E402

SKELETON = ev.SkeletonDef(1, "s", (ev.NodeDef(2, "a"), ev.NodeDef(3, "b")), ((2, 3),))
VIDEO = ev.VideoDef(4, {"filename": "bench.mp4"})
INSTANCE = 10
STAMP = "2024-01-01T00:00:00+00:00"


def setup_events() -> list[ev.Event]:
    n = 1
    batch = ev.InstanceBatch(
        ids=np.array([INSTANCE]), video=np.array([VIDEO.id]), frame_idx=np.array([0]),
        skeleton=np.array([SKELETON.id]), track=np.array([-1]),
        kind=np.zeros(n, np.uint8), score=np.full(n, np.nan), tracking_score=np.full(n, np.nan),
        from_predicted=np.array([-1]), n_pts=np.array([2], np.int32), x=np.zeros(2),
        y=np.zeros(2), visible=np.ones(2, bool), complete=np.zeros(2, bool),
        point_score=np.full(2, np.nan))
    frames = ev.FrameBatch(video=np.array([VIDEO.id]), frame_idx=np.array([0]),
                           position=np.array([0]), instances=batch)
    return [ev.SkeletonAdded(SKELETON, 0), ev.VideoAdded(VIDEO, 0), ev.FramesAdded(frames)]


def edit(i: int) -> ev.PointSet:
    x, old = float(i % 500), float((i - 1) % 500)
    return ev.PointSet(INSTANCE, 2, x, x, True, True, 0.0, old, old, True, True, 0.0)


def build(path: Path, n_events: int, batch: int = 50_000) -> float:
    t0 = time.perf_counter()
    with SqliteStore(path) as store:
        pending = setup_events()
        seq = 0
        i = 0
        while seq < n_events:
            while len(pending) < min(batch, n_events - seq):
                i += 1
                pending.append(edit(i))
            records = [Record(seq=seq + k + 1, tx=seq + k + 1, author="bench", time=STAMP,
                              message="", tool_version=TOOL_VERSION, tx_kind="do", ref=0,
                              event=e) for k, e in enumerate(pending)]
            store.append(records, seq)
            seq += len(records)
            pending = []
    return time.perf_counter() - t0


def measure(fn, n: int, warmup: int = 50) -> list[float]:
    times = []
    for i in range(warmup + n):
        t0 = time.perf_counter()
        fn(i)
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    return times


def row(name: str, times: list[float]) -> list[object]:
    ms = [t * 1000 for t in times]
    return [name, f"{median(ms):.3f}", f"{percentile(ms, 0.9):.3f}",
            f"{percentile(ms, 0.99):.3f}", f"{max(ms):.2f}", f"{len(ms) / sum(times):,.0f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--commits", type=int, default=3000)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "bench.ledger"
        build_s = build(path, args.events)
        size_mb = path.stat().st_size / 1e6
        t0 = time.perf_counter()
        store = SqliteStore(path)
        led = EventLedger(store=store, author="bench")
        open_s = time.perf_counter() - t0
        base = args.events
        results = []
        for sync in ("FULL", "NORMAL"):
            store.conn.execute(f"PRAGMA synchronous={sync}")

            def emit(i: int, start: int = base) -> None:
                led.emit(edit(start + i))

            results.append(row(f"EventLedger.emit, synchronous={sync}",
                               measure(emit, args.commits)))
            base += args.commits + 50
        for sync in ("FULL", "NORMAL"):
            store.conn.execute(f"PRAGMA synchronous={sync}")

            def append(i: int, start: int = base) -> None:
                seq = store.head() + 1
                store.append([Record(seq, seq, "bench", STAMP, "",
                                     TOOL_VERSION, "do", 0, edit(start + i))], seq - 1)

            results.append(row(f"SqliteStore.append, synchronous={sync}",
                               measure(append, args.commits)))
            base += args.commits + 50
        t0 = time.perf_counter()
        count = store.verify()
        verify_s = time.perf_counter() - t0
        store.close()
    body = "\n".join([
        "## Store commit latency (tools/bench/store_commit.py)", "",
        f"{machine()}; ledger of {args.events:,} events ({size_mb:.0f} MB), "
        f"{args.commits:,} single-point-edit commits per row, WAL journal.", "",
        table(["commit path", "median ms", "p90 ms", "p99 ms", "max ms", "commits/s"], results),
        "",
        table(["step", "seconds"], [
            [f"build {args.events:,} events (batched append)", f"{build_s:.1f}"],
            [f"open: replay {args.events:,} events into EventLedger", f"{open_s:.1f}"],
            [f"verify {count:,} events (SqliteStore.verify)", f"{verify_s:.1f}"]]),
    ])
    print(body)
    if args.write:
        write_section("store-commit", body)


if __name__ == "__main__":
    main()
