"""What a committed value may be, checked before it is committed.

A ledger stores events as msgpack and replays them; whatever an event carries must
encode, decode and compare equal to itself afterwards, or the ledger is bricked
(`verify`, `undo` and reopening fail on a record that was accepted). So every value
that comes from a caller or a file is checked here *before* it reaches an event:

- text is a `str` that is valid Unicode (no lone surrogates, which ``os.fsdecode``
  makes from non-UTF-8 file names and which UTF-8 cannot encode);
- integers fit in 64 bits (msgpack's limit);
- frame indices are ``0 <= frame_idx < FRAME_IDX_LIMIT`` (2**40): frame keys pack
  ``video << 40 | frame_idx``, so a larger index would collide with another video's
  frame; 2**40 frames is 1,160 years of video at 30 fps;
- free-form data (provenance, video backend attributes) is JSON-like: ``None``,
  ``bool``, 64-bit ``int``, ``float``, ``str``, lists and dicts with ``str`` keys,
  nested at most `MAX_DEPTH` deep. Tuples become lists (msgpack and JSON store them
  as lists, so the live value must be a list too for a replay to equal it).

Every refusal is a `ValidationError` that names the offending value and where it
sits. ``ledger.core`` uses the same checks on events it applies (as `EventMismatch`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ledger.errors import ValidationError

FRAME_IDX_LIMIT = 1 << 40
INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
MAX_DEPTH = 64


def check_int(value: Any, what: str, lo: int = INT64_MIN, hi: int = INT64_MAX) -> int:
    """An integer argument in ``[lo, hi]``: ints and numpy ints, and floats only when
    they are whole (``3.0``); never bools, strings or fractions (``0.4`` is not
    silently frame 0)."""
    if isinstance(value, bool | np.bool_):
        raise ValidationError(f"{what} must be an integer, not {value!r}")
    if isinstance(value, int | np.integer):
        out = int(value)
    elif isinstance(value, float | np.floating) and math.isfinite(value) and \
            float(value).is_integer():
        out = int(value)
    else:
        raise ValidationError(f"{what} must be an integer, not {value!r}")
    if not lo <= out <= hi:
        raise ValidationError(f"{what} must be between {lo} and {hi}, not {out}")
    return out


def check_frame_idx(value: Any, what: str = "frame_idx") -> int:
    """A frame index: an integer with ``0 <= frame_idx < 2**40``."""
    return check_int(value, what, 0, FRAME_IDX_LIMIT - 1)


def frame_idx_ok(values: np.ndarray) -> bool:
    """True when every frame index of an integer array is in range."""
    return len(values) == 0 or (int(values.min()) >= 0 and
                                int(values.max()) < FRAME_IDX_LIMIT)


def check_text(value: Any, what: str) -> str:
    """A string UTF-8 can encode (no lone surrogates)."""
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be a string, not {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(
            f"{what} {value!r} is not valid Unicode (character {exc.start}; a file name "
            "that is not UTF-8?)") from None
    return str(value)


def check_number(value: Any, what: str) -> float:
    if isinstance(value, bool | np.bool_) or not isinstance(
            value, int | float | np.integer | np.floating):
        raise ValidationError(f"{what} must be a number, not {value!r}")
    return float(value)


def plain(value: Any, what: str, _depth: int = 0) -> Any:
    """``value`` as JSON-like data that round-trips exactly (see the module
    docstring), or `ValidationError` naming the first bad part."""
    if _depth > MAX_DEPTH:
        raise ValidationError(f"{what} is nested more than {MAX_DEPTH} deep")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return check_int(value, what)
    if isinstance(value, float | np.floating):
        return float(value)  # NaN too: SLEAP files carry it (same_value treats it as equal)
    if isinstance(value, str):
        return check_text(value, what)
    if isinstance(value, list | tuple):
        return [plain(v, f"{what}[{k}]", _depth + 1) for k, v in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for key, v in value.items():
            if not isinstance(key, str):
                raise ValidationError(
                    f"{what} has a key {key!r} of type {type(key).__name__}; keys must be "
                    "strings")
            out[check_text(key, f"a key of {what}")] = plain(v, f"{what}[{key!r}]", _depth + 1)
        return out
    raise ValidationError(
        f"{what} holds a {type(value).__name__} ({value!r:.60}); only None, bool, int, "
        "float, str, lists and dicts with string keys can be stored")


def plain_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError(f"{what} must be a dict, not {type(value).__name__}")
    return plain(value, what)


def same_value(a: Any, b: Any) -> bool:
    """Equal as stored data: ``==``, except that NaN equals NaN (a NaN in
    provenance must not make the value differ from itself)."""
    if a == b:
        return True
    if isinstance(a, float) and isinstance(b, float):
        return math.isnan(a) and math.isnan(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    return False
