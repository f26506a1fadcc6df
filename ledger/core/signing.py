"""Authors' keys, transaction signatures and head receipts (the audit trail).

Why: the hash chain alone only detects *accidental* damage -- anyone who can
write the file can rewrite an event and re-hash everything after it. A signature
made with a private key the file never holds cannot be recomputed that way. So:

* each author has an Ed25519 key pair (`cryptography`, the PyCA package). The
  private key lives outside every ledger, in ``$LEDGER_KEY_DIR/AUTHOR.key``
  (default ``~/.config/ledger/keys``), created by ``ledger keys init --author A``;
* the public key is kept in the ledger (the ``keys`` table, outside the chain --
  see docs/audit.md for why) and each transaction the author commits is signed:
  the signature covers the hash of the transaction's *last* record, and that hash
  covers every record before it, so one signature vouches for the whole prefix;
* a *receipt* is a small signed JSON naming a chain (its first hash), a seq and
  the hash there, plus the public keys known then. Kept outside the file, it lets
  `verify` detect truncation and rewrites before that seq, and pins the keys.

Every message signed is prefixed with a domain tag, so a transaction signature
can never be replayed as a receipt signature or the other way round.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from ledger.errors import IntegrityError, ValidationError

TX_DOMAIN = b"ledger tx signature v1\x00"
RECEIPT_DOMAIN = b"ledger receipt v1\x00"
_AUTHOR_RE = re.compile(r"^[A-Za-z0-9_.@+-]{1,128}$")


def _crypto() -> Any:
    """The Ed25519 module, imported on first use (opening a ledger without keys
    never pays for it); a clear error when the optional package is missing."""
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError as exc:  # pragma: no cover - it is a declared dependency
        raise ValidationError("signing needs the 'cryptography' package "
                              f"(pip install cryptography): {exc}") from None
    return ed25519


def key_dir() -> Path:
    """Where private keys live: ``$LEDGER_KEY_DIR`` or ``~/.config/ledger/keys``."""
    env = os.environ.get("LEDGER_KEY_DIR")
    return Path(env) if env else Path.home() / ".config" / "ledger" / "keys"


def key_path(author: str) -> Path:
    if not isinstance(author, str) or not _AUTHOR_RE.match(author) or author in (".", ".."):
        raise ValidationError(f"author {author!r} cannot name a key file (letters, digits "
                              "and _.@+- only)")
    return key_dir() / f"{author}.key"


def init_key(author: str, *, overwrite: bool = False) -> str:
    """Create ``author``'s private key (mode 0600) and return the public key (hex).
    An existing key is kept unless ``overwrite`` (its signatures would then no
    longer verify against the key the ledgers hold, so that is refused by default)."""
    from cryptography.hazmat.primitives import serialization

    path = key_path(author)
    if path.exists() and not overwrite:
        raise ValidationError(f"{path}: a key for {author!r} already exists")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = _crypto().Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return public_hex(key)


def public_hex(key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw).hex()


def load_key(author: str) -> Any | None:
    """``author``'s private key, or None when there is no key file (unsigned
    commits; `cryptography` is then never imported)."""
    try:
        path = key_path(author)
    except ValidationError:
        return None
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ValidationError(f"{path}: cannot read the key ({exc})") from None
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_private_key(data, password=None)
    except Exception as exc:  # noqa: BLE001 - any parse failure is a bad key file
        raise ValidationError(f"{path}: not an Ed25519 private key ({exc})") from None
    if not isinstance(key, _crypto().Ed25519PrivateKey):
        raise ValidationError(f"{path}: not an Ed25519 private key")
    return key


def sign_hash(key: Any, record_hash: str) -> str:
    """The signature (hex) of a transaction whose last record has ``record_hash``."""
    return key.sign(TX_DOMAIN + bytes.fromhex(record_hash)).hex()


def check_signature(public: str, signature: str, message: bytes) -> bool:
    """Whether ``signature`` (hex) is ``public``'s (hex) signature of ``message``."""
    from cryptography.exceptions import InvalidSignature

    try:
        pub = _crypto().Ed25519PublicKey.from_public_bytes(bytes.fromhex(public))
        pub.verify(bytes.fromhex(signature), message)
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


# ----------------------------------------------------------------- receipts

_RECEIPT_FIELDS = ("chain", "seq", "hash", "author", "public_key", "keys", "time")


def _receipt_message(body: dict[str, Any]) -> bytes:
    return RECEIPT_DOMAIN + json.dumps({k: body[k] for k in _RECEIPT_FIELDS},
                                       sort_keys=True, separators=(",", ":")).encode()


def make_receipt(key: Any, author: str, chain: str, seq: int, head_hash: str,
                 keys: dict[str, list[Any]], time: str) -> dict[str, Any]:
    """A signed attestation that the chain ``chain`` had ``head_hash`` at ``seq``."""
    body = {"chain": chain, "seq": seq, "hash": head_hash, "author": author,
            "public_key": public_hex(key), "keys": dict(sorted(keys.items())), "time": time}
    body["signature"] = key.sign(_receipt_message(body)).hex()
    return body


def check_receipt(receipt: Any) -> dict[str, Any]:
    """The receipt as a dict if it is well formed and its signature holds
    (`IntegrityError` otherwise). Accepts a dict, JSON text or a file path."""
    if isinstance(receipt, os.PathLike) or (isinstance(receipt, str)
                                            and not receipt.lstrip().startswith("{")):
        try:
            receipt = Path(receipt).read_text()
        except OSError as exc:
            raise ValidationError(f"cannot read the receipt ({exc})") from None
    if isinstance(receipt, str):
        try:
            receipt = json.loads(receipt)
        except ValueError as exc:
            raise IntegrityError(f"the receipt is not JSON ({exc})") from None
    if not isinstance(receipt, dict) or any(k not in receipt for k in _RECEIPT_FIELDS):
        raise IntegrityError("not a ledger receipt (fields missing)")
    ok_types = (isinstance(receipt["seq"], int) and isinstance(receipt["hash"], str)
                and isinstance(receipt["keys"], dict) and isinstance(receipt["chain"], str)
                and isinstance(receipt.get("signature"), str)
                and isinstance(receipt["public_key"], str))
    if not ok_types or not check_signature(receipt["public_key"], receipt["signature"],
                                           _receipt_message(receipt)):
        raise IntegrityError("the receipt's signature does not verify (edited or forged)")
    return receipt
