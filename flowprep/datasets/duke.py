"""DukeMTMC-VideoReID: ``{train,query,gallery}/<pid>/<tracklet>/*.jpg``.

The role is the top folder and the pid the folder below it; the camera comes
from the file names, which must agree with the folder on the pid. Two naming
forms exist and may be mixed: the release as distributed today writes
``0001_C6_F0099_X30823.jpg``, older copies ``0001C6F0099X30823.jpg`` (both: pid 1,
camera 6, frame 99). Frames are ordered by their F number and all are kept,
whether a tracklet starts at F0002 or skips numbers. The root may be the folder
holding ``train/`` or the one holding ``DukeMTMC-VideoReID/`` (as the zip unpacks).
Names are ``<role>_<pid>_<tracklet>`` because query and gallery reuse pid folders.
"""

from __future__ import annotations

import re
from pathlib import Path

from flowprep.datasets import DATASETS
from flowprep.datasets.base import ROLES, DatasetAdapter, FrameName, Tracklet, ordered_frames
from flowprep.errors import DatasetError

FRAME_NAMES = (
    re.compile(r"^(?P<pid>\d+)_C(?P<cam>\d+)_F(?P<frame>\d+)_X\d+\.jpg$", re.IGNORECASE),  # current release
    re.compile(r"^(?P<pid>\d+)C(?P<cam>\d+)F(?P<frame>\d+)(?:X\d+)?\.jpg$", re.IGNORECASE),  # older copies
)
RELEASE_FOLDER = "DukeMTMC-VideoReID"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def _frame(path: Path) -> FrameName:
    for pattern in FRAME_NAMES:
        match = pattern.match(path.name)
        if match is not None:
            return FrameName(path, int(match["frame"]), int(match["pid"]), int(match["cam"]))
    raise DatasetError(
        f"{path}: not a DukeMTMC-VideoReID frame name (like 0001_C6_F0099_X30823.jpg or 0001C6F0099X30823.jpg)"
    )


def _subdirectories(path: Path) -> list[Path]:
    return sorted(child for child in path.iterdir() if child.is_dir())


@DATASETS.register()
class DukeVideoAdapter(DatasetAdapter):
    name = "duke"
    layout = "[DukeMTMC-VideoReID/]{train,query,gallery}/<pid>/<tracklet>/<pid>_C<cam>_F<frame>_X<n>.jpg"

    def tracklets(self) -> list[Tracklet]:
        release = self.root / RELEASE_FOLDER
        base = release if release.is_dir() and not (self.root / "train").is_dir() else self.root
        role_dirs = [self.existing_dir(base / role) for role in ROLES]
        return [tracklet for role, role_dir in zip(ROLES, role_dirs) for tracklet in self._role(role, role_dir)]

    def _role(self, role: str, role_dir: Path) -> list[Tracklet]:
        tracklets = []
        for pid_dir in _subdirectories(role_dir):
            if not pid_dir.name.isdigit():
                raise DatasetError(f"{pid_dir}: person folder name is not a number (expected {self.layout})")
            pid = int(pid_dir.name)
            for track_dir in _subdirectories(pid_dir):
                name = f"{role}_{pid_dir.name}_{track_dir.name}"
                files = [p for p in track_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
                if not files:
                    raise DatasetError(f"{track_dir}: tracklet {name} has no frames")
                frames = [_frame(path) for path in files]
                camid = min(frames, key=lambda frame: (frame.number, frame.path.name)).camid  # earliest frame's
                tracklets.append(Tracklet(name, pid, camid, role, ordered_frames(name, frames, pid=pid, camid=camid)))
        return tracklets
