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
from ledger.project.durable import open
from ledger.sleap.cache import LabelsDataCache
from ledger.sleap.labels import Labels

load_file = Labels.load_file  # ledger.load_file(path, video_search=None), as sleap.load_file

__version__ = "0.1.0"

__all__ = ["Conflict", "Diff", "Instance", "LabeledFrame", "Labels", "LabelsDataCache",
           "MergeResult", "Node", "Point", "PredictedInstance", "PredictedPoint", "RangeList",
           "Skeleton", "SuggestionFrame", "Track", "Video", "diff", "load_file", "merge", "open"]
