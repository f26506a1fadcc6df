"""What `Project.verify` checks beyond the hash chain: signatures, receipts and
snapshots (the audit trail; docs/audit.md states what each one proves).

Kept apart from `Project` because it is read-only, runs rarely and reads the
whole history: the commit path never imports it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ledger.core.signing import TX_DOMAIN, check_receipt, check_signature, load_key, make_receipt
from ledger.errors import IntegrityError, ValidationError

if TYPE_CHECKING:
    from ledger.project.project import Project

Pinned = dict[str, tuple[str, int | None]]  # author -> (public key hex, since seq or None)


def receipt(project: Project, author: str | None = None) -> dict[str, Any]:
    """A signed attestation of the head, to keep outside the ledger file."""
    who = author or project.author
    key = load_key(who)
    if key is None:
        raise ValidationError(f"no private key for {who!r} (run `ledger keys init --author "
                              f"{who}`)")
    if project.head == 0:
        raise ValidationError("an empty ledger has no head to attest")
    keys = {a: [pub, since] for a, (pub, since) in project.store.public_keys().items()}
    return make_receipt(key, who, project.store.hash_at(1) or "", project.head,
                        project.head_hash(), keys,
                        datetime.now(UTC).isoformat(timespec="seconds"))


def verify(project: Project, *, deep: bool = False, receipt: Any = None,
           keys: dict[str, str] | None = None) -> int:
    """Re-hash the chain, then check the receipt, every signature and (``deep``)
    every snapshot against a replay. `IntegrityError` names the first failure."""
    store = project.store
    count = store.verify()
    pinned: Pinned = {a: (pub, None) for a, pub in (keys or {}).items()}
    if receipt is not None:
        pinned.update(_check_receipt(store, count, check_receipt(receipt), pinned))
    _check_signatures(store, count, pinned)
    if deep:
        _check_snapshots(project, count)
    return count


def _check_receipt(store: Any, count: int, rec: dict[str, Any], pinned: Pinned) -> Pinned:
    seq, first = rec["seq"], store.hash_at(1) if count else None
    if rec["chain"] != first:
        raise IntegrityError("the receipt attests another chain (its first record differs: "
                             "another project, or record 1 was rewritten)", seq=1)
    if seq > count:
        raise IntegrityError(f"the ledger ends at seq {count} but the receipt attests seq "
                             f"{seq}: records {count + 1}..{seq} were removed", seq=count + 1)
    if store.hash_at(seq) != rec["hash"]:
        raise IntegrityError(f"the chain no longer holds the receipt's hash at seq {seq}: "
                             "history up to it was rewritten", seq=seq)
    out: Pinned = {}
    for author, value in rec["keys"].items():
        pub, since = value
        if author in pinned and pinned[author][0] != pub:
            raise IntegrityError(f"the receipt and the trusted keys disagree about {author!r}")
        out[author] = (pub, since)
    return out


def _tx_ends(store: Any, count: int) -> Any:
    """(tx, first seq, last seq, author, last hash) of every transaction, read
    from envelopes (no event is decoded)."""
    cur = None
    for env in store.read_envelopes(1, count):
        if cur is not None and env.tx != cur[0]:
            yield cur
            cur = None
        cur = (env.tx, cur[1] if cur else env.seq, env.seq, env.author, env.hash)
    if cur is not None:
        yield cur


def _check_signatures(store: Any, count: int, pinned: Pinned) -> None:
    """Every transaction of an author with a key (from `since` on) is signed by it."""
    if not store.supports_signatures:
        if pinned:
            raise ValidationError(f"{store.describe()} keeps no signatures; keys and "
                                  "receipts cannot be checked against it")
        return
    held = store.public_keys()
    sigs = store.signatures()
    keys: dict[str, tuple[str, int]] = {}
    for author, (pub, since) in held.items():
        keys[author] = (pub, since)
    for author, (pub, since) in pinned.items():
        found = held.get(author)
        if found is None:
            if since is not None:
                raise IntegrityError(f"the key of {author!r} the receipt pins was removed "
                                     "from the ledger", seq=since)
            keys[author] = (pub, 1)
            continue
        if found[0] != pub:
            raise IntegrityError(f"the ledger's public key for {author!r} is not the trusted "
                                 "one (keys were replaced)", seq=found[1])
        if since is not None and found[1] != since:
            raise IntegrityError(f"the ledger's key record for {author!r} was altered",
                                 seq=found[1])
    for tx, first, last, author, digest in _tx_ends(store, count):
        key = keys.get(author)
        sig = sigs.get(tx)
        if key is None or last < key[1]:
            if sig is not None and key is None:
                raise IntegrityError(f"transaction {tx} carries a signature by "
                                     f"{sig[1]!r}, whose key is not in the ledger", seq=first)
            continue
        if sig is None:
            raise IntegrityError(f"transaction {tx} by {author!r} is not signed although "
                                 f"{author!r} signs from seq {key[1]}", seq=first)
        if sig[0] != last or sig[1] != author or not check_signature(
                key[0], sig[2], TX_DOMAIN + bytes.fromhex(digest)):
            raise IntegrityError(f"transaction {tx} (seq {first}..{last}) does not carry a "
                                 f"valid signature by {author!r}", seq=first)


def _check_snapshots(project: Project, count: int) -> None:
    """Each snapshot a reader would use equals the state replayed from the events."""
    from ledger.core.apply import apply_event
    from ledger.core.state import State
    from ledger.project.snapshot import state_from_data, state_to_payload

    store = project.store
    state, done = State(), 0
    for seq in store.snapshot_seqs():
        if seq > count:
            break
        found = store.latest_snapshot(max_seq=seq)
        if found is None or found[0] != seq:
            continue  # stale or damaged: readers skip it (with a warning)
        for rec in store.read(done + 1, seq):
            apply_event(state, rec.event)
        done = seq
        try:
            cached = state_to_payload(state_from_data(found[2]), seq)
        except Exception as exc:  # noqa: BLE001 - a snapshot that does not load
            raise IntegrityError(f"the snapshot at seq {seq} does not load ({exc})",
                                 seq=seq) from None
        fresh = state_to_payload(state, seq)
        if cached.body != fresh.body or cached.arrays.keys() != fresh.arrays.keys():
            raise IntegrityError(f"the snapshot at seq {seq} differs from a replay of the "
                                 "events up to it (forged or written by a faulty version)",
                                 seq=seq)
