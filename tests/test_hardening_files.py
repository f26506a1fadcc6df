"""Files and disks (issue 14, items 3, 4, 8, 12): a full disk, stale side files
and symlinks never cost committed work, the previous file, or the process.

Disk-full cases run on a tiny tmpfs mounted by the test (we are root in CI);
without root they fall back to ``RLIMIT_FSIZE`` in a subprocess, which makes a
write fail the same way (EFBIG instead of ENOSPC).
"""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import ledger
from ledger import Instance, LabeledFrame, Labels, Skeleton, Video
from ledger.errors import FormatError, LedgerError, StoreError, ValidationError
from ledger.project.project import Project

ROOT = Path(__file__).resolve().parents[1]


def _labels(frames: int, author: str = "ann", path: Path | None = None) -> Labels:
    skel = Skeleton.from_names_and_edge_inds([f"n{i}" for i in range(8)], [(0, 1)], name="s")
    video = Video.from_filename("/x/v.mp4")
    labels = ledger.open(path, author=author) if path is not None else Labels(author=author)
    rng = np.random.default_rng(0)
    with labels.transaction("frames"):
        for i in range(frames):
            labels.append(LabeledFrame(video, i, [Instance.from_numpy(
                rng.random((8, 2)) * 100, skel)]))
    return labels


@functools.lru_cache(maxsize=1)
def _big() -> Labels:
    """3,000 frames (bigger than 400 kB in every format); built once, only saved."""
    return _labels(3000)


@contextlib.contextmanager
def tiny_fs(kib: int) -> Iterator[Path]:
    """A tmpfs of ``kib`` KiB, unmounted afterwards (skip if we cannot mount)."""
    where = Path(tempfile.mkdtemp(prefix="ledger-tinyfs-"))
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", str(where)],
                          capture_output=True)
    if done.returncode != 0:
        where.rmdir()
        pytest.skip("cannot mount a tmpfs here (not root)")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        with contextlib.suppress(OSError):
            where.rmdir()


def _fill(where: Path, leave: int) -> None:
    """Fill the file system until ``leave`` bytes remain free."""
    st = os.statvfs(where)
    free = st.f_bavail * st.f_frsize
    with open(where / "filler", "wb") as fh:
        with contextlib.suppress(OSError):
            fh.write(b"\0" * max(free - leave, 0))


def _can_mount() -> bool:
    return os.geteuid() == 0


# ----------------------------------------------------------------- item 4


@pytest.mark.parametrize(("ext", "free_kib"), [
    (".slp", 20), (".slp", 100), (".slp", 400), (".json", 20), (".json", 400),
    (".h5", 20), (".h5", 100)])  # the analysis file compresses to < 400 kB
def test_save_on_a_nearly_full_disk_is_a_clean_error(ext: str, free_kib: int) -> None:
    if not _can_mount():
        pytest.skip("needs root for a tmpfs; see the RLIMIT_FSIZE test")
    big = _big()
    with tiny_fs(8192) as fs:
        target = fs / f"p{ext}"

        def save(labels: Labels) -> None:
            labels.export(target) if ext == ".h5" else labels.save(target)

        save(_labels(2))
        before = target.read_bytes()
        _fill(fs, free_kib * 1024)
        with pytest.raises(LedgerError, match="no space|cannot write"):
            save(big)
        assert target.read_bytes() == before
        assert sorted(p.name for p in fs.iterdir()) == ["filler", target.name]
        (fs / "filler").unlink()
        save(big)  # the unsaved edits were not lost
        if ext != ".h5":
            assert len(Labels.load_file(str(target))) == 3000


def test_save_past_rlimit_fsize_is_a_clean_error(tmp_path: Path) -> None:
    """Without root: a subprocess whose writes fail past 64 kB (EFBIG)."""
    target = tmp_path / "p.slp"
    _labels(2).save(target)
    before = target.read_bytes()
    code = f"""
import resource, signal, sys
sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / "tests")!r}]
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
from test_hardening_files import _labels
from ledger.errors import FormatError
big = _labels(400)
resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
try:
    big.save({str(target)!r})
except FormatError as exc:
    print("clean:", exc)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "clean:" in done.stdout
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.slp"]


def test_stale_temp_files_of_killed_saves_are_removed(tmp_path: Path) -> None:
    target = tmp_path / "p.slp"
    dead = tmp_path / ".p.slp.999999999.abc123.tmp"  # a pid that cannot exist
    live = tmp_path / f".p.slp.{os.getppid()}.def456.tmp"  # a live process's save
    other = tmp_path / ".q.slp.999999999.x.tmp"  # another file's
    for f in (dead, live, other):
        f.write_bytes(b"partial")
    _labels(3).save(target)
    assert not dead.exists()
    assert live.exists() and other.exists()
    assert len(Labels.load_file(str(target))) == 3


# ----------------------------------------------------------------- item 12


@pytest.mark.parametrize("ext", [".slp", ".json"])
def test_saving_through_a_symlink_replaces_its_target(tmp_path: Path, ext: str) -> None:
    real_dir = tmp_path / "data"
    real_dir.mkdir()
    real = real_dir / f"real{ext}"
    _labels(1).save(real)
    link = tmp_path / f"link{ext}"
    link.symlink_to(real)
    _labels(4).save(link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert len(Labels.load_file(str(real))) == 4
    assert sorted(p.name for p in real_dir.iterdir()) == [real.name]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", link.name]


# ----------------------------------------------------------------- item 8


def test_stale_wal_beside_a_deleted_ledger_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.ledger"
    code = f"""
