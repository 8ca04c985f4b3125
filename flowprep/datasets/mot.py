"""Tracker output in the MOTChallenge layout, so ``reid search`` can look through real footage.

Layout: one folder per sequence (camera) under the root, sorted by name::

    <root>/<sequence>/img1/000001.jpg ...      frames, numbered from 1
      or  <root>/<sequence>/<name>.avi|.mp4|.mkv|.mov|.mpg   one video instead of img1/
    <root>/<sequence>/gt/gt.txt                ground truth, if present; else
    <root>/<sequence>/tracks.txt               a tracker's output

Track files have one box per line, ``frame,id,x,y,w,h[,flag,...]``: 1-based frame number,
track id, and the box's top-left corner (1-based pixels, MOTChallenge's convention), width
and height. In ``gt/gt.txt`` a line whose 7th field (MOTChallenge's "consider" flag) is 0
is left out; tracker files are used whole.

Each track of a sequence becomes one tracklet: pid = track id, camid = the sequence's
position (1-based), role "gallery" for all (track ids from different sequences or trackers
name different people, so there is no query/gallery protocol to follow: the store is a
gallery for ``reid search``). Boxes are clipped to the frame; a clipped box smaller than
MIN_SIDE pixels is dropped. A track keeps its frames in frame order, across any gaps.

The store pipeline reads frame files, so the boxes are cropped once into the adapter's cache
folder, ``<cache>/<sequence>/<track id>/<frame>.jpg``, never into the root (datasets are often
mounted read-only). ``flowprep extract`` puts the cache beside the store it writes
(``vtest.h5`` -> ``vtest.cache/``; ``--cache DIR`` chooses another). A manifest written last
records what the crops were made from (the track file's bytes, the frames' names and
sizes, the crop settings); crops whose manifest matches are reused, others are redone.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from flowprep.datasets import DATASETS
from flowprep.datasets.base import DatasetAdapter, Tracklet, frame_number
from flowprep.errors import DatasetError
from flowreid.atomic import atomic_path

MIN_SIDE = 4
JPEG_QUALITY = 95
CROP_VERSION = 1
VIDEO_SUFFIXES = (".avi", ".mp4", ".mkv", ".mov", ".mpg")
FRAME_FILE = re.compile(r"^(\d+)\.(?:jpg|jpeg|png|bmp)$", re.IGNORECASE)


@dataclass(frozen=True)
class Box:
    frame: int
    track: int
    left: float  # 0-based pixels
    top: float
    width: float
    height: float

    def clipped(self, frame_height: int, frame_width: int) -> tuple[int, int, int, int] | None:
        """(x0, y0, x1, y1) inside the frame, or None when too small to be a person."""
        x0, y0 = max(0, round(self.left)), max(0, round(self.top))
        x1, y1 = min(frame_width, round(self.left + self.width)), min(frame_height, round(self.top + self.height))
        if x1 - x0 < MIN_SIDE or y1 - y0 < MIN_SIDE:
            return None
        return x0, y0, x1, y1


def read_tracks(path: Path, ground_truth: bool) -> list[Box]:
    """Every usable box of a track file; a malformed line is an error naming the file and line."""
    boxes, seen = [], set()
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        fields = [f.strip() for f in line.split(",")]
        try:
            frame, track = int(float(fields[0])), int(float(fields[1]))
            left, top, width, height = (float(v) for v in fields[2:6])
            flag = float(fields[6]) if ground_truth and len(fields) > 6 else 1.0
        except (ValueError, IndexError):
            raise DatasetError(f"{path}:{number}: expected frame,id,x,y,w,h[,...], got {line.strip()[:60]!r}") from None
        if frame < 1:
            raise DatasetError(f"{path}:{number}: frame numbers start at 1, got {frame}")
        if flag == 0:
            continue
        if (frame, track) in seen:
            raise DatasetError(f"{path}:{number}: track {track} has a second box in frame {frame}")
        seen.add((frame, track))
        boxes.append(Box(frame, track, left - 1, top - 1, width, height))
    return boxes


class FrameSource:
    """A sequence's frames by number, from img1/ or from one video file."""

    def __init__(self, sequence: Path, layout: str) -> None:
        self.folder = sequence / "img1"
        videos = sorted(p for p in sequence.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
        self.video = None if self.folder.is_dir() or not videos else videos[0]
        if not self.folder.is_dir() and self.video is None:
            raise DatasetError(f"{sequence}: no img1/ folder and no video file (expected mot layout: {layout})")
        self.files = {} if self.video else {frame_number(p, FRAME_FILE): p for p in self.folder.iterdir()
                                            if FRAME_FILE.match(p.name)}

    def fingerprint(self) -> list:
        """What the frames are, cheaply: names and sizes (a changed video or folder changes it)."""
        if self.video is not None:
            return [self.video.name, self.video.stat().st_size]
        return sorted([p.name, p.stat().st_size] for p in self.files.values())

    def frame_size(self) -> tuple[int, int]:
        """(height, width) of the frames, from the video's header or the first frame file."""
        if self.video is not None:
            capture = cv2.VideoCapture(str(self.video))
            size = (int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)), int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)))
            capture.release()
            if min(size) > 0:
                return size
            raise DatasetError(f"{self.video}: OpenCV cannot read this video's frame size")
        first = cv2.imread(str(self.files[min(self.files)])) if self.files else None
        if first is None:
            raise DatasetError(f"{self.folder}: no readable frame")
        return first.shape[0], first.shape[1]

    def frames(self, wanted: set[int]) -> Iterator[tuple[int, np.ndarray]]:
        """(number, BGR image) for every wanted frame, in frame order."""
        if self.video is None:
            for number in sorted(wanted):
                path = self.files.get(number)
                image = None if path is None else cv2.imread(str(path), cv2.IMREAD_COLOR)
                if image is None:
                    raise DatasetError(f"{self.folder}: frame {number} is missing or unreadable")
                yield number, image
            return
        capture = cv2.VideoCapture(str(self.video))
        if not capture.isOpened():
            raise DatasetError(f"{self.video}: OpenCV cannot open this video")
        try:
            for number in range(1, max(wanted) + 1):
                ok, image = capture.read()
                if not ok:
                    raise DatasetError(f"{self.video}: ends before frame {number}, but the tracks use frames up to {max(wanted)}")
                if number in wanted:
                    yield number, image
        finally:
            capture.release()


