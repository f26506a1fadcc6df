"""Benchmark of `.slp` loading and saving: ledger vs sleap-io vs the raw h5py floor.

Synthetic prediction files are generated with sleap-io (its object model and
``save_slp``) and cached in ``--data-dir`` (default ``/tmp/ledger-bench``), so the
slow generation of the large file happens once:

* S: 1,000 frames x 2 instances x 15 nodes
* M: 50,000 frames x 3 instances x 20 nodes
* L: 300,000 frames x 4 instances x 24 nodes

Every file is tracked (one track per instance slot), has ~2% NaN points, scores
and tracking scores and suggestions (1 per 200 frames, group 0). A case is a size
and an optional percentage of proofread frames:

* ``S``, ``M``, ``L``: one user instance (copied from the first prediction, linked
  to it with ``from_predicted``) in 1% of the frames;
* ``M5``, ``L20``, ...: a proofread project. On that percentage of the frames,
  chosen at random, every prediction was copied to a user instance with small
  corrections and linked to it, so user and predicted instances interleave in
  the tables (the case that used to cost the reader 5-6x the raw read). Only the
  loads are measured for these.

Each measured operation runs in a fresh subprocess (``--worker``), so caches,
allocator state and peak memory do not leak between measurements. The operations
run in interleaved rounds (``--rounds``, default 3; sleap-io's eager load and save
of L, minutes each, run in the first round only), so a slow spell of the machine
falls on all of them alike; each reports the median time of all its runs and its
highest peak:

* ``raw``: h5py reads ``frames``, ``instances``, ``points``, ``pred_points`` with
  ``ds[()]`` (the floor any reader must pay);
* ``ours_load``: ``Labels.load_file(path)``; afterwards (untimed) one
  ``set_point`` + ``undo`` proves the result is editable;
* ``ours_save``: ``labels.save(out)`` on a loaded file (load untimed);
* ``sio_load`` / ``sio_lazy``: ``sio.load_slp(path)`` and ``lazy=True``;
* ``sio_save`` / ``sio_lazy_save``: ``sio.save_slp(labels, out, verbose=False)``
  of an eagerly / lazily loaded file (load untimed).

Peak memory: the worker resets the kernel's RSS high-water mark
(``/proc/self/clear_refs`` <- 5) right before the operation and reports
``VmHWM - VmRSS_before`` from ``/proc/self/status``: the extra resident memory
the operation needed at its peak (numpy buffers, Python objects and h5py/HDF5
buffers alike; on non-Linux it falls back to ``ru_maxrss`` minus the baseline).
"Loaded arrays" is the total ``nbytes`` of the four tables as h5py returns them.

Usage: python tools/bench/slp.py [--sizes S,M,M5,M20,L,L5,L20] [--data-dir DIR] [--repeat N]
       python tools/bench/slp.py --profile --sizes M   (cProfile of load_file)
Writes the ``slp`` section of docs/benchmarks.md (not with ``--profile``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, table, write_section  # noqa: E402

SIZES: dict[str, tuple[int, int, int]] = {
    "S": (1_000, 2, 15),
    "M": (50_000, 3, 20),
    "L": (300_000, 4, 24),
}
GENERATOR_VERSION = 1  # bump when the generated content changes
PROOFREAD_VERSION = 1  # the same for the proofread files
TABLES = ("frames", "instances", "points", "pred_points")
OPS = ("raw", "ours_load", "ours_save", "sio_load", "sio_lazy", "sio_save", "sio_lazy_save")
SLOW_ON_L = ("sio_load", "sio_save")
GOALS = {"load_vs_raw": 2.0, "load_vs_sio": 40.0, "save_vs_sio": 20.0, "mem_vs_arrays": 1.5}


# --------------------------------------------------------------------- generation


def parse_case(case: str) -> tuple[str, int | None]:
    """``"M"`` -> ("M", None): the original file, a user instance on 1% of frames;
    ``"M20"`` -> ("M", 20): every instance of 20% of the frames (chosen at random)
    proofread, i.e. copied to a user instance with small corrections."""
    match = re.fullmatch(r"([A-Z])(\d+)?", case.strip().upper())
    if match is None or match.group(1) not in SIZES:
        raise ValueError(f"unknown case {case!r}; a size {list(SIZES)} and an optional "
                         "percentage of proofread frames, e.g. M20")
    pct = int(match.group(2)) if match.group(2) else None
    if pct is not None and not 0 < pct <= 100:
        raise ValueError(f"proofread percentage {pct} outside 1..100")
    return match.group(1), pct


def data_path(data_dir: Path, case: str) -> Path:
    size, pct = parse_case(case)
    n_frames, n_inst, n_nodes = SIZES[size]
    if pct is None:
        return data_dir / f"pred_{size}_{n_frames}x{n_inst}x{n_nodes}_v{GENERATOR_VERSION}.slp"
    return data_dir / (f"proofread_{size}_{n_frames}x{n_inst}x{n_nodes}_p{pct}"
                       f"_v{PROOFREAD_VERSION}.slp")


def generate(path: Path, case: str) -> float:
    """Write the synthetic file with sleap-io; returns the seconds it took."""
    import numpy as np
    import sleap_io as sio

    size, pct = parse_case(case)
    n_frames, n_inst, n_nodes = SIZES[size]
    t0 = time.perf_counter()
    rng = np.random.default_rng(1234)
    names = [f"n{i}" for i in range(n_nodes)]
    skeleton = sio.Skeleton(names, edges=[(names[i], names[i + 1]) for i in range(n_nodes - 1)],
                            symmetries=[(names[1], names[2]), (names[3], names[4])],
                            name=f"bench{n_nodes}")
    video = sio.Video(filename=str(path.with_suffix(".mp4")), open_backend=False)
    tracks = [sio.Track(name=f"track_{k}") for k in range(n_inst)]
    if pct is None:
        proofread = np.arange(n_frames) % 100 == 50
    else:
        proofread = np.zeros(n_frames, bool)
        proofread[rng.choice(n_frames, n_frames * pct // 100, replace=False)] = True
    frames = []
    chunk = 10_000  # random data per chunk of frames keeps peak memory moderate
    for c0 in range(0, n_frames, chunk):
        c1 = min(n_frames, c0 + chunk)
        pts = rng.random((c1 - c0, n_inst, n_nodes, 2)) * 1000.0
        pts[rng.random((c1 - c0, n_inst, n_nodes)) < 0.02] = np.nan
        pscores = rng.random((c1 - c0, n_inst, n_nodes))
        iscores = rng.random((c1 - c0, n_inst))
        tscores = rng.random((c1 - c0, n_inst))
        nudge = rng.normal(0.0, 2.0, (c1 - c0, n_inst, n_nodes, 2))
        for f in range(c0, c1):
            r = f - c0
            insts = [sio.PredictedInstance.from_numpy(
                pts[r, k], skeleton, point_scores=pscores[r, k], score=float(iscores[r, k]),
                track=tracks[k], tracking_score=float(tscores[r, k])) for k in range(n_inst)]
            if proofread[f] and pct is None:
                user_pts = np.where(np.isnan(pts[r, 0]), np.nan, pts[r, 0] + 0.5)
                insts.append(sio.Instance.from_numpy(user_pts, skeleton, track=tracks[0],
                                                     from_predicted=insts[0]))
            elif proofread[f]:
                # every prediction corrected by a human: moved a little, gaps kept
                insts += [sio.Instance.from_numpy(pts[r, k] + nudge[r, k], skeleton,
                                                  track=tracks[k], from_predicted=insts[k])
                          for k in range(n_inst)]
            frames.append(sio.LabeledFrame(video=video, frame_idx=f, instances=insts))
    suggestions = [sio.SuggestionFrame(video=video, frame_idx=f, metadata={"group": 0})
                   for f in range(0, n_frames, 200)]
    labels = sio.Labels(labeled_frames=frames, videos=[video], skeletons=[skeleton],
                        tracks=tracks, suggestions=suggestions)
    del frames
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.slp")
    sio.save_slp(labels, str(tmp), verbose=False)
    os.replace(tmp, path)
    return time.perf_counter() - t0


def ensure(data_dir: Path, size: str) -> Path:
    path = data_path(data_dir, size)
    if path.exists():
        print(f"[{size}] using cached {path}", flush=True)
        return path
    print(f"[{size}] generating {path} with sleap-io ...", flush=True)
    seconds = generate(path, size)
    print(f"[{size}] generated in {seconds:.1f} s ({path.stat().st_size / 1e6:.1f} MB)",
          flush=True)
    return path


# ------------------------------------------------------------------------ worker


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


class PeakMeter:
    """Extra resident memory (bytes) at the peak of the measured block."""

    def __enter__(self) -> PeakMeter:
        self.proc = _reset_peak() and _status_kb("VmRSS") is not None
        if self.proc:
            self.before = _status_kb("VmRSS") or 0
        else:
            self.before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc:
            self.peak = max(0, (_status_kb("VmHWM") or 0) - self.before) * 1024
        else:
            self.peak = max(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                            - self.before) * 1024


def worker(op: str, path: str, out: str, repeat: int) -> dict[str, object]:
    """Run one operation ``repeat`` times in this (fresh) process."""
    import gc

    import h5py
    import numpy as np
    import sleap_io as sio

    from ledger import Labels

    result: dict[str, object] = {"op": op}
    times: list[float] = []
    peak = None
    for _ in range(repeat):
        gc.collect()
        subject = None
        if op == "ours_save":
            subject = Labels.load_file(path)
        elif op == "sio_save":
            subject = sio.load_slp(path)
        elif op == "sio_lazy_save":
            subject = sio.load_slp(path, lazy=True)
        with PeakMeter() as meter:
            t0 = time.perf_counter()
            if op == "raw":
                with h5py.File(path, "r") as f:
                    arrays = [f[name][()] for name in TABLES]
                value: object = arrays
            elif op == "ours_load":
                value = Labels.load_file(path)
            elif op in ("sio_load", "sio_lazy"):
                value = sio.load_slp(path, lazy=op == "sio_lazy")
            elif op == "ours_save":
                subject.save(out)  # type: ignore[union-attr]
                value = None
            elif op in ("sio_save", "sio_lazy_save"):
                sio.save_slp(subject, out, verbose=False)
                value = None
            else:
                raise SystemExit(f"unknown op {op}")
            times.append(time.perf_counter() - t0)
        if peak is None:
            peak = meter.peak
        if op == "raw":
            result["array_bytes"] = int(sum(a.nbytes for a in arrays))
            result["rows"] = [int(len(a)) for a in arrays]
        if op == "ours_load":
            labels = value
            result["transactions"] = len({r.tx for r in labels.history}) if hasattr(
                labels.history[0], "tx") else None
            result["events"] = [r.kind for r in labels.history]
            lf = labels.labeled_frames[len(labels) // 2]
            inst = lf.instances[0]
            before = inst.numpy().copy()
            labels.set_point(inst, 0, 1.25, 2.5)
            moved = inst.numpy()[0].tolist() == [1.25, 2.5]
            undone = labels.undo()
            same = np.array_equal(inst.numpy(), before, equal_nan=True)
            result["editable"] = bool(moved and undone and same)
            result["n_frames"] = len(labels)
        del value, subject
        if op in ("ours_save", "sio_save", "sio_lazy_save") and os.path.exists(out):
            result["out_bytes"] = os.path.getsize(out)
            os.unlink(out)
    result["times"] = times
    result["seconds"] = statistics.median(times)
    result["peak_bytes"] = peak
    return result


def run_worker(op: str, path: Path, repeat: int) -> dict[str, object]:
    out = str(path.with_name(path.stem + f".out_{op}.slp"))
    cmd = [sys.executable, __file__, "--worker", op, "--path", str(path), "--out", out,
           "--repeat", str(repeat)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stdout[-2000:], proc.stderr[-4000:], file=sys.stderr)
        return {"op": op, "error": f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _combine(best: dict[str, object] | None, new: dict[str, object]) -> dict[str, object]:
    """Median time over all runs and highest peak of measurements of one operation."""
    if best is None or "error" in best:
        return new
    if "error" in new:
        return best
    out = dict(best)
    out["times"] = [*best.get("times", [best["seconds"]]),  # type: ignore[misc]
                    *new.get("times", [new["seconds"]])]  # type: ignore[misc]
    out["seconds"] = statistics.median(out["times"])  # type: ignore[arg-type]
    out["peak_bytes"] = max(int(best["peak_bytes"] or 0), int(new["peak_bytes"] or 0))  # type: ignore[call-overload]
    out["rounds"] = int(best.get("rounds", 1)) + 1  # type: ignore[call-overload]
    if "editable" in best:
        out["editable"] = bool(best["editable"]) and bool(new.get("editable"))
    return out


# ---------------------------------------------------------------------- profile


def profile(path: Path, top: int = 25) -> str:
    import cProfile
    import io
    import pstats

    from ledger import Labels

    Labels.load_file(str(path))  # warm imports and the file cache
    prof = cProfile.Profile()
    prof.enable()
    Labels.load_file(str(path))
    prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    total = max(stats.total_tt, 1e-9)  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)  # type: ignore[attr-defined]
    lines = [f"total {total:.3f} s; top {top} by own time:"]
    for (file, line, func), (_cc, nc, tt, ct, _callers) in rows[:top]:
        lines.append(f"{tt:8.3f} s {100 * tt / total:5.1f}%  cum {ct:8.3f} s  n={nc:<8} "
                     f"{func}  {file}:{line}")
    return "\n".join(lines)


# ------------------------------------------------------------------------ report


def _fmt_s(v: object) -> str:
    if not isinstance(v, int | float):
        return "n/a"
    return f"{v * 1000:.1f} ms" if v < 1 else f"{v:.2f} s"


def _fmt_mb(v: object) -> str:
    return f"{v / 1e6:.0f} MB" if isinstance(v, int | float) else "n/a"


def _ratio(a: object, b: object) -> str:
    if not isinstance(a, int | float) or not isinstance(b, int | float) or b <= 0:
        return "n/a"
    return f"{a / b:.2f}x" if a / b < 10 else f"{a / b:.0f}x"


def _ok(flag: bool | None) -> str:
    return "n/a" if flag is None else ("yes" if flag else "**no**")


def _num(r: dict[str, object], key: str) -> float | None:
    v = r.get(key)
    return float(v) if isinstance(v, int | float) else None


def _ops_for(case: str, ops: list[str]) -> list[str]:
    """Proofread cases measure loading only (the reader is what they exercise)."""
    if parse_case(case)[1] is None:
        return ops
    return [op for op in ops if op in ("raw", "ours_load", "sio_load", "sio_lazy")]


def render(results: dict[str, dict[str, dict[str, object]]], gen: dict[str, str],
           host: str) -> str:
    ops_rows = []
    goal_rows = []
    for size, res in results.items():
        n_frames, n_inst, n_nodes = SIZES[parse_case(size)[0]]
        pct = parse_case(size)[1]
        arrays = res["raw"].get("array_bytes")
        for op in OPS:
            if op not in res:
                continue
            r = res[op]
            ops_rows.append([size, op, _fmt_s(r.get("seconds")) if "error" not in r
                             else f"error: {str(r['error'])[:60]}",
                             _fmt_mb(r.get("peak_bytes")), _ratio(r.get("peak_bytes"), arrays)])
        t = {op: _num(res.get(op, {}), "seconds") for op in OPS}
        mem = _num(res.get("ours_load", {}), "peak_bytes")
        load_raw = t["ours_load"] / t["raw"] if t["ours_load"] and t["raw"] else None
        sio_x = t["sio_load"] / t["ours_load"] if t["sio_load"] and t["ours_load"] else None
        lazy_x = t["sio_lazy"] / t["ours_load"] if t["sio_lazy"] and t["ours_load"] else None
        save_x = t["sio_save"] / t["ours_save"] if t["sio_save"] and t["ours_save"] else None
        lsave_x = (t["sio_lazy_save"] / t["ours_save"]
                   if t["sio_lazy_save"] and t["ours_save"] else None)
        mem_x = mem / arrays if mem is not None and isinstance(arrays, int) and arrays else None
        edit = res.get("ours_load", {}).get("editable")
        goal_rows.append([
            size, f"{n_frames:,}x{n_inst}x{n_nodes}",
            "1 inst, 1%" if pct is None else f"all, {pct}%", _fmt_mb(arrays),
            f"{load_raw:.2f}x" if load_raw else "n/a", _ok(None if load_raw is None
                                                           else load_raw <= GOALS["load_vs_raw"]),
            f"{sio_x:.1f}x" if sio_x else "n/a", _ok(None if sio_x is None
                                                     else sio_x >= GOALS["load_vs_sio"]),
            f"{lazy_x:.2f}x" if lazy_x else "n/a",
            f"{save_x:.1f}x" if save_x else "n/a", _ok(None if save_x is None
                                                       else save_x >= GOALS["save_vs_sio"]),
            f"{lsave_x:.1f}x" if lsave_x else "n/a",
            f"{mem_x:.2f}x" if mem_x else "n/a", _ok(None if mem_x is None
                                                     else mem_x <= GOALS["mem_vs_arrays"]),
            _ok(edit if isinstance(edit, bool) else None)])
    gen_lines = "\n".join(f"- {k}: {v}" for k, v in gen.items())
    notes = "\n".join(_floor_notes(results))
    return f"""## `.slp` load/save: ledger vs sleap-io (`tools/bench/slp.py`)

