"""Several processes writing one ledger file: optimistic appends lose nothing and
duplicate nothing.

Each worker commits transactions of one `TrackAdded` with a unique id. When
another process got there first, its append raises `ConcurrencyError` (nothing
written); it catches up with `EventLedger.refresh` and retries. Afterwards every transaction
is in the file exactly once, the chain verifies, and every worker saw only
successes and `ConcurrencyError`s.

The default run is 4 x 2,000 transactions (a few seconds: the store polls for the
write lock every fraction of a millisecond, so writers interleave and conflict
hundreds of times); a longer 8 x 3,000 run is marked slow.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from ledger.core.events import TrackAdded
from ledger.project.event_ledger import EventLedger
from ledger.store.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parents[2]

WORKER = """
import json, sys, time
from ledger.errors import ConcurrencyError
from ledger.project.event_ledger import EventLedger
from ledger.core.events import TrackAdded, TrackDef
from ledger.store.sqlite import SqliteStore

path, worker, count, start_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
led = EventLedger(store=SqliteStore(path), author=f"w{worker}")
time.sleep(max(0.0, start_at - time.time()))
ok = conflicts = caught_up = 0
t0 = time.perf_counter()
for i in range(count):
    while True:
        try:
            with led.transaction(f"w{worker} #{i}"):
                track = TrackDef(worker * 1_000_000 + i + 1, f"w{worker}-{i}")
                led.emit(TrackAdded(track, len(led.state.track_order)))
            ok += 1
            break
        except ConcurrencyError:
            conflicts += 1
            caught_up += led.refresh()
print(json.dumps({"worker": worker, "ok": ok, "conflicts": conflicts,
                  "caught_up": caught_up, "seconds": time.perf_counter() - t0}))
"""


def run_workers(path: Path, workers: int, count: int) -> list[dict]:
    SqliteStore(path).close()  # create it once, before the race
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    start_at = time.time() + 1.5  # let every worker import and open first
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(path), str(w), str(count),
                               str(start_at)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env)
             for w in range(workers)]
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err.decode()[-3000:]
        reports.append(json.loads(out))
    return reports


def check(path: Path, workers: int, count: int, reports: list[dict]) -> None:
    assert [r["ok"] for r in reports] == [count] * workers
    with SqliteStore(path, create=False) as store:
        assert store.verify() == workers * count
        records = list(store.read())
    assert Counter(r.tx for r in records) == Counter({tx: 1 for tx in range(1, len(records) + 1)})
    messages = Counter(r.message for r in records)
    expected = {f"w{w} #{i}" for w in range(workers) for i in range(count)}
    assert set(messages) == expected and set(messages.values()) == {1}
    for rec in records:
        assert isinstance(rec.event, TrackAdded)
        worker, i = rec.message[1:].split(" #")
        assert rec.author == f"w{worker}"
        assert rec.event.track.id == int(worker) * 1_000_000 + int(i) + 1
    with SqliteStore(path, read_only=True) as store:
        state = EventLedger(store=store).state
    assert len(state.tracks) == workers * count


def _run(tmp_path: Path, workers: int, count: int) -> None:
    path = tmp_path / "shared.ledger"
    t0 = time.perf_counter()
    reports = run_workers(path, workers, count)
    check(path, workers, count, reports)
    conflicts = sum(r["conflicts"] for r in reports)
    print(f"\n{workers} x {count} transactions: {time.perf_counter() - t0:.1f} s wall, "
          f"{conflicts} conflicts retried, slowest worker "
          f"{max(r['seconds'] for r in reports):.1f} s")


def test_four_writers_2000_each(tmp_path: Path) -> None:
    _run(tmp_path, 4, 2000)


@pytest.mark.slow
def test_eight_writers_3000_each(tmp_path: Path) -> None:
    _run(tmp_path, 8, 3000)
