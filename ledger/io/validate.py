"""Values read from a file must be values a ledger can commit.

The readers check structure (tables, ranges of references); this checks the
values themselves with the same rules `Labels` applies to a caller's arguments
(`ledger.core.values`): text UTF-8 can encode, 64-bit integers, frame indices
below 2**40, JSON-like provenance and video attributes nested at most 64 deep.
A file that breaks them is refused with a `FormatError` at load, rather than
loading and then bricking the ledger it is imported into.
"""

from __future__ import annotations

import math

from ledger.core.values import (
    FRAME_IDX_LIMIT,
    check_frame_idx,
    check_int,
    check_text,
    frame_idx_ok,
    plain,
)
from ledger.errors import FormatError, ValidationError
from ledger.io.project_data import ProjectData


def check_values(data: ProjectData, source: object) -> None:
    """Raise `FormatError` naming the first value of ``data`` a ledger cannot hold."""
    try:
        _check(data)
    except ValidationError as exc:
        raise FormatError(source, str(exc)) from None


def _check(data: ProjectData) -> None:
    if not frame_idx_ok(data.frame_idx):
        raise ValidationError(f"a frame index is outside 0..{FRAME_IDX_LIMIT - 1}")
    for k, v in enumerate(data.videos):
        plain(v.backend, f"video {k}'s backend")
        check_text(v.filename, f"video {k}'s filename")
        if v.source_video is not None:
            plain(v.source_video, f"video {k}'s source_video")
    for k, (spawned_on, name) in enumerate(data.tracks):
        check_int(spawned_on, f"track {k}'s spawned_on")
        check_text(name, f"track {k}'s name")
    for k, s in enumerate(data.skeletons):
        if s.name is not None:
            check_text(s.name, f"skeleton {k}'s name")
        for name in s.node_names:
            check_text(name, f"a node name of skeleton {k}")
        for w in s.node_weights or []:
            if not math.isfinite(float(w)):
                raise ValidationError(f"a node weight of skeleton {k} is not finite")
    for _video, frame_idx, group in data.suggestions:
        check_frame_idx(frame_idx, "a suggestion's frame index")
        if group is not None:
            check_int(group, "a suggestion's group")
    for anchors in data.negative_anchors.values():
        for anchor in anchors:
            check_frame_idx(anchor[0], "a negative anchor's frame index")
    plain(data.provenance, "provenance")
