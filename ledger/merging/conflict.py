"""`Conflict`: one place both sides of a merge changed differently, as data.

A conflict says what (``kind``), where (video, frame, instance, node), the value
at the fork (``base``), on each side (``ours``, ``theirs``), and who made each
side's change in which transactions. How to apply each choice is kept with it
(`appliers`), so resolving is choosing, not recomputing.

Kinds: ``point`` (same (instance, node) set differently), ``track`` (same
instance given different tracks), ``instance`` (scores or from_predicted set
differently), ``removed_edited`` (an instance removed on one side and edited on
the other), ``frame`` (both sides added instances of the same kind to a frame:
user on both, or predictions on both), ``node`` (a node renamed or removed
differently, removed on one side while its points were edited on the other, or
added with the same name on both), ``skeleton`` (name/edges changed differently,
or removed while in use), ``video`` (removed on one side and edited on the
other, or changed differently), ``track_def`` (a track renamed differently, or
removed while the other side uses it) and ``provenance`` (a key set differently).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Choice = str  # "ours" | "theirs" | "both" | a value (see `MergeResult.resolve`)
Applier = Callable[[Any, Any], None]  # (plan, value) -> None


def plain(value: Any) -> Any:
    """A JSON-friendly copy (numpy to lists, NaN to None, defs to dicts)."""
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, float):
        return None if value != value else value
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if hasattr(value, "__struct_fields__"):
        return {f: plain(getattr(value, f)) for f in value.__struct_fields__}
    return value


@dataclass(eq=False)
class Conflict:
    """One conflict of a merge (see the module docstring for the kinds)."""

    kind: str
    base: Any
    ours: Any
    theirs: Any
    video: int | None = None
    frame_idx: int | None = None
    instance: int | None = None
    node: int | None = None
    node_name: str | None = None
    ours_authors: list[str] = field(default_factory=list)
    theirs_authors: list[str] = field(default_factory=list)
    ours_tx: list[int] = field(default_factory=list)
    theirs_tx: list[int] = field(default_factory=list)
    choices: tuple[str, ...] = ("ours", "theirs")
    appliers: dict[str, Applier] = field(default_factory=dict, repr=False)
    value_applier: Applier | None = field(default=None, repr=False)
    subjects: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def key(self) -> tuple:
        return (self.kind, self.video, self.frame_idx, self.instance, self.node)

    def describe(self) -> str:
        where = []
        if self.video is not None:
            where.append(f"video {self.video}")
        if self.frame_idx is not None:
            where.append(f"frame {self.frame_idx}")
        if self.instance is not None:
            where.append(f"instance {self.instance}")
        if self.node_name is not None:
            where.append(f"node {self.node_name!r}")
        return (f"{self.kind} conflict at {', '.join(where) or 'project'}: base="
                f"{plain(self.base)!r} ours={plain(self.ours)!r} theirs={plain(self.theirs)!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "video": self.video, "frame_idx": self.frame_idx,
                "instance": self.instance, "node": self.node, "node_name": self.node_name,
                "base": plain(self.base), "ours": plain(self.ours),
                "theirs": plain(self.theirs), "ours_authors": self.ours_authors,
                "theirs_authors": self.theirs_authors, "ours_tx": self.ours_tx,
                "theirs_tx": self.theirs_tx, "choices": list(self.choices)}
