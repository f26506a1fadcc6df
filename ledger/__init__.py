"""ledger: SLEAP's Labels API as an event-sourced ledger.

Every change is an immutable event; the project is a projection of the log, so
history, undo/redo, time travel and audit come with every labels object.

Example::

    from ledger import Labels, LabeledFrame, Instance, Skeleton, Video, Point
    skel = Skeleton.from_names_and_edge_inds(["head", "tail"], [(0, 1)])
    labels = Labels()
    labels.append(LabeledFrame(Video.from_filename("clip.mp4"), 0,
                               [Instance(skel, {"head": Point(10, 20)})]))
    labels.history[-1].kind      # 'FramesAdded'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Public names, resolved on first use (PEP 562): ``import ledger`` and
# ``ledger --help`` stay light, and a CLI verb that only reads the history never
# imports the SLEAP facade, h5py or the merge machinery.
_EXPORTS = {
    "RangeList": "ledger.core.rangelist",
    "Agreement": "ledger.analysis.agreement", "agreement": "ledger.analysis.agreement",
    "consensus": "ledger.analysis.consensus",
    "Diff": "ledger.diffing", "diff": "ledger.diffing",
    "Conflict": "ledger.merging", "MergeResult": "ledger.merging", "merge": "ledger.merging",
    **{name: "ledger.model" for name in (
        "Instance", "LabeledFrame", "Node", "Point", "PredictedInstance", "PredictedPoint",
        "Skeleton", "SuggestionFrame", "Track", "Video")},
    "clone": "ledger.project.durable", "fork": "ledger.project.durable",
    "open": "ledger.project.durable",
    "Project": "ledger.project.project",
    "LabelsDataCache": "ledger.sleap.cache",
    "Labels": "ledger.sleap.labels",
    "load_file": "ledger.sleap.labels:Labels.load_file",  # as sleap.load_file
}

__all__ = sorted(_EXPORTS)  # what the API reference (pdoc) documents


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ledger' has no attribute {name!r}")
    module, _, attr = module.partition(":")
    value: Any = importlib.import_module(module)
    for part in (attr or name).split("."):
        value = getattr(value, part)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:
    from ledger.analysis.agreement import Agreement, agreement
    from ledger.analysis.consensus import consensus
    from ledger.core.rangelist import RangeList
    from ledger.diffing import Diff, diff
    from ledger.merging import Conflict, MergeResult, merge
    from ledger.model import (
        Instance,
        LabeledFrame,
        Node,
        Point,
        PredictedInstance,
        PredictedPoint,
        Skeleton,
        SuggestionFrame,
        Track,
        Video,
    )
    from ledger.project.durable import clone, fork, open
    from ledger.project.project import Project
    from ledger.sleap.cache import LabelsDataCache
    from ledger.sleap.labels import Labels

    load_file = Labels.load_file

__version__ = "0.1.0"

__all__ = ["Agreement", "Conflict", "Diff", "Instance", "LabeledFrame", "Labels",
           "LabelsDataCache", "MergeResult", "Node", "Point", "PredictedInstance",
           "PredictedPoint", "Project", "RangeList", "Skeleton", "SuggestionFrame", "Track",
           "Video", "agreement", "clone", "consensus", "diff", "fork", "load_file", "merge",
           "open"]