@DATASETS.register()
class MotAdapter(DatasetAdapter):
    name = "mot"
    layout = "<sequence>/img1/000001.jpg or <sequence>/<video>.avi, plus <sequence>/gt/gt.txt or <sequence>/tracks.txt"

    def tracklets(self) -> list[Tracklet]:
        if not self.root.is_dir():
            raise DatasetError(f"{self.root}: dataset root not found (expected mot layout: {self.layout})")
        sequences = sorted(p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))
        if not sequences:
            raise DatasetError(f"{self.root}: no sequence folders (expected mot layout: {self.layout})")
        return [tracklet for camid, sequence in enumerate(sequences, 1) for tracklet in self._sequence(sequence, camid)]

    def _crop_cache(self) -> Path:
        if self.cache is None:
            raise DatasetError(f"{self.root}: mot crops its boxes into a cache folder outside the dataset root; "
                               "pass one (flowprep extract --cache DIR, or cache= in Python)")
        return self.cache

    def _track_file(self, sequence: Path) -> tuple[Path, bool]:
        ground_truth = sequence / "gt" / "gt.txt"
        if ground_truth.is_file():
            return ground_truth, True
        tracks = sequence / "tracks.txt"
        if tracks.is_file():
            return tracks, False
        raise DatasetError(f"{sequence}: no gt/gt.txt and no tracks.txt (expected mot layout: {self.layout})")

    def _sequence(self, sequence: Path, camid: int) -> list[Tracklet]:
        track_file, ground_truth = self._track_file(sequence)
        source = FrameSource(sequence, self.layout)
        crops = self._crop_cache() / sequence.name
        key = hashlib.sha256(json.dumps(
            [CROP_VERSION, MIN_SIDE, JPEG_QUALITY, ground_truth, source.fingerprint(),
             hashlib.sha256(track_file.read_bytes()).hexdigest()]).encode()).hexdigest()
        manifest = crops / "manifest.json"
        tracks = _reusable(manifest, key)
        if tracks is None and self.read_only:
            tracks, self.planned_frames = _plan(read_tracks(track_file, ground_truth), source.frame_size()), True
        elif tracks is None:
            tracks = _crop(read_tracks(track_file, ground_truth), source, crops)
            _write_manifest(manifest, key, tracks)
        return [
            Tracklet(f"{sequence.name}_id{track}", int(track), camid, "gallery",
                     tuple(crops / track / f"{frame:06d}.jpg" for frame in frames))
            for track, frames in sorted(tracks.items(), key=lambda item: int(item[0]))
            if frames
        ]


def _reusable(manifest: Path, key: str) -> dict[str, list[int]] | None:
    try:
        recorded = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return None
    return recorded["tracks"] if isinstance(recorded, dict) and recorded.get("key") == key else None


def _write_manifest(manifest: Path, key: str, tracks: dict[str, list[int]]) -> None:
    """Written last and atomically: its presence means every crop it lists is on disk."""
    try:
        manifest.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(manifest) as tmp:
            tmp.write_text(json.dumps({"key": key, "tracks": tracks}))
    except OSError as exc:
        raise DatasetError(f"{manifest}: could not write the crop manifest ({exc.strerror or exc})") from None


def _plan(boxes: list[Box], frame_size: tuple[int, int]) -> dict[str, list[int]]:
    """What ``_crop`` would write, without writing: track id -> the frames whose box survives clipping."""
    tracks: dict[str, list[int]] = {str(track): [] for track in sorted({box.track for box in boxes})}
    for box in sorted(boxes, key=lambda box: box.frame):
        if box.clipped(*frame_size) is not None:
            tracks[str(box.track)].append(box.frame)
    return tracks


def _crop(boxes: list[Box], source: FrameSource, crops: Path) -> dict[str, list[int]]:
    """Write every box's crop; return track id (as text, JSON's key type) -> its frame numbers."""
    shutil.rmtree(crops, ignore_errors=True)
    by_frame: dict[int, list[Box]] = {}
    for box in boxes:
        by_frame.setdefault(box.frame, []).append(box)
    tracks: dict[str, list[int]] = {str(track): [] for track in sorted({box.track for box in boxes})}
    if not by_frame:
        return tracks
    try:
        for number, image in source.frames(set(by_frame)):
            for box in by_frame[number]:
                corners = box.clipped(*image.shape[:2])
                if corners is None:
                    continue
                x0, y0, x1, y1 = corners
                path = crops / str(box.track) / f"{number:06d}.jpg"
                path.parent.mkdir(parents=True, exist_ok=True)
                if not cv2.imwrite(str(path), image[y0:y1, x0:x1], [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
                    raise DatasetError(f"{path}: could not write the crop")
                tracks[str(box.track)].append(number)
    except OSError as exc:
        raise DatasetError(f"{crops}: could not write the crops ({exc.strerror or exc})") from None
    return tracks
