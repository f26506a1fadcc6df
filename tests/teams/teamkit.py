"""Shared helpers for the team tests: a seeded server project and state checks."""

from __future__ import annotations

import ledger
from ledger import Instance, LabeledFrame, Labels, Point, Skeleton, Track, Video
from ledger.core.state import canonical
from ledger.store.postgres_admin import create_project, grant

FRAMES = 6


def seed(labels: Labels, frames: int = FRAMES) -> None:
    """Frames 0..frames-1 of one video, one tracked instance each (head, tail)."""
    skel = Skeleton.from_names_and_edge_inds(["head", "tail"], [(0, 1)])
    video = Video.from_filename("/missing/clip.mp4")
    track = Track(0, "mouse")
    with labels.transaction("seed"):
        for f in range(frames):
            labels.append(LabeledFrame(video, f, [
                Instance(skel, {"head": Point(f, f), "tail": Point(f + 1, f)}, track=track)]))


def team_project(pg, name: str = "mice", roles: tuple[str, ...] = ("ana", "ben")
                 ) -> dict[str, str]:
    """A seeded project on the test server and one annotator URL per role
    (the admin URL under "admin")."""
    create_project(pg.url, name)
    urls = {"admin": pg.url}
    for role in roles:
        urls[role] = pg.role(role)
        grant(pg.url, name, pg.real(role), "annotator")
    with ledger.open(pg.url, project=name) as labels:
        seed(labels)
    return urls


def point(labels: Labels, frame: int, node: str = "head") -> tuple[float, float]:
    p = labels[frame].instances[0][node]
    return (float(p.x), float(p.y))


def same(a: Labels, b: Labels) -> bool:
    return a.head_hash() == b.head_hash() and canonical(a.project.state) == \
        canonical(b.project.state)
