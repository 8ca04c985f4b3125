"""Make a small MOTChallenge-style track file for OpenCV's vtest.avi (Debian package opencv-doc).

People are found in each frame by OpenCV's HOG people detector (the video is upscaled
first: its pedestrians are about 90 pixels tall, less than the detector's 128-pixel
window), linked over time by a greedy IoU tracker, and the longest tracks are kept,
renumbered 1..K. Short gaps in a track are filled by linear interpolation of the box.
Lines are ``frame,id,x,y,w,h,1,-1,-1,-1`` with 1-based frame numbers and 1-based pixel
coordinates of the box's top-left corner (MOTChallenge's convention).

``--preview DIR`` draws the kept boxes on a few frames, and one strip of crops per track
(every 8th frame), to check the tracks by eye. What the eye finds wrong is removed by
``--drop ID`` (a false positive) and ``--only ID:FIRST-LAST`` (frames before and after an
identity switch), so the committed file is remade by one command (docs/mot-vtest.md):

    python tools/make_vtest_tracks.py --last 150 --keep 6 --drop 2 --only 1:1-26 --only 3:44-140 \
        --out tests/data/vtest_tracks.txt --preview /tmp/preview
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


@dataclass
class Track:
    boxes: dict[int, np.ndarray] = field(default_factory=dict)  # frame -> (x, y, w, h), 0-based pixels

    @property
    def last_frame(self) -> int:
        return max(self.boxes)

    def filled(self) -> dict[int, np.ndarray]:
        """The boxes with gaps filled by linear interpolation."""
        frames = sorted(self.boxes)
        out = {}
        for a, b in zip(frames, frames[1:]):
            for f in range(a, b):
                weight = (f - a) / (b - a)
                out[f] = (1 - weight) * self.boxes[a] + weight * self.boxes[b]
        out[frames[-1]] = self.boxes[frames[-1]]
        return out


def iou(a: np.ndarray, b: np.ndarray) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def detect(hog: cv2.HOGDescriptor, frame: np.ndarray, upscale: float, min_score: float) -> list[np.ndarray]:
    big = cv2.resize(frame, None, fx=upscale, fy=upscale, interpolation=cv2.INTER_LINEAR)
    rects, scores = hog.detectMultiScale(big, winStride=(8, 8), padding=(8, 8), scale=1.05)
    if len(rects) == 0:
        return []
    scores = np.ravel(scores)
    keep = cv2.dnn.NMSBoxes([list(map(int, r)) for r in rects], scores.tolist(), min_score, 0.4)
    return [np.asarray(rects[i], float) / upscale for i in np.ravel(keep)]


def track(detections: dict[int, list[np.ndarray]], min_iou: float, max_gap: int) -> list[Track]:
    """Greedy IoU linking: each detection joins the free live track it overlaps most, else starts one."""
    live: list[Track] = []
    done: list[Track] = []
    for frame in sorted(detections):
        done += [t for t in live if frame - t.last_frame > max_gap + 1]
        live = [t for t in live if frame - t.last_frame <= max_gap + 1]
        pairs = sorted(((iou(t.boxes[t.last_frame], box), i, j) for i, t in enumerate(live)
                        for j, box in enumerate(detections[frame])), reverse=True)
        used_tracks, used_boxes = set(), set()
        for overlap, i, j in pairs:
            if overlap < min_iou or i in used_tracks or j in used_boxes:
                continue
            live[i].boxes[frame] = detections[frame][j]
            used_tracks.add(i)
            used_boxes.add(j)
        live += [Track({frame: box}) for j, box in enumerate(detections[frame]) if j not in used_boxes]
    return done + live


def crop_strips(frames: dict[int, np.ndarray], lines: list[tuple[int, int, str]], step: int = 8) -> np.ndarray:
    """One row per track: its crops at every ``step``-th frame, 48x96 each, frame number in yellow."""
    rows = []
    for track_id in sorted({t for _, t, _ in lines}):
        tiles = []
        for frame, _, line in [item for item in lines if item[1] == track_id][::step]:
            x, y, w, h = (float(v) for v in line.split(",")[2:6])
            x0, y0 = max(0, int(x - 1)), max(0, int(y - 1))
            crop = cv2.resize(frames[frame][y0 : y0 + int(h), x0 : x0 + int(w)], (48, 96))
            cv2.putText(crop, str(frame), (1, 10), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 255, 255), 1)
            tiles.append(crop)
        strip = cv2.copyMakeBorder(np.concatenate(tiles, 1), 0, 4, 30, 0, cv2.BORDER_CONSTANT, value=(255, 255, 255))
        cv2.putText(strip, str(track_id), (5, 50), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 2)
        rows.append(strip)
    width = max(r.shape[1] for r in rows)
    return np.concatenate([cv2.copyMakeBorder(r, 0, 0, 0, width - r.shape[1], cv2.BORDER_CONSTANT, value=(255, 255, 255))
                           for r in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path, default=VTEST)
    parser.add_argument("--first", type=int, default=1, help="First frame (1-based).")
    parser.add_argument("--last", type=int, default=150, help="Last frame (1-based, inclusive).")
    parser.add_argument("--upscale", type=float, default=2.0)
    parser.add_argument("--min-score", type=float, default=0.5, help="HOG SVM score a detection needs.")
    parser.add_argument("--min-iou", type=float, default=0.3)
    parser.add_argument("--max-gap", type=int, default=3, help="Frames a track may miss and still continue.")
    parser.add_argument("--keep", type=int, default=5, help="Longest tracks to keep.")
    parser.add_argument("--drop", type=int, action="append", default=[], help="Leave out track ID (repeatable).")
    parser.add_argument("--only", action="append", default=[], metavar="ID:FIRST-LAST",
                        help="Keep only these frames of track ID (repeatable).")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--preview", type=Path, default=None, help="Folder for frames with the kept boxes drawn.")
    args = parser.parse_args()

    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    capture = cv2.VideoCapture(str(args.video))
    frames, detections = {}, {}
    for number in range(1, args.last + 1):
        ok, frame = capture.read()
        if not ok:
            raise SystemExit(f"{args.video}: ends before frame {number}")
        if number >= args.first:
            detections[number] = detect(hog, frame, args.upscale, args.min_score)
            frames[number] = frame
    tracks = sorted(track(detections, args.min_iou, args.max_gap), key=lambda t: -len(t.filled()))[: args.keep]
    spans = {int(track_id): tuple(int(v) for v in span.split("-")) for track_id, span in (o.split(":") for o in args.only)}
    lines = []
    for track_id, kept in enumerate(sorted(tracks, key=lambda t: min(t.boxes)), 1):
        first, last = spans.get(track_id, (1, args.last))
        if track_id in args.drop:
            continue
        for frame, (x, y, w, h) in sorted(kept.filled().items()):
            if first <= frame <= last:
                lines.append((frame, track_id, f"{frame},{track_id},{x + 1:.1f},{y + 1:.1f},{w:.1f},{h:.1f},1,-1,-1,-1"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(line + "\n" for _, _, line in sorted(lines)))
    lengths = {i: sum(1 for _, t, _ in lines if t == i) for i in sorted({t for _, t, _ in lines})}
    print(f"{args.out}: {len(lengths)} tracks, {len(lines)} boxes, frames per track {lengths}")
    if args.preview is not None:
        args.preview.mkdir(parents=True, exist_ok=True)
        for number in np.linspace(args.first, args.last, 4).round().astype(int):
            picture = frames[number].copy()
            for frame, track_id, line in lines:
                if frame == number:
                    x, y, w, h = (float(v) for v in line.split(",")[2:6])
                    x0, y0 = int(x - 1), int(y - 1)
                    cv2.rectangle(picture, (x0, y0), (x0 + int(w), y0 + int(h)), (0, 0, 255), 2)
                    cv2.putText(picture, str(track_id), (x0, y0 - 3), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 255), 2)
            cv2.imwrite(str(args.preview / f"frame_{number:04d}.png"), picture)
        cv2.imwrite(str(args.preview / "tracks.png"), crop_strips(frames, lines))


if __name__ == "__main__":
    main()
