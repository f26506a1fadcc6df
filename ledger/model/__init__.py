"""Value types of the SLEAP data model (SLEAP 1.x constructors)."""

from ledger.model.frame import LabeledFrame
from ledger.model.instance import Instance, PredictedInstance
from ledger.model.points import Point, PredictedPoint
from ledger.model.skeleton import Node, Skeleton
from ledger.model.suggestion import SuggestionFrame
from ledger.model.track import Track
from ledger.model.video import Video

__all__ = ["Instance", "LabeledFrame", "Node", "Point", "PredictedInstance", "PredictedPoint",
           "Skeleton", "SuggestionFrame", "Track", "Video"]
