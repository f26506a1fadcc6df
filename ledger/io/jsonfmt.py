"""JSON text the way SLEAP writes and reads it.

SLEAP serialises its metadata with python-rapidjson: compact separators, bare
``NaN``/``Infinity`` tokens and ``\\uXXXX`` escapes with upper-case hex. Writing the
same bytes keeps our files byte-comparable with SLEAP's, and reading leniently
(NaN tokens, bytes or numpy byte arrays) accepts everything SLEAP and sleap-io
put into HDF5 attributes and datasets.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np

_ESCAPE = re.compile(r"(\\\\)|\\u([0-9a-fA-F]{4})")


def _upper_hex(match: re.Match[str]) -> str:
    if match.group(1):  # an escaped backslash: keep it, so "\\u" text is untouched
        return match.group(1)
    return "\\u" + match.group(2).upper()


def _plain(value: Any) -> Any:
    """Convert numpy scalars/arrays nested in ``value`` to plain Python values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def dumps(value: Any) -> str:
    """Serialise like rapidjson: ``NaN`` tokens, ASCII only, upper-case escapes."""
    text = json.dumps(_plain(value), separators=(",", ":"), ensure_ascii=True, allow_nan=True)
    if "\\u" in text:
        text = _ESCAPE.sub(_upper_hex, text)
    return text


def to_text(raw: Any) -> str:
    """Decode an HDF5 attribute/row (str, bytes, numpy bytes or byte array) to text.

    Raises ``ValueError`` / ``UnicodeDecodeError`` for anything else so the caller can
    report the file.
    """
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bytes | np.bytes_):
        return bytes(raw).decode("utf-8")
    if isinstance(raw, np.ndarray):
        if raw.dtype.kind in "SUO" and raw.size == 1:
            return to_text(raw.reshape(-1)[0])
        if raw.dtype.kind in "iub":
            return raw.tobytes().decode("utf-8")
    raise ValueError(f"expected a JSON string, found {type(raw).__name__}")


def loads(raw: Any) -> Any:
    """Parse JSON text (or bytes) accepting ``NaN``/``Infinity`` tokens."""
    return json.loads(to_text(raw))


def is_finite_number(value: Any) -> bool:
    """True for int/float values (not bool) that are finite."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )
