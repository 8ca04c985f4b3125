"""What a dataset download holds, from its layout and metadata alone (``flowprep extract --dry-run``).

Counts per role and the problems an extraction would meet, in seconds on a 1.2 M-frame MARS copy:
every frame's presence is checked by listing each frame folder once, never by opening a frame.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from flowprep.datasets.base import ROLES, Tracklet
from flowprep.datasets.columns import folder_groups
from flowprep.errors import DatasetError
from flowreid.protocols import protocol_gallery


@dataclass(frozen=True)
class RoleCount:
    tracklets: int
    identities: int  # distinct persons, distractors (pid 0) not counted
    frames: int


@dataclass(frozen=True)
class Survey:
    counts: dict[str, RoleCount]
    matlab_gallery: int
    problems: tuple[str, ...]

    def lines(self) -> list[str]:
        """The report: a per-role table, the MATLAB protocol's gallery size, then one line per problem."""
        lines = [f"{'role':<8} {'tracklets':>10} {'identities':>10} {'frames':>10}"]
        lines += [f"{role:<8} {c.tracklets:>10} {c.identities:>10} {c.frames:>10}" for role, c in self.counts.items()]
        lines.append(f"reid evaluate --protocol matlab ranks against {self.matlab_gallery} gallery tracklets "
                     "(queries included)")
        lines += [f"problem: {problem}" for problem in self.problems] or ["problems: none found"]
        return lines


def survey(tracklets: Sequence[Tracklet], check_frames: bool = True) -> Survey:
    """Per-role counts and problems of the adapter's tracklets; reads folder listings, no frame
    (``check_frames`` False: the frames are still to be derived, so none is looked for)."""
    counts = {}
    for role in ROLES:
        mine = [t for t in tracklets if t.role == role]
        counts[role] = RoleCount(len(mine), len({t.pid for t in mine if t.pid != 0}), sum(len(t.frames) for t in mine))
    roles = np.array([t.role for t in tracklets])
    query, gallery = np.flatnonzero(roles == "query"), np.flatnonzero(roles == "gallery")
    problems = [f"no {role} tracklets" for role, count in counts.items() if count.tracklets == 0]
    problems += (_missing_frames(tracklets) if check_frames else []) + _unmatched_queries(tracklets)
    return Survey(counts, len(protocol_gallery(query, gallery, "matlab")), tuple(problems))


def _missing_frames(tracklets: Sequence[Tracklet]) -> list[str]:
    """Frames the metadata lists that are not on disk: each folder listed once, names compared as columns."""
    by_folder: dict[Path, list[np.ndarray]] = defaultdict(list)
    for tracklet in tracklets:
        for folder, names in folder_groups(tracklet.frames):
            by_folder[folder].append(names)
    missing, first, total = 0, None, 0
    for folder, blocks in by_folder.items():
        names = np.concatenate(blocks)
        total += len(names)
        try:
            present = np.array([entry.encode("utf-8", "surrogateescape") for entry in os.listdir(folder)], dtype=bytes)
        except PermissionError as exc:  # there, but not for this user: "not on disk" would send them looking
            raise DatasetError(f"{folder}: {exc.strerror}: every frame folder of the dataset must be readable") from None
        except OSError:
            present = np.zeros(0, bytes)
        absent = np.flatnonzero(~np.isin(names, present))
        if absent.size and first is None:
            first = folder / names[absent[0]].decode("utf-8")
        missing += absent.size
    if not missing:
        return []
    return [f"{missing} of {total} frames the metadata lists are not on disk (first: {first})"]


def _unmatched_queries(tracklets: Sequence[Tracklet]) -> list[str]:
    gallery = {(t.pid, t.camid) for t in tracklets if t.role == "gallery"}
    cameras: dict[int, set[int]] = defaultdict(set)
    for pid, camid in gallery:
        cameras[pid].add(camid)
    unmatched = [t for t in tracklets if t.role == "query" and not cameras[t.pid] - {t.camid}]
    if not unmatched:
        return []
    return [f"{len(unmatched)} queries have no gallery tracklet of their person in another camera and do not "
            f"count in CMC/mAP (first: {unmatched[0].name})"]
