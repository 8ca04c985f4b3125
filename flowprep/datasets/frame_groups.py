"""Which tracklet each frame of a folder belongs to, by the datasets' own frame naming rules.

MARS keeps all of a person's tracklets in one folder (``bbox_test/0001/`` holds ``0001C2T0001F001.jpg``
and ``0001C6T0002F001.jpg``), so a folder of frames may be several tracklets; the names say which.
DukeMTMC-VideoReID and iLIDS-VID names carry person and camera (one tracklet each per folder in their
layouts); PRID2011's and a tracker's frames are bare numbers, one tracklet per folder.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Sequence

from flowprep.datasets.duke import FRAME_NAMES as DUKE_NAMES
from flowprep.datasets.ilidsvid import FRAME_NAME as ILIDSVID_NAME
from flowprep.datasets.mars import FRAME_NAME as MARS_NAME


def _key(pattern: re.Pattern[str], spell: Callable[[re.Match[str]], str]) -> Callable[[str], str | None]:
    def key(name: str) -> str | None:
        match = pattern.match(name)
        return spell(match) if match else None
    return key


# dataset -> the tracklet a frame name says, spelled as the dataset's store names it where it can be
# (MARS: the name's prefix before F, as the MARS adapter names tracklets)
NAMING_RULES: dict[str, tuple[Callable[[str], str | None], ...]] = {
    "mars": (_key(MARS_NAME, lambda m: f"{m['pid']}C{m['cam']}T{m['track']}"),),
    "duke": tuple(_key(pattern, lambda m: f"{m['pid']}_C{m['cam']}") for pattern in DUKE_NAMES),
    "ilidsvid": (_key(ILIDSVID_NAME, lambda m: f"cam{m['cam']}_person{m['pid']}"),),
}


def _tracklet_of(name: str, rules: tuple[Callable[[str], str | None], ...]) -> str | None:
    return next((key for key in (rule(name) for rule in rules) if key is not None), None)


def tracklet_groups(frames: Sequence[Path]) -> dict[str, list[Path]]:
    """The frames grouped by tracklet, each group in the given order, groups in order of first appearance.

    A dataset's rule is used only when it reads every name; frames no single rule reads (PRID's, a
    tracker's, one's own) are one tracklet, keyed by their folder's name.
    """
    for rules in NAMING_RULES.values():
        keys = [_tracklet_of(Path(frame).name, rules) for frame in frames]
        if frames and all(key is not None for key in keys):
            groups: dict[str, list[Path]] = {}
            for key, frame in zip(keys, frames):
                groups.setdefault(key, []).append(Path(frame))
            return groups
    return {Path(frames[0]).parent.name if frames else "": [Path(frame) for frame in frames]}