{host}; sleap-io {_sio_version()}. Synthetic prediction files generated with
sleap-io (tracked, ~2% NaN points, suggestions every 200 frames). Cases S, M, L:
1% of frames with one user instance linked by `from_predicted`. Cases M5, M20, L5,
L20 are proofread projects: on 5% / 20% of the frames, chosen at random, every
prediction was copied to a user instance with small corrections and linked by
`from_predicted`, so user and predicted instances interleave (loads only: saving
is measured on S, M, L). Each operation ran in a fresh subprocess, in interleaved
rounds (sleap-io's eager load and save of L-sized files, minutes each, in the first
round only); time is the median of all repeats and rounds, peak the highest.
Peak = extra resident memory at the operation's peak (RSS high-water
mark reset via `/proc/self/clear_refs` just before the operation, `VmHWM - VmRSS`),
shown also as a multiple of the four tables' in-memory size ("arrays"). `*_save`
and `sio_lazy_save` exclude the load.

Goals: load <= {GOALS['load_vs_raw']:g}x raw floor, >= {GOALS['load_vs_sio']:g}x faster than
sleap-io eager, save >= {GOALS['save_vs_sio']:g}x faster than sleap-io, load peak <=
{GOALS['mem_vs_arrays']:g}x arrays, and the loaded labels editable (`set_point` + `undo`).

