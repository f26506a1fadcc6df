"""Fuzz the `.slp` and SLEAP JSON readers with mutated real files.

A damaged labels file must make `read_slp` / `read_sleap_json` raise `FormatError`
and nothing else, and a file that *is* accepted must yield a structurally valid
`ProjectData`. Mutations: random byte flips (biased to the HDF5 headers),
truncation, deletion of random datasets/groups/attributes, corrupted table
values, replaced tables, and structural edits of the metadata JSON.

Usage::

    python tools/fuzz/fuzz_slp.py --cases 5000 [--seed 1] [--data tests/data]

The test suite imports `run_cases` from here for a shorter default run.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ledger.errors import FormatError  # noqa: E402
from ledger.io.project_data import ProjectData  # noqa: E402
from ledger.io.sleap_json import read_sleap_json, write_sleap_json  # noqa: E402
from ledger.io.slp import read_slp  # noqa: E402

WEIRD_VALUES: list[Any] = [
    None,
    -1,
    -2,
    0,
    1,
    2**40,
    1.5,
    float("nan"),
    "x",
    "0",
    [],
    {},
    [1, "a"],
    True,
    {"py/id": 99},
    {"py/object": "os.system"},
    {"py/reduce": [None]},
    {"py/tuple": 3},
]


def check_invariants(data: ProjectData) -> None:
    """Everything `ProjectData` promises; raises AssertionError if broken."""
    nf, ni, npt = data.n_frames, data.n_instances, data.n_points
    assert data.length_problem() is None, data.length_problem()
    assert np.all((data.frame_video >= 0) & (data.frame_video < len(data.videos)))
    assert np.all(data.frame_idx >= 0)
    if nf:
        assert data.frame_inst_start[0] == 0 and data.frame_inst_end[-1] == ni
        assert np.all(data.frame_inst_start[1:] == data.frame_inst_end[:-1])
    assert np.all((data.inst_skeleton >= 0) & (data.inst_skeleton < len(data.skeletons)))
    assert np.all((data.inst_track >= -1) & (data.inst_track < len(data.tracks)))
    assert np.all(data.inst_kind <= 1)
    fp = data.inst_from_predicted
    assert np.all((fp >= -1) & (fp < ni))
    linked = fp >= 0
    assert np.all(data.inst_kind[fp[linked]] == 1) and np.all(data.inst_kind[linked] == 0)
    sizes = np.array([len(s.node_names) for s in data.skeletons], np.int64)[data.inst_skeleton]
    assert np.all((data.inst_pt_start >= 0) & (data.inst_pt_start + sizes <= npt))
    for sk in data.skeletons:
        n = len(sk.node_names)
        assert all(0 <= a < n and 0 <= b < n for a, b in [*sk.edges, *sk.symmetries])
    for v, f, _ in data.suggestions:
        assert 0 <= v < len(data.videos) and f >= 0


# ----------------------------------------------------------------- mutations


def _flip_bytes(path: Path, rng: random.Random) -> str:
    raw = bytearray(path.read_bytes())
    n = rng.randint(1, 24)
    head = min(len(raw), 4096)
    for _ in range(n):
        pos = rng.randrange(head) if rng.random() < 0.6 else rng.randrange(len(raw))
        raw[pos] ^= rng.randint(1, 255)
    path.write_bytes(bytes(raw))
    return f"flip {n} bytes"


def _truncate(path: Path, rng: random.Random) -> str:
    raw = path.read_bytes()
    cut = rng.randrange(len(raw))
    path.write_bytes(raw[:cut])
    return f"truncate at {cut}"


def _all_names(f: h5py.File) -> list[str]:
    names: list[str] = []
    f.visit(names.append)
    return names


def _delete_something(path: Path, rng: random.Random) -> str:
    with h5py.File(path, "r+") as f:
        names = _all_names(f)
        attrs = [(n, a) for n in ["/", *names] for a in f[n].attrs]
        if attrs and rng.random() < 0.4:
            owner, attr = rng.choice(attrs)
            del f[owner].attrs[attr]
            return f"delete attr {owner}@{attr}"
        name = rng.choice(names)
        del f[name]
        return f"delete {name}"


def _corrupt_table(path: Path, rng: random.Random) -> str:
    with h5py.File(path, "r+") as f:
        name = rng.choice(["frames", "instances", "points", "pred_points"])
        arr = f[name][()]
        if len(arr) == 0 or not arr.dtype.names:
            return "noop"
        field = rng.choice(arr.dtype.names)
        row = rng.randrange(len(arr))
        kind = arr.dtype[field].kind
        value: Any = (
            rng.choice([-2, -1, 0, 1, 7, 2**31 - 1, 10**6])
            if kind in "iu"
            else rng.choice([np.nan, -1e300, 0.0, 3.0])
        )
        if kind == "u" and value < 0:
            value = np.iinfo(arr.dtype[field]).max
        if kind == "b":
            value = bool(rng.getrandbits(1))
        with np.errstate(all="ignore"):
            arr[field][row] = value
        f[name][...] = arr
        return f"{name}.{field}[{row}] = {value}"


def _replace_table(path: Path, rng: random.Random) -> str:
    with h5py.File(path, "r+") as f:
        name = rng.choice(
            [
                "frames",
                "instances",
                "points",
                "pred_points",
                "videos_json",
                "tracks_json",
                "suggestions_json",
            ]
        )
        if name in f:
            del f[name]
        choice = rng.randrange(5)
        if choice == 0:
            f.create_dataset(name, data=np.zeros((3, rng.randint(1, 12))))
        elif choice == 1:
            f.create_dataset(name, data=np.array([b"{}", b"[1]", b"nope"]))
        elif choice == 2:
            f.create_dataset(name, data=np.zeros((2, 2, 2), np.int8))
        elif choice == 3:
            f.create_group(name)
        else:
            f.create_dataset(name, data=np.zeros(4, [("a", "f8"), ("x", "S3")]))
        return f"replace {name} ({choice})"


def _mutate_tree(value: Any, rng: random.Random) -> Any:
    """Replace one random node of a JSON tree with a weird value."""
    nodes: list[tuple[Any, Any]] = []

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for k in list(v):
                nodes.append((v, k))
                walk(v[k])
        elif isinstance(v, list):
            for i in range(len(v)):
                nodes.append((v, i))
                walk(v[i])

    walk(value)
    if not nodes:
        return rng.choice(WEIRD_VALUES)
    parent, key = rng.choice(nodes)
    if rng.random() < 0.3 and isinstance(parent, dict):
        del parent[key]
    else:
        parent[key] = rng.choice(WEIRD_VALUES)
    return value


def _edit_metadata(path: Path, rng: random.Random) -> str:
    with h5py.File(path, "r+") as f:
        meta = json.loads(f["metadata"].attrs["json"])
        for _ in range(rng.randint(1, 3)):
            meta = _mutate_tree(meta, rng)
        f["metadata"].attrs["json"] = np.bytes_(json.dumps(meta).encode())
        if rng.random() < 0.3:
            f["metadata"].attrs["format_id"] = rng.choice([0.5, 1, 1.05, 2.5, 3.0, np.nan, -1.0])
        return "edit metadata json"


def _edit_json_rows(path: Path, rng: random.Random) -> str:
    with h5py.File(path, "r+") as f:
        name = rng.choice(["videos_json", "tracks_json", "suggestions_json"])
        rows = [json.loads(r) for r in f[name][()]] if f[name].dtype.kind == "S" else []
        rows = _mutate_tree(rows, rng) if rows else [rng.choice(WEIRD_VALUES)]
        if not isinstance(rows, list):
            rows = [rows]
        del f[name]
        f.create_dataset(name, data=np.array([json.dumps(r).encode() for r in rows] or [b"1"]))
        return f"edit {name}"


SLP_MUTATIONS: list[Callable[[Path, random.Random], str]] = [
    _flip_bytes,
    _flip_bytes,
    _truncate,
    _delete_something,
    _corrupt_table,
    _corrupt_table,
    _replace_table,
    _edit_metadata,
    _edit_metadata,
    _edit_json_rows,
]


def _mutate_json_file(path: Path, rng: random.Random) -> str:
    text = path.read_text()
    r = rng.random()
    if r < 0.5:
        doc = json.loads(text)
        for _ in range(rng.randint(1, 3)):
            doc = _mutate_tree(doc, rng)
        path.write_text(json.dumps(doc))
        return "json tree edit"
    raw = bytearray(text.encode())
    if r < 0.75:
        for _ in range(rng.randint(1, 8)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        path.write_bytes(bytes(raw))
        return "json byte flips"
    path.write_bytes(bytes(raw[: rng.randrange(len(raw))]))
    return "json truncate"


# ------------------------------------------------------------------ driver


def _sources(data_dir: Path) -> list[Path]:
    files = sorted(data_dir.glob("**/*.slp"))
    small = [p for p in files if p.stat().st_size < 400_000]
    return small * 3 + [p for p in files if p not in small]  # favour small, fast files


def run_cases(
    n_cases: int, seed: int = 0, data_dir: Path | None = None, json_share: float = 0.15
) -> dict[str, int]:
    """Run ``n_cases`` mutations; raise AssertionError on the first bad outcome."""
    data_dir = data_dir or ROOT / "tests" / "data"
    rng = random.Random(seed)
    sources = _sources(data_dir)
    stats = {"ok": 0, "format_error": 0}
    with tempfile.TemporaryDirectory() as tmp:
        json_src = Path(tmp) / "src.json"
        write_sleap_json(read_slp(data_dir / "slp_hdf5" / "dance.mp4.labels.slp"), json_src)
        json_sources = [json_src, data_dir / "json_format_v2" / "minimal_instance.json"]
        for case in range(n_cases):
            is_json = rng.random() < json_share
            src = rng.choice(json_sources if is_json else sources)
            target = Path(tmp) / f"case{case}{'.json' if is_json else '.slp'}"
            shutil.copy(src, target)
            target.chmod(0o644)
            try:
                what = (_mutate_json_file if is_json else rng.choice(SLP_MUTATIONS))(target, rng)
            except Exception:  # noqa: BLE001 - the mutation itself may fail on a broken file
                what = "mutation failed"
            reader = read_sleap_json if is_json else read_slp
            try:
                data = reader(target)
            except FormatError:
                stats["format_error"] += 1
            except Exception as exc:
                raise AssertionError(
                    f"case {case} (seed {seed}, {src.name}, {what}): {type(exc).__name__}: {exc}"
                ) from exc
            else:
                try:
                    check_invariants(data)
                except AssertionError as exc:
                    raise AssertionError(
                        f"case {case} (seed {seed}, {src.name}, {what}): invalid result"
                    ) from exc
                stats["ok"] += 1
            target.unlink(missing_ok=True)
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    t0 = time.perf_counter()
    stats = run_cases(args.cases, args.seed, args.data)
    print(f"{args.cases} cases in {time.perf_counter() - t0:.1f}s: {stats}")


if __name__ == "__main__":
    main()
