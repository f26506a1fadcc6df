"""Sample projects shipped with the package (used by ``ledger demo``)."""

from pathlib import Path

SAMPLES = Path(__file__).resolve().parent
DANCE = SAMPLES / "dance.mp4.labels.slp"  # SLEAP test file: 450 frames, 17 nodes