Ratios: "ours load / raw" is our load time over the h5py floor (lower is better);
the sleap-io columns are sleap-io's time over ours (higher means we are faster,
below 1 means sleap-io is faster).

{table(["case", "frames x inst x nodes", "proofread", "arrays", "ours load / raw", "ok",
        "sio eager load / ours", "ok", "sio lazy load / ours", "sio save / ours", "ok",
        "sio lazy save / ours", "ours load peak / arrays", "ok", "editable"], goal_rows)}
{notes}
{table(["case", "operation", "time", "peak", "peak / arrays"], ops_rows)}

Data files:
{gen_lines}
"""


def _floor_notes(results: dict[str, dict[str, dict[str, object]]]) -> list[str]:
    """What the goal columns cannot show: tiny files, and goals below the raw floor."""
    notes = []
    for size, res in results.items():
        arrays = _num(res.get("raw", {}), "array_bytes")
        if arrays is not None and arrays < 10e6:
            notes.append(
                f"- {size} ({_fmt_mb(arrays)} of tables) measures fixed per-call costs more "
                "than throughput: opening the HDF5 file, parsing its metadata and creating "
                "the ledger; for saves, also the atomic temp file, fsync and rename. The "
                "goals are set against the brief's M and L figures.")
        raw = _num(res.get("raw", {}), "seconds")
        sio = _num(res.get("sio_load", {}), "seconds")
        if raw and sio and sio / GOALS["load_vs_sio"] < raw:
            notes.append(
                f"- {size}: {GOALS['load_vs_sio']:g}x faster than sleap-io's eager load "
                f"({_fmt_s(sio)}) means {_fmt_s(sio / GOALS['load_vs_sio'])}, less than "
                f"h5py's raw read of the four tables ({_fmt_s(raw)}; it is itself only "
                f"{sio / raw:.1f}x faster than sleap-io here): that goal cannot be met on "
                "this machine by any reader.")
    if not notes:
        return []
    return ["", *notes, ""]


def _sio_version() -> str:
    import sleap_io as sio

    return str(sio.__version__)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="S,M,M5,M20",
                    help="cases: a size (S, M, L) with an optional percentage of "
                         "proofread frames, e.g. M20")
    ap.add_argument("--data-dir", default="/tmp/ledger-bench")
    ap.add_argument("--repeat", type=int, default=0,
                    help="repeats per operation (default: 3 for S and M, 1 for L)")
    ap.add_argument("--rounds", type=int, default=0,
                    help="interleaved rounds of the operations (default 3; sleap-io's eager "
                         "load and save of L run in the first round only)")
    ap.add_argument("--ops", default=",".join(OPS))
    ap.add_argument("--profile", action="store_true", help="cProfile Labels.load_file only")
    ap.add_argument("--no-write", action="store_true", help="do not write docs/benchmarks.md")
    ap.add_argument("--generate-only", action="store_true", help="only build the cached files")
    ap.add_argument("--from-json", action="store_true",
                    help="re-render the section from the last run's results (no measuring)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        print(json.dumps(worker(args.worker, args.path, args.out, max(1, args.repeat))))
        return

    sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    for case in sizes:
        try:
            parse_case(case)
        except ValueError as exc:
            ap.error(str(exc))
    data_dir = Path(args.data_dir)
    if args.profile:
        for size in sizes:
            print(f"== cProfile Labels.load_file, size {size}")
            print(profile(ensure(data_dir, size)), flush=True)
        return

    if args.from_json:
        saved = json.loads((data_dir / "slp_bench_results.json").read_text())
        results = saved["results"]
        body = render(results, saved["files"], saved["machine"])
        print(body)
        if not args.no_write:
            write_section("slp", body)
        return

    if args.generate_only:
        for size in sizes:
            ensure(data_dir, size)
        return

    ops = [o for o in args.ops.split(",") if o]
    if "raw" not in ops:
        ops.insert(0, "raw")
    results: dict[str, dict[str, dict[str, object]]] = {}
    gen: dict[str, str] = {}
    for size in sizes:
        path = ensure(data_dir, size)
        gen[size] = f"`{path.name}` (in `--data-dir`) ({path.stat().st_size / 1e6:.1f} MB)"
        big = parse_case(size)[0] == "L"
        repeat = args.repeat or (1 if big else 3)
        rounds = args.rounds or 3
        results[size] = {}
        # Rounds interleave the operations, so a slow spell of the machine hits all
        # of them alike; each keeps its best time and its highest peak. sleap-io's
        # eager load and save of L take minutes: they run in the first round only.
        for k in range(rounds):
            for op in _ops_for(size, ops):
                if k and big and op in SLOW_ON_L:
                    continue
                r = _combine(results[size].get(op), run_worker(op, path, repeat))
                results[size][op] = r
                print(f"[{size}] round {k + 1}/{rounds} {op:14s} "
                      f"{_fmt_s(r.get('seconds')):>10s} "
                      f"peak {_fmt_mb(r.get('peak_bytes')):>8s} "
                      f"{'' if 'error' not in r else r['error'][:200]}"
                      f"{' editable=' + str(r.get('editable')) if op == 'ours_load' else ''}",
                      flush=True)
    host = machine()
    body = render(results, gen, host)
    print(body)
    raw_json = data_dir / "slp_bench_results.json"
    raw_json.write_text(json.dumps({"results": results, "files": gen, "machine": host},
                                   indent=1))
    if not args.no_write:
        write_section("slp", body)


if __name__ == "__main__":
    main()
