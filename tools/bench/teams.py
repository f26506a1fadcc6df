"""Benchmark of team ledgers on PostgreSQL, side by side with the SQLite store.

- commit latency of one point edit through `Labels.set_point`, online vs a file
  (goal: online median ≤ 2 ms on loopback);
- push and pull of 10,000 small transactions between a replica and the server
  (goal ≤ 1 s each), next to appending the same records to a SQLite file;
- clone of a 50,000-frame × 3 × 20 project (goal ≤ 2× the SQLite import);
- sustained throughput of 8 concurrent writers (transactions/s and how many
  commits lost a race and were retried), online vs one shared file.

Every figure is the median of ``--runs`` runs.

Usage: python tools/bench/teams.py [--url postgresql://postgres@127.0.0.1/postgres]
       [--frames 50000] [--runs 3] [--seconds 5]
Writes the ``teams`` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, median, percentile, table, write_section  # noqa: E402
from synthetic import synthetic  # noqa: E402

import ledger  # noqa: E402
from ledger import Instance, LabeledFrame, Point, Skeleton, Video  # noqa: E402
from ledger.core import events as ev  # noqa: E402
from ledger.core.record import Record  # noqa: E402
from ledger.errors import ConcurrencyError  # noqa: E402
from ledger.io.project_convert import import_events  # noqa: E402
from ledger.project.event_ledger import TOOL_VERSION  # noqa: E402
from ledger.project.replica import copy_records  # noqa: E402
from ledger.store.postgres_admin import admin_init, create_project  # noqa: E402
from ledger.store.sqlite import SqliteStore  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SMALL_FRAMES = 50


def in_schema(url: str, schema: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    return make_conninfo(**{**conninfo_to_dict(url), "options": f"-c search_path={schema}"})


def seed(labels: ledger.Labels, frames: int = SMALL_FRAMES) -> None:
    skel = Skeleton.from_names_and_edge_inds(["head", "tail"], [(0, 1)])
    video = Video.from_filename("/bench/clip.mp4")
    with labels.transaction("seed"):
        for f in range(frames):
            labels.append(LabeledFrame(video, f, [
                Instance(skel, {"head": Point(f, f), "tail": Point(f + 1, f)})]))


def latency(labels: ledger.Labels, n: int) -> list[float]:
    inst = labels[1].instances[0]
    samples = []
    for k in range(n):
        t0 = time.perf_counter()
        labels.set_point(inst, "head", float(k), 2.0)
        samples.append(time.perf_counter() - t0)
    return samples


def point_records(labels: ledger.Labels, n: int, author: str) -> list[Record]:
    inst = labels[2].instances[0]
    node = inst.skeleton.nodes[0]._id
    head, tx = labels.project.head, labels.project.last_tx
    now = "2026-01-01T00:00:00+00:00"
    return [Record(head + k + 1, tx + k + 1, author, now, "", TOOL_VERSION, "do", 0,
                   ev.PointSet(inst._id, node, float(k), 1.0, True, True, 0.0,
                               float(k - 1) if k else 2.0, 2.0 if not k else 1.0, True,
                               True, 0.0))
            for k in range(n)]


def writer(target: str, project: str | None, seconds: float, seed_: int, out: object) -> None:
    rng = random.Random(seed_)
    labels = ledger.open(target, project=project) if project else ledger.open(target)
    commits = retries = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        inst = labels[rng.randrange(SMALL_FRAMES)].instances[0]
        try:
            labels.set_point(inst, rng.choice(["head", "tail"]), rng.random(), rng.random())
            commits += 1
        except ConcurrencyError:
            retries += 1
            labels.refresh()
    labels.close()
    out.put((commits, retries))  # type: ignore[attr-defined]


def throughput(target: str, project: str | None, n: int, seconds: float) -> tuple[float, float]:
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=writer, args=(target, project, seconds, k, queue))
             for k in range(n)]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    commits = sum(c for c, _ in results)
    retries = sum(r for _, r in results)
    return commits / seconds, retries / max(commits + retries, 1)


def run_once(url: str, work: Path, frames: int, seconds: float, n_lat: int) -> dict[str, float]:
    out: dict[str, float] = {}
    tag = uuid.uuid4().hex[:6]
    # latency
    create_project(url, f"lat{tag}")
    online = ledger.open(url, project=f"lat{tag}")
    seed(online)
    lat = latency(online, n_lat)
    online.close()
    local = ledger.open(work / f"lat{tag}.ledger", author="bench")
    seed(local)
    lat_file = latency(local, n_lat)
    local.close()
    out.update(lat_med=median(lat), lat_p99=percentile(lat, 0.99),
               lat_file_med=median(lat_file), lat_file_p99=percentile(lat_file, 0.99))
    # push / pull of 10,000 transactions
    create_project(url, f"pp{tag}")
    with ledger.open(url, project=f"pp{tag}") as online:
        seed(online)
    a = ledger.clone(url, work / f"a{tag}.ledger", project=f"pp{tag}")
    b = ledger.clone(url, work / f"b{tag}.ledger", project=f"pp{tag}")
    recs = point_records(a, 10_000, a.author)
    a.project.store.append(recs, a.project.head)
    a.refresh()
    t0 = time.perf_counter()
    a.push()
    out["push"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    b.pull()
    out["pull"] = time.perf_counter() - t0
    plain = SqliteStore(work / f"plain{tag}.ledger")
    copy_records(a.project.store, plain, 1, a.project.head - 10_000)
    t0 = time.perf_counter()
    copy_records(a.project.store, plain, a.project.head - 10_000 + 1, a.project.head)
    out["file_append"] = time.perf_counter() - t0
    plain.close()
    a.close()
    b.close()
    # clone of a big project vs the SQLite import
    events = None
    t0 = time.perf_counter()
    big = ledger.open(work / f"big{tag}.ledger", author="bench")
    events = import_events(synthetic(frames, 3, 20, 0, 1), big.project.ids)
    big.project.commit(events, "import")
    big.close()
    out["import_file"] = time.perf_counter() - t0
    create_project(url, f"big{tag}")
    t0 = time.perf_counter()
    with ledger.open(url, project=f"big{tag}") as online:
        online.project.commit(events, "import")
    out["import_server"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    ledger.clone(url, work / f"clone{tag}.ledger", project=f"big{tag}").close()
    out["clone"] = time.perf_counter() - t0
    # 8 concurrent writers
    create_project(url, f"tp{tag}")
    with ledger.open(url, project=f"tp{tag}") as online:
        seed(online)
    out["tps"], out["retry"] = throughput(url, f"tp{tag}", 8, seconds)
    shared = work / f"tp{tag}.ledger"
    with ledger.open(shared, author="bench") as local:
        seed(local)
    out["tps_file"], out["retry_file"] = throughput(str(shared), None, 8, seconds)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="an admin connection string")
    parser.add_argument("--frames", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--latency-n", type=int, default=1000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = in_schema(args.url, schema)
    try:
        admin_init(url)
        runs = []
        for k in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="ledger-teams-") as tmp:
                runs.append(run_once(url, Path(tmp), args.frames, args.seconds, args.latency_n))
            print(f"run {k + 1}: " + ", ".join(f"{key}={v:.4g}" for key, v in runs[-1].items()))
    finally:
        with psycopg.connect(args.url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    m = {key: median([r[key] for r in runs]) for key in runs[0]}
    ms = lambda s: f"{s * 1e3:.2f} ms"  # noqa: E731
    sec = lambda s: f"{s:.2f} s"  # noqa: E731
    rows = [
        ["commit latency, one point edit (median)", ms(m["lat_med"]), ms(m["lat_file_med"]),
         "≤ 2 ms online"],
        ["commit latency, one point edit (p99)", ms(m["lat_p99"]), ms(m["lat_file_p99"]), ""],
        ["push 10,000 transactions", sec(m["push"]), sec(m["file_append"]) + " (append)",
         "≤ 1 s"],
        ["pull 10,000 transactions", sec(m["pull"]), "", "≤ 1 s"],
        [f"clone of {args.frames:,} frames × 3 × 20", sec(m["clone"]),
         sec(m["import_file"]) + " (import)",
         f"≤ 2× import ({m['clone'] / m['import_file']:.2f}×)"],
        [f"import of {args.frames:,} frames × 3 × 20", sec(m["import_server"]),
         sec(m["import_file"]), ""],
        ["8 concurrent writers, tx/s", f"{m['tps']:.0f}", f"{m['tps_file']:.0f}", ""],
        ["8 concurrent writers, commits retried", f"{m['retry'] * 100:.1f} %",
         f"{m['retry_file'] * 100:.1f} %", ""],
    ]
    body = (f"## Teams on PostgreSQL (`tools/bench/teams.py`)\n\n{machine()}; PostgreSQL on "
            f"loopback; median of {args.runs} runs; writers run for {args.seconds:g} s.\n\n"
            + table(["what", "PostgreSQL", "SQLite file", "goal"], rows))
    print(body)
    if not args.no_write:
        write_section("teams", body)


if __name__ == "__main__":
    main()
