"""Crash a writing process at random instants; check no acknowledged work is lost.

Each round starts a child process that commits transactions in a loop through
`EventLedger` on a `SqliteStore` and prints each transaction's number once
``commit`` has returned (its acknowledgement). The parent kills the child with
SIGKILL at a random moment -- while it starts, opens, writes, fsyncs or
checkpoints -- then reopens the file and checks:

* ``verify()`` passes: the hash chain is whole;
* every acknowledged transaction is present, complete (all its events, in order)
  and exactly once;
* no partial transaction exists, and at most one unacknowledged one (committed
  just before the kill, its acknowledgement not yet written);
* replaying the file through a fresh `EventLedger` gives the expected state.

Rounds accumulate in one file (a fresh one every 25 rounds), so each also tests
reopening after a crash.
Some transactions carry a body larger than the chunk size, so chunked writes are
killed too. Note that SIGKILL loses no data the kernel already has: this proves
atomicity and recovery; surviving a power cut is what ``synchronous=FULL`` adds.

Usage::

    python tools/stress/crash.py --rounds 500            # long run, summary table
    python tools/stress/crash.py child PATH ROUND CHUNK  # internal: the writer
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ledger.core.apply import apply_event  # noqa: E402
from ledger.core.events import Event, ProvenanceSet, TrackAdded, TrackDef  # noqa: E402
from ledger.core.state import State, canonical  # noqa: E402
from ledger.project.event_ledger import EventLedger  # noqa: E402
from ledger.project.project import Project  # noqa: E402
from ledger.store.sqlite import SqliteStore  # noqa: E402

CHUNK_SIZE = 16 * 1024
BIG_EVERY = 8  # every 8th transaction carries a chunked body
ROUNDS_PER_FILE = 25  # then start a fresh file, so checking stays cheap in long runs


def events_of(round_no: int, i: int, provenance: dict) -> list[Event]:
    """The events of transaction ``i`` of a round (a pure function of both, so the
    checker knows what each transaction must contain)."""
    n = 1 + i % 4
    out: list[Event] = [TrackAdded(TrackDef(track_id(round_no, i, k), f"r{round_no}t{i}k{k}"), 0)
                        for k in range(n)]
    if i % BIG_EVERY == BIG_EVERY - 1:
        blob = random.Random(round_no * 1_000_003 + i).randbytes(CHUNK_SIZE).hex()
        out.append(ProvenanceSet(dict(provenance), {"round": round_no, "tx": i, "blob": blob}))
    return out


def track_id(round_no: int, i: int, k: int) -> int:
    return round_no * 10_000_000 + i * 10 + k + 1


def message(round_no: int, i: int) -> str:
    return f"crash r{round_no} t{i}"


def child(path: str, round_no: int, chunk_size: int) -> None:
    """Commit transactions forever; acknowledge each on stdout after commit."""
    del chunk_size  # arrays are stored in parts of their own; kept for the CLI
    project = Project.open(path, "crash")
    out = sys.stdout
    i = 0
    while True:
        with project.transaction(message(round_no, i)):
            for event in events_of(round_no, i, project.state.provenance):
                project.emit(event)
        out.write(f"{i}\n")
        out.flush()
        if i % 5 == 2:  # kills also land while a snapshot is written
            project.snapshot()
        i += 1


@dataclass
class RoundResult:
    round_no: int
    killed_after: float
    acked: int
    committed: int
    events: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _spawn(path: Path, round_no: int, chunk_size: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "child", str(path), str(round_no),
         str(chunk_size)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def kill_round(path: Path, round_no: int, rng: random.Random, max_delay: float,
               chunk_size: int = CHUNK_SIZE) -> tuple[list[int], float]:
    """Run a child and SIGKILL it; return the acknowledged tx numbers and when the
    kill came (seconds after the first acknowledgement; negative: before it)."""
    proc = _spawn(path, round_no, chunk_size)
    assert proc.stdout is not None and proc.stderr is not None
    lines: list[bytes] = []
    first_ack = threading.Event()

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            first_ack.set()

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    if rng.random() < 0.15:  # sometimes while importing, opening or on the first commit
        time.sleep(rng.uniform(0.0, 0.4))
        killed_after = -1.0
    else:
        if not first_ack.wait(30):
            proc.kill()
            raise RuntimeError(f"child made no progress: {proc.stderr.read().decode()}")
        delay = rng.uniform(0.0, max_delay)
        time.sleep(delay)
        killed_after = delay
    if proc.poll() is not None:
        raise RuntimeError(f"child died on its own: {proc.stderr.read().decode()[-2000:]}")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    thread.join(10)
    proc.stdout.close()
    proc.stderr.close()
    acked = [int(line) for line in lines if line.endswith(b"\n")]
    return acked, killed_after


def check_round(path: Path, round_no: int, acked: list[int],
                expected_tracks: int) -> tuple[int, int, list[str]]:
    """Check the file after round ``round_no``; return (transactions committed in
    this round, events in the file, problems)."""
    problems: list[str] = []
    if not path.exists():
        if acked:
            problems.append("the ledger file is missing but transactions were acknowledged")
        return 0, 0, problems
    prefix = f"crash r{round_no} t"
    numbers: list[int] = []
    provenance: dict = {}

    def check_tx(recs: list) -> None:
        nonlocal provenance
        if len({r.message for r in recs}) != 1:
            problems.append(f"tx {recs[0].tx} mixes messages")
        if recs[0].message.startswith(prefix):
            i = int(recs[0].message[len(prefix):])
            numbers.append(i)
            want = events_of(round_no, i, provenance)
            if [r.event for r in recs] != want:
                problems.append(f"transaction {i} is incomplete or wrong "
                                f"({len(recs)} of {len(want)} events)")
        for rec in recs:
            if isinstance(rec.event, ProvenanceSet):
                provenance = dict(rec.event.after)

    with SqliteStore(path, create=False) as store:
        total = store.verify()
        current: list = []
        for rec in store.read():  # one transaction in memory at a time
            if current and rec.tx != current[0].tx:
                check_tx(current)
                current = []
            current.append(rec)
        if current:
            check_tx(current)
    if numbers != list(range(len(numbers))):
        problems.append(f"committed transactions are not 0..n-1 exactly once: {numbers[:20]}")
    if acked != list(range(len(acked))):
        problems.append(f"acknowledgements out of order: {acked[:20]}")
    if not 0 <= len(numbers) - len(acked) <= 1:
        problems.append(f"{len(acked)} acknowledged but {len(numbers)} committed")
    with SqliteStore(path, create=False, read_only=True) as store:
        ledger = EventLedger(store=store)
        tracks = len(ledger.state.tracks)
        if ledger.loaded_from:  # built from a snapshot: it must equal a full replay
            replayed = State()
            for rec in store.read():
                apply_event(replayed, rec.event)
            if canonical(replayed) != canonical(ledger.state):
                problems.append(f"the snapshot at seq {ledger.loaded_from} differs from "
                                "a replay")
    want_tracks = expected_tracks + sum(1 + i % 4 for i in numbers)
    if tracks != want_tracks:
        problems.append(f"replayed state has {tracks} tracks, expected {want_tracks}")
    return len(numbers), total, problems


def run(path: Path, rounds: int, seed: int, max_delay: float,
        chunk_size: int = CHUNK_SIZE, log: bool = False) -> list[RoundResult]:
    """Run ``rounds`` kill-and-check rounds on ``path``; return their results."""
    rng = random.Random(seed)
    results: list[RoundResult] = []
    tracks = 0
    first = path
    for round_no in range(rounds):
        if round_no and round_no % ROUNDS_PER_FILE == 0:
            path = first.with_name(f"{first.stem}.{round_no // ROUNDS_PER_FILE}{first.suffix}")
            tracks = 0
        acked, killed_after = kill_round(path, round_no, rng, max_delay, chunk_size)
        committed, events, problems = check_round(path, round_no, acked, tracks)
        tracks += sum(1 + i % 4 for i in range(committed))
        result = RoundResult(round_no, killed_after, len(acked), committed, events, problems)
        results.append(result)
        if log:
            state = "ok" if result.ok else "FAIL " + "; ".join(problems)
            print(f"round {round_no}: acked {len(acked)}, committed {committed}, "
                  f"events {events}: {state}", file=sys.stderr)
    return results


def summary(results: list[RoundResult], seconds: float) -> str:
    """A Markdown table of a run."""
    early = sum(r.killed_after < 0 for r in results)
    unacked = sum(r.committed - r.acked for r in results)
    failed = [r for r in results if not r.ok]
    rows = [
        ("rounds", len(results)),
        ("killed before the first acknowledgement", early),
        ("transactions acknowledged", sum(r.acked for r in results)),
        ("transactions committed", sum(r.committed for r in results)),
        ("committed but not yet acknowledged at the kill", unacked),
        ("largest file, events", max((r.events for r in results), default=0)),
        ("rounds with problems", len(failed)),
        ("wall time (s)", f"{seconds:.1f}"),
    ]
    lines = ["| measure | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    for r in failed[:10]:
        lines.append(f"| round {r.round_no} | {'; '.join(r.problems)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "child":
        child(argv[1], int(argv[2]), int(argv[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--max-delay", type=float, default=0.5,
                        help="kill up to this many seconds after the first commit")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the ledger")
    parser.add_argument("--verbose", action="store_true", help="log every round")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(2 ** 32)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        start = time.monotonic()
        results = run(Path(tmp) / "crash.ledger", args.rounds, seed, args.max_delay,
                      log=args.verbose)
        print(f"crash stress, seed {seed}\n")
        print(summary(results, time.monotonic() - start))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
