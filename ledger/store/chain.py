"""The hash chain computed from stored bytes, shared by every durable store.

A durable store keeps each event's canonical body (`ledger.core.codec.encode_payload`)
and the envelope fields in columns. To hash or verify a record it must rebuild
``Record.content()`` without encoding the event again (a bulk import's body is
large) and without decoding it (verify must not trust a body it has not checked):
`content_prefix` gives the envelope bytes that precede the body, and `link` hashes
``parent || prefix || body`` without concatenating them. SQLite and PostgreSQL
share these functions so the two can never disagree about a hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import msgspec
import numpy as np

from ledger.core.codec import Payload, decode_any, decode_event, encode, encode_payload
from ledger.core.events import TrackAdded, TrackDef, kind_of
from ledger.core.record import Envelope, Record
from ledger.errors import IntegrityError, ValidationError


def content_prefix(rec: Record | Envelope) -> bytes:
    """The bytes of ``rec.content()`` that come before the encoded event.

    ``Record.content()`` is a msgpack array whose last item is the event, and
    msgpack writes array items one after another; so the content of the same
    envelope with ``event=None`` ends in the single byte of ``nil``, and dropping
    it leaves the prefix: ``content_prefix(rec) + encode_payload(rec.event).body ==
    rec.content()``. The store hashes and verifies from stored body bytes this
    way, never encoding an event twice or decoding one just to hash it.
    """
    content = Record(rec.seq, rec.tx, rec.author, rec.time, rec.message, rec.tool_version,
                     rec.tx_kind, rec.ref, None, meta=rec.meta).content()  # type: ignore[arg-type]
    if content[-1:] != b"\xc0":
        raise AssertionError("Record.content() no longer ends with the event")
    return content[:-1]


def _check_content_layout() -> None:
    """Fail at import, not in a stored ledger, if `Record.content()` changes shape
    (a wrong prefix would write hashes that `verify` later reports as tampering)."""
    rec = Record(seq=1, tx=1, author="a", time="t", message="m", tool_version="v",
                 tx_kind="do", ref=0, event=TrackAdded(TrackDef(1, "t", 0), 0),
                 meta={"k": [1]})
    if content_prefix(rec) + encode_payload(rec.event).body != rec.content():
        raise ImportError("ledger.store.chain: Record.content() is not envelope + event")


_check_content_layout()


def link(parent: bytes, prefix: bytes, body: bytes | memoryview) -> bytes:
    """`ledger.core.record.link_hash` without concatenating the parts."""
    h = hashlib.sha256(parent)
    h.update(prefix)
    h.update(body)
    return h.digest()


def meta_blob(meta: dict[str, Any]) -> bytes | None:
    """Transaction metadata as stored (NULL when empty, the common case)."""
    return encode(meta) if meta else None


def meta_of(blob: bytes | memoryview | None) -> dict[str, Any]:
    return decode_any(blob) if blob is not None else {}


def kind_in(body: bytes | memoryview, n_blobs: int) -> str:
    """The event kind a stored body holds, decoded without fetching its arrays
    (verify compares it with the ``kind`` column, which `log` trusts)."""
    if not n_blobs:
        return kind_of(decode_event(body))
    raw = msgspec.msgpack.decode(body, ext_hook=lambda code, data: None)
    return str(raw["type"])


def prepare(records: Sequence[Record], expected_head: int
            ) -> tuple[list[tuple[bytes, Payload]], dict[str, np.ndarray]]:
    """Each record's (content prefix, payload), and all their arrays by digest:
    what every store hashes and writes. `ValidationError` when the seqs do not
    continue ``expected_head``."""
    prepared: list[tuple[bytes, Payload]] = []
    arrays: dict[str, np.ndarray] = {}
    for i, rec in enumerate(records):
        if rec.seq != expected_head + i + 1:
            raise ValidationError(f"record {i} has seq {rec.seq}, "
                                  f"expected {expected_head + i + 1}")
        payload = encode_payload(rec.event)
        arrays.update(payload.arrays)
        prepared.append((content_prefix(rec), payload))
    return prepared, arrays


def check_row(where: str, parent: bytes, expected: int, row: tuple[Any, ...]) -> bytes:
    """One stored record checked against the chain, as `verify` reads them in seq
    order: ``row`` is (seq, tx, author, time, message, tool_version, tx_kind, ref,
    tx_meta, kind, hash, body, n_blobs). Returns its digest; `IntegrityError` naming
    the seq when it is missing, out of place, changed, or labelled as another kind."""
    seq, tx, author, time, message, tool, tx_kind, ref, meta, kind, hsh, body, n_blobs = row
    if seq != expected:
        problem = "is missing" if seq > expected else f"has an invalid seq {seq}"
        raise IntegrityError(f"{where}: record {expected} {problem}", seq=expected)
    try:
        envelope = Envelope(seq, tx, author, time, message, tool, tx_kind, ref, kind,
                            meta=meta_of(meta))
        digest = link(parent, content_prefix(envelope), body)
    except Exception:  # noqa: BLE001 - an envelope column of a foreign type
        raise IntegrityError(f"{where}: record {seq} has a damaged envelope", seq=seq) from None
    if hsh != digest.hex():
        raise IntegrityError(f"{where}: record {seq} does not match its hash", seq=seq)
    try:
        found = kind_in(body, n_blobs)
    except Exception as exc:  # noqa: BLE001 - any decode failure is damage
        raise IntegrityError(f"{where}: record {seq} does not decode ({exc})", seq=seq) from None
    if kind != found:
        raise IntegrityError(f"{where}: record {seq} is labelled {kind!r} but holds {found}",
                             seq=seq)
    return digest


def check_arrays(where: str, used: Iterable[tuple[int, str]],
                 read_raw: Callable[[str], np.ndarray]) -> None:
    """Every array a record uses (``used``: (first seq, digest) pairs) is present and
    still has its digest; `IntegrityError` names the first record that lost one."""
    from ledger.core.codec import array_digest

    for seq, digest in used:
        try:
            raw = read_raw(digest)
        except Exception as exc:  # noqa: BLE001 - missing or damaged parts
            raise IntegrityError(f"{where}: record {seq} lost an array ({exc})",
                                 seq=seq) from None
        if array_digest(raw) != digest:
            raise IntegrityError(f"{where}: record {seq} has an array that does not "
                                 "match its digest", seq=seq)
