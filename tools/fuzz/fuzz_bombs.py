"""Fuzz the hostile cases of issue 14: frame-key collisions, unencodable values,
resource bombs and special files, mixed with `fuzz_slp`'s mutations.

Every case goes through the whole load (`Labels.load_file`: read, validate,
import, commit), which must end in a `Labels` whose history replays, or raise
`FormatError` -- nothing else -- and the process's peak memory must stay bounded
(reported at the end; ``--max-rss-mb`` fails the run past it).

Usage::

    python tools/fuzz/fuzz_bombs.py --cases 20000 [--seed 1] [--max-rss-mb 1500]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sys
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
for extra in (ROOT, ROOT / "tools" / "fuzz"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from fuzz_slp import SLP_MUTATIONS, WEIRD_VALUES  # noqa: E402

from ledger import (  # noqa: E402
    Instance,
    LabeledFrame,
    Labels,
    PredictedInstance,
    Skeleton,
    Video,
)
from ledger.errors import FormatError  # noqa: E402


def _base(tmp: Path) -> tuple[Path, Path]:
    """A small .slp and .json with two videos, user and predicted instances."""
    skel = Skeleton.from_names_and_edge_inds(["a", "b", "c"], [(0, 1)], name="s")
    videos = [Video.from_filename("/x/v0.mp4"), Video.from_filename("/x/v1.mp4")]
    labels = Labels(author="fuzz")
    rng = np.random.default_rng(0)
    for v in videos:
        for i in range(4):
            xy = rng.random((3, 2)) * 50
            pred = PredictedInstance.from_numpy(xy, np.ones(3), 0.5, skel)
            user = Instance.from_numpy(xy, skel)
            labels.append(LabeledFrame(v, i, [pred, user]))
    slp, js = tmp / "base.slp", tmp / "base.json"
    labels.save(slp)
    labels.save(js)
    return slp, js


# ------------------------------------------------------------------ new cases


def _frame_keys(path: Path, rng: random.Random) -> str:
    with h5py.File(path, "r+") as f:
        frames = f["frames"][:]
        big = [2**40, 2**40 - 1, 2**41, 2**63 - 1, -1, -(2**40)]
        for row in rng.sample(range(len(frames)), k=min(len(frames), rng.randint(1, 3))):
            frames["frame_idx"][row] = rng.choice(big + [0, 1])
            frames["video"][row] = rng.choice([0, 1, 2, -1])
        del f["frames"]
        f.create_dataset("frames", data=frames, maxshape=(None,))
    return "frame-key collision"


def _unencodable(path: Path, rng: random.Random) -> str:
    with h5py.File(path, "r+") as f:
        meta = json.loads(f["metadata"].attrs["json"])
        choice = rng.randrange(5)
        if choice == 0:
            meta["provenance"] = {"a": rng.choice([2**70, "\ud800", [1, {"b": 2**65}]])}
        elif choice == 1:
            deep: Any = 1
            for _ in range(rng.choice([100, 900, 2000])):
                deep = [deep]
            meta["provenance"] = {"deep": deep}
        elif choice == 2:
            meta["provenance"] = {str(k): rng.choice(WEIRD_VALUES) for k in range(3)}
        else:
            tracks = [json.dumps([0, rng.choice(["\udcff", "x" * 10, "\ud800"])])]
            if "tracks_json" in f:
                del f["tracks_json"]
            f.create_dataset("tracks_json", data=np.array(tracks, dtype="S"))
        text = json.dumps(meta)
        f["metadata"].attrs["json"] = np.bytes_(text.encode("utf-8", "surrogatepass"))
    return "unencodable value"


def _overlap_bomb(path: Path, rng: random.Random) -> str:
    """Many instances whose point ranges all overlap the same few points."""
    with h5py.File(path, "r+") as f:
        inst = f["instances"][:]
        n = rng.choice([1000, 20000, 200000])
        bomb = np.resize(inst, n)
        bomb["point_id_start"] = 0
        bomb["point_id_end"] = 3
        bomb["frame_id"] = 0
        frames = f["frames"][:]
        frames["instance_id_start"][0], frames["instance_id_end"][0] = 0, n
        del f["instances"], f["frames"]
        f.create_dataset("instances", data=bomb, maxshape=(None,), compression="gzip")
        f.create_dataset("frames", data=frames, maxshape=(None,))
    return "overlapping point ranges"


def _chunk_bomb(path: Path, rng: random.Random) -> str:
    """A table declared huge whose chunks compress to almost nothing."""
    name = rng.choice(["points", "pred_points", "instances", "frames"])
    with h5py.File(path, "r+") as f:
        dtype = f[name].dtype
        del f[name]
        rows = rng.choice([10**7, 5 * 10**7])
        ds = f.create_dataset(name, shape=(rows,), dtype=dtype, maxshape=(None,),
                              chunks=(1 << 16,), compression="gzip", fillvalue=None)
        ds[: 1 << 16] = np.zeros(1 << 16, dtype)
    return f"chunk bomb ({name})"


def _external(path: Path, rng: random.Random) -> str:
    other = path.with_name(path.stem + "-other.h5")
    with h5py.File(other, "w") as g:
        g.create_dataset("t", data=np.zeros(4))
    with h5py.File(path, "r+") as f:
        name = rng.choice(["points", "instances", "frames"])
        if rng.random() < 0.5:
            del f[name]
            f[name] = h5py.ExternalLink(str(other), "t")
            return "external link"
        data = f[name][:]
        del f[name]
        raw = path.with_name(path.stem + "-raw.bin")
        raw.write_bytes(data.tobytes())
        f.create_dataset(name, shape=data.shape, dtype=data.dtype,
                         external=[(str(raw), 0, h5py.h5f.UNLIMITED)])
        return "external storage"


_ZIP_BOMBS: dict[int, Path] = {}


def _zip_bomb(path: Path, rng: random.Random) -> Path:
    """A tiny .json.zip that inflates to hundreds of MB (built once per size)."""
    size = rng.choice([256, 1024])  # MiB when inflated
    if size not in _ZIP_BOMBS:
        built = path.parent.parent / f"bomb{size}.json.zip"
        with zipfile.ZipFile(built, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            with zf.open("labels.json", "w", force_zip64=True) as fh:
                fh.write(b'{"labels": [')
                block = b" " * (1 << 20)
                for _ in range(size):
                    fh.write(block)
                fh.write(b"]}")
        _ZIP_BOMBS[size] = built
    target = path.with_suffix(".json.zip")
    shutil.copy(_ZIP_BOMBS[size], target)
    return target


def _special(tmp: Path, case: int, rng: random.Random) -> Path:
    kind = rng.randrange(3)
    target = tmp / f"special{case}{rng.choice(['.slp', '.json'])}"
    if kind == 0:
        os.mkfifo(target)
    elif kind == 1:
        target.symlink_to("/dev/zero")
    else:
        target.mkdir()
    return target


def _quadratic_json(tmp: Path, case: int, rng: random.Random) -> Path:
    """One frame with many predictions and user instances linked to them."""
    n = rng.choice([200, 2000])
    points = {str(k): {"x": 1.0, "y": 2.0, "visible": True, "complete": False} for k in range(3)}
    pred = {"skeleton": 0, "track": None, "score": 0.5, "_points": points}
    user = {"skeleton": 0, "track": None, "from_predicted": dict(pred, score=None),
            "_points": points}
    user["from_predicted"].pop("score")
    doc = {"version": "2.0.0", "skeletons": [{"nodes": [{"id": k} for k in range(3)],
                                              "links": []}],
           "nodes": [{"name": c, "weight": 1.0} for c in "abc"], "videos": [], "tracks": [],
           "labels": [{"video": 0, "frame_idx": 0, "instances": [pred] * n + [user] * n}]}
    target = tmp / f"quad{case}.json"
    target.write_text(json.dumps(doc))
    return target


NEW_SLP: list[Callable[[Path, random.Random], str]] = [
    _frame_keys, _unencodable, _overlap_bomb, _chunk_bomb, _external]


def _load(target: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels = Labels.load_file(str(target))
    labels.verify()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_cases(n_cases: int, seed: int = 0, report_every: int = 0) -> dict[str, int]:
    """Run ``n_cases``; raise AssertionError on the first outcome that is not a
    loaded `Labels` or a `FormatError`. ``report_every`` prints running totals."""
    rng = random.Random(seed)
    stats: dict[str, int] = {"ok": 0, "format_error": 0}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        slp, js = _base(tmp)
        for case in range(n_cases):
            r = rng.random()
            work = tmp / f"c{case}"
            work.mkdir()
            try:
                if r < 0.01:
                    what, target = "zip bomb", _zip_bomb(work / "z.json", rng)
                elif r < 0.05:
                    what, target = "special file", _special(work, case, rng)
                elif r < 0.08:
                    what, target = "from_predicted", _quadratic_json(work, case, rng)
                else:
                    src = slp if rng.random() < 0.9 else js
                    target = work / f"case{src.suffix}"
                    shutil.copy(src, target)
                    mutate = rng.choice(NEW_SLP * 2 + SLP_MUTATIONS)
                    try:
                        what = mutate(target, rng)
                    except Exception:  # noqa: BLE001 - the mutation failed on a broken file
                        what = "mutation failed"
                try:
                    _load(target)
                except FormatError:
                    stats["format_error"] += 1
                except Exception as exc:
                    raise AssertionError(f"case {case} (seed {seed}, {what}): "
                                         f"{type(exc).__name__}: {exc}") from exc
                else:
                    stats["ok"] += 1
                kind = what.split(" (")[0].rstrip("0123456789 ").split("[")[0]
                stats[kind] = stats.get(kind, 0) + 1
            finally:
                shutil.rmtree(work, ignore_errors=True)
            if report_every and (case + 1) % report_every == 0:
                print(f"{case + 1} cases: ok {stats['ok']}, FormatError "
                      f"{stats['format_error']}, peak RSS {_peak_mb():.0f} MB", flush=True)
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-rss-mb", type=int, default=0)
    parser.add_argument("--report-every", type=int, default=0)
    args = parser.parse_args()
    t0 = time.perf_counter()
    stats = run_cases(args.cases, args.seed, report_every=args.report_every)
    peak = _peak_mb()
    print(f"{args.cases} cases in {time.perf_counter() - t0:.1f}s, peak RSS {peak:.0f} MB: "
          f"{stats}")
    if args.max_rss_mb and peak > args.max_rss_mb:
        raise SystemExit(f"peak RSS {peak:.0f} MB is over {args.max_rss_mb} MB")


if __name__ == "__main__":
    main()
