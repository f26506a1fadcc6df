"""The audit trail (issue 14, item 13): signed transactions, receipts, deep verify.

Each forgery the review found is replayed against a file whose authors sign:
rewriting an event and re-hashing everything after it, cutting the tail and fixing
the recorded head, and a forged snapshot with a recomputed CRC. Plain `verify()`
(hash chain only) is shown to pass where a signature, a receipt or a replay is
what catches the forgery, so each test can fail if that check is removed.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from pathlib import Path

import numpy as np
import pytest

import ledger
from ledger import Instance, LabeledFrame, Skeleton, Video
from ledger.core.record import GENESIS
from ledger.core.signing import init_key
from ledger.errors import IntegrityError, ValidationError
from ledger.project.project import Project
from ledger.store.chain import content_prefix, meta_of
from ledger.store.memory import MemoryStore
from ledger.store.sqlite import SqliteStore

PTS = np.array([[1.0, 2.0], [3.0, 4.0]])


@pytest.fixture(autouse=True)
def key_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    keys = tmp_path / "keys"
    monkeypatch.setenv("LEDGER_KEY_DIR", str(keys))
    return keys


def _edit(labels: ledger.Labels, n: int) -> None:
    skel = Skeleton.from_names_and_edge_inds(["a", "b"], [(0, 1)], name="s")
    video = Video.from_filename("/x/v.mp4")
    for i in range(n):
        labels.append(LabeledFrame(video, i, [Instance.from_numpy(PTS + i, skel)]))


def _signed_file(tmp_path: Path, n: int = 4) -> Path:
    init_key("ana")
    init_key("bob")
    path = tmp_path / "p.ledger"
    with ledger.open(path, author="ana") as labels:
        _edit(labels, n)
    with ledger.open(path, author="bob") as labels:
        labels.set_point(labels[0].instances[0], "a", 50.0, 60.0)
    return path


def _rehash(path: Path, start: int = 1) -> None:
    """What a forger with write access does: recompute every hash from ``start``
    and the recorded head, so the hash chain alone verifies again."""
    conn = sqlite3.connect(path, isolation_level=None)
    from ledger.store.chain import link
    from ledger.store.sqlite import _COLUMNS

    rows = conn.execute(f"SELECT {_COLUMNS} FROM events ORDER BY seq").fetchall()
    parent = GENESIS
    last = ""
    for seq, tx, author, time, message, tool, kind_tx, ref, meta, kind, _hsh, body, _nb in rows:
        from ledger.core.record import Envelope

        env = Envelope(seq, tx, author, time, message, tool, kind_tx, ref, kind,
                       meta=meta_of(meta))
        digest = link(parent, content_prefix(env), body)
        if seq >= start:
            conn.execute("UPDATE events SET hash = ? WHERE seq = ?", (digest.hex(), seq))
        parent, last = digest, digest.hex()
    conn.execute("UPDATE meta SET value = ? WHERE key = 'head_seq'", (len(rows),))
    conn.execute("UPDATE meta SET value = ? WHERE key = 'head_hash'", (last,))
    conn.close()


def test_signed_commits_verify_and_sign_every_transaction(tmp_path: Path) -> None:
    path = _signed_file(tmp_path)
    with Project.open(path, read_only=True) as project:
        keys = project.store.public_keys()
        sigs = project.store.signatures()
        assert set(keys) == {"ana", "bob"}
        assert sorted(sigs) == list(range(1, project.last_tx + 1))
        assert project.verify() == project.head
        assert project.verify(deep=True, keys={"ana": keys["ana"][0]}) == project.head


def test_forged_event_rehashed_passes_the_chain_but_not_the_signatures(tmp_path: Path) -> None:
    path = _signed_file(tmp_path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("UPDATE events SET author = 'mallory' WHERE seq = 2")
    conn.close()
    _rehash(path, start=2)
    with Project.open(path, read_only=True) as project:
        assert project.store.verify() == project.head  # the chain alone is fooled
        with pytest.raises(IntegrityError, match="signature") as err:
            project.verify()
        assert err.value.seq is not None and err.value.seq <= 2  # the forged transaction


def test_forged_event_with_an_own_key_is_caught_by_a_receipt(tmp_path: Path) -> None:
    """Mallory replaces every public key with hers and re-signs: the file alone is
    consistent again, but the receipt ana kept pins the keys and the old head."""
    path = _signed_file(tmp_path)
    with Project.open(path, author="ana") as project:
        kept = json.dumps(project.receipt())
    from ledger.core.signing import _crypto as crypto
    from ledger.core.signing import public_hex, sign_hash

    evil = crypto().Ed25519PrivateKey.generate()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("UPDATE events SET message = 'forged' WHERE seq = 1")
    conn.close()
    _rehash(path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("UPDATE keys SET public = ?", (public_hex(evil),))
    for tx, seq in conn.execute("SELECT tx, seq FROM signatures").fetchall():
        digest = conn.execute("SELECT hash FROM events WHERE seq = ?", (seq,)).fetchone()[0]
        conn.execute("UPDATE signatures SET signature = ? WHERE tx = ?",
                     (sign_hash(evil, digest), tx))
    conn.close()
    with Project.open(path, read_only=True) as project:
        assert project.verify() == project.head  # keys from the file alone: fooled
        with pytest.raises(IntegrityError, match="rewritten|another chain"):
            project.verify(receipt=kept)


def test_truncated_tail_is_caught_by_a_receipt(tmp_path: Path) -> None:
    path = _signed_file(tmp_path)
    receipt_file = tmp_path / "head.receipt.json"
    with Project.open(path, author="bob") as project:
        receipt_file.write_text(json.dumps(project.receipt()))
        head = project.head
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DELETE FROM events WHERE seq = ?", (head,))
    conn.execute("DELETE FROM signatures WHERE seq = ?", (head,))
    conn.execute("UPDATE meta SET value = ? WHERE key = 'head_seq'", (head - 1,))
    conn.execute("UPDATE meta SET value = (SELECT hash FROM events WHERE seq = ?) "
                 "WHERE key = 'head_hash'", (head - 1,))
    conn.close()
    with Project.open(path, read_only=True) as project:
        assert project.verify() == head - 1  # no hashing needed to fool the chain
        with pytest.raises(IntegrityError, match="removed") as err:
            project.verify(receipt=str(receipt_file))
        assert err.value.seq == head


def test_edited_receipt_is_refused(tmp_path: Path) -> None:
    path = _signed_file(tmp_path)
    with Project.open(path, author="ana") as project:
        rec = project.receipt()
        rec["seq"] -= 1
        with pytest.raises(IntegrityError, match="signature"):
            project.verify(receipt=rec)


def test_forged_snapshot_with_recomputed_crc_is_caught_by_deep_verify(tmp_path: Path) -> None:
    path = _signed_file(tmp_path)
    with Project.open(path, author="ana") as project:
        project.state  # noqa: B018 - build it
        assert project.snapshot()
        seq = project.head
    conn = sqlite3.connect(path, isolation_level=None)
    body = conn.execute("SELECT body FROM snapshots WHERE seq = ?", (seq,)).fetchone()[0]
    import msgspec

    data = msgspec.msgpack.decode(body)
    data["videos"] = []  # the forged projection: no videos
    forged = msgspec.msgpack.encode(data)
    conn.execute("UPDATE snapshots SET body = ?, size = ?, crc32 = ? WHERE seq = ?",
                 (forged, len(forged), zlib.crc32(forged), seq))
    conn.close()
    with Project.open(path, read_only=True) as project:
        project.verify()  # the chain and signatures are intact
        with pytest.raises(IntegrityError, match="snapshot") as err:
            project.verify(deep=True)
        assert err.value.seq == seq


def test_an_author_who_signs_cannot_commit_unsigned(tmp_path: Path,
                                                    key_dir: Path) -> None:
    path = _signed_file(tmp_path)
    (key_dir / "ana.key").unlink()
    with ledger.open(path, author="ana") as labels:
        head = labels.project.head
        with pytest.raises(ValidationError, match="private key"):
            labels.set_point(labels[0].instances[0], "a", 1.0, 1.0)
        assert labels.project.head == head
        assert labels[0].instances[0].numpy()[0, 0] == 50.0  # rolled back
    with Project.open(path, read_only=True) as project:
        project.verify()


def test_unknown_signer_and_memory_store(tmp_path: Path) -> None:
    init_key("ana")
    project = Project(MemoryStore(), "ana")
    labels = ledger.Labels(project=project)
    _edit(labels, 2)
    assert project.store.signatures() and project.verify() == project.head
    assert project.verify(keys={"ana": project.store.public_keys()["ana"][0]})
    with pytest.raises(IntegrityError, match="not the trusted"):
        project.verify(keys={"ana": "00" * 32})


def test_unsigned_ledgers_still_verify(tmp_path: Path) -> None:
    with ledger.open(tmp_path / "u.ledger", author="zed") as labels:
        _edit(labels, 2)
        assert labels.verify(deep=True) == labels.project.head
        assert isinstance(labels.project.store, SqliteStore)
        assert labels.project.store.signatures() == {}
        with pytest.raises(ValidationError, match="private key"):
            labels.receipt()


def test_receipt_pins_keys_for_later_transactions(tmp_path: Path) -> None:
    """After the receipt, ana commits more; mallory rewrites that later work and
    re-signs it with her own key under ana's name: the receipt's pinned key
    catches it although the history before the receipt is untouched."""
    path = _signed_file(tmp_path)
    with ledger.open(path, author="ana") as labels:
        kept = labels.receipt()
        labels.set_point(labels[0].instances[0], "b", 7.0, 7.0)
    from ledger.core.signing import _crypto, public_hex, sign_hash

    evil = _crypto().Ed25519PrivateKey.generate()
    conn = sqlite3.connect(path, isolation_level=None)
    head = conn.execute("SELECT max(seq) FROM events").fetchone()[0]
    conn.execute("UPDATE events SET message = 'forged' WHERE seq = ?", (head,))
    conn.close()
    _rehash(path, start=head)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("UPDATE keys SET public = ? WHERE author = 'ana'", (public_hex(evil),))
    for tx, seq in conn.execute("SELECT tx, seq FROM signatures WHERE author = 'ana'"):
        digest = conn.execute("SELECT hash FROM events WHERE seq = ?", (seq,)).fetchone()[0]
        conn.execute("UPDATE signatures SET signature = ? WHERE tx = ?",
                     (sign_hash(evil, digest), tx))
    conn.close()
    with Project.open(path, read_only=True) as project:
        assert project.verify() == head  # the file alone is consistent
        with pytest.raises(IntegrityError, match="not the trusted"):
            project.verify(receipt=kept)