import os, sys
sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / "tests")!r}]
from test_hardening_files import _labels
from pathlib import Path
labels = _labels(5, path=Path({str(path)!r}))
os._exit(0)  # killed: the -wal stays
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    wal = Path(f"{path}-wal")
    assert wal.exists()
    path.unlink()  # the user deletes only p.ledger
    leftovers = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(StoreError, match="p.ledger-wal"):
        ledger.open(path)
    assert not path.exists()
    source = _labels(2, path=tmp_path / "other.ledger")
    with pytest.raises(StoreError, match="p.ledger-wal"):
        ledger.fork(source, path)
    with pytest.raises(StoreError, match="leftover"):
        source.project.fork_in_memory().fork(path)
    source.close()
    assert not path.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("other")) == \
        leftovers


# ----------------------------------------------------------------- item 3


def test_disk_full_during_close_snapshot_warns_and_closes(tmp_path: Path) -> None:
    if not _can_mount():
        pytest.skip("needs root for a tmpfs")
    with tiny_fs(4096) as fs:
        labels = _labels(300, path=fs / "p.ledger")
        labels.project.snapshot_every = 10
        video, inst = labels.videos[0], labels[0].instances[0]
        for i in range(30):
            labels.set_point(inst, "n0", float(i), 1.0)
        del video
        head = labels.project.head
        _fill(fs, 0)
        assert labels.project.snapshot_due
        store = labels.project.store
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            labels.close()  # must not raise
        assert any("no snapshot written" in str(w.message) for w in caught)
        assert store._conn is None  # the connection is closed
        (fs / "filler").unlink()
        with Project.open(fs / "p.ledger", read_only=True) as project:
            assert project.head == head
            project.verify()


def test_close_closes_the_connection_whatever_the_snapshot_raises(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    labels = _labels(3, path=tmp_path / "p.ledger")
    labels.project.snapshot_every = 1
    store = labels.project.store

    def explode(*args: object, **kwargs: object) -> None:
        raise OverflowError("Python int too large to convert to C long")

    monkeypatch.setattr(store, "save_snapshot", explode)
    with pytest.warns(UserWarning, match="no snapshot written"):
        labels.close()
    assert store._conn is None


def test_a_commit_never_writes_a_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The review's `set_point` raised StoreError from an automatic snapshot after
    committing; snapshots are now only taken by `close`, so a commit cannot fail
    for one (and a failing snapshot store does not touch commits)."""
    labels = _labels(3, path=tmp_path / "p.ledger")
    labels.project.snapshot_every = 1
    store = labels.project.store

    def refuse(*args: object, **kwargs: object) -> None:
        raise StoreError("disk full")

    monkeypatch.setattr(store, "save_snapshot", refuse)
    inst = labels[0].instances[0]
    for i in range(5):
        labels.set_point(inst, "n0", float(i), 2.0)
    assert labels[0].instances[0].numpy()[0, 0] == 4.0
    with pytest.warns(UserWarning):
        labels.close()


def test_frame_index_2_63_cannot_reach_a_snapshot(tmp_path: Path) -> None:
    video = Video.from_filename("/x/v.mp4")
    with pytest.raises(ValidationError):
        LabeledFrame(video, 2 ** 63 - 1)
    labels = _labels(1, path=tmp_path / "p.ledger")
    with pytest.raises(LedgerError):
        labels.append(LabeledFrame(video, 2 ** 63 - 1))
    labels.append(LabeledFrame(labels.videos[0], 2 ** 40 - 1))  # the largest allowed
    labels.project.snapshot_every = 1
    labels.close()
    with Project.open(tmp_path / "p.ledger", read_only=True) as project:
        assert project.store.snapshot_seqs() == [project.head]
        project.verify(deep=True)
    slp = tmp_path / "big.slp"
    _labels(1).save(slp)
    import h5py

    with h5py.File(slp, "r+") as f:
        frames = f["frames"][:]
        frames["frame_idx"][0] = 2 ** 63 - 1
        f["frames"][:] = frames
    before = slp.read_bytes()
    with pytest.raises(FormatError):
        Labels.load_file(str(slp))
    assert slp.read_bytes() == before

