"""Renders shots: a walker moving through a camera's scene, cropped by a jittery detector box."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterator, Sequence

import cv2
import numpy as np

from flowprep.errors import FlowprepError
from flowprep.synth.figure import Placement, draw_walker
from flowprep.synth.identity import Identity
from flowprep.synth.plan import Shot
from flowprep.synth.scene import Camera, build_camera
from flowprep.synth.silhouettes import silhouette_path, silhouettes_on

CAMERA_STREAM, TRACKLET_STREAM = 1, 2  # sub-streams of the seed, so cameras and shots draw independently
ENCODING = {".jpg": [cv2.IMWRITE_JPEG_QUALITY, 92], ".png": [cv2.IMWRITE_PNG_COMPRESSION, 3]}


class Studio:
    """Everything needed to draw any shot of one synthetic dataset; each shot's pixels depend only on
    (seed, shot), never on which shots were drawn before."""

    def __init__(self, seed: int, looks: Sequence[Identity], frame_size: tuple[int, int]) -> None:
        self.seed = seed
        self.looks = looks
        self.frame_height, self.frame_width = frame_size
        self._cameras: dict[int, Camera] = {}

    def camera(self, camid: int) -> Camera:
        if camid not in self._cameras:
            self._cameras[camid] = build_camera(np.random.default_rng([self.seed, CAMERA_STREAM, camid]), camid)
        return self._cameras[camid]

    def write(self, shot: Shot, paths: Sequence[Path]) -> None:
        """Render the shot and encode frame i to ``paths[i]`` (format from the suffix); while
        ``recording_silhouettes`` is on, also each frame's person mask into its sidecar folder."""
        if len(paths) != shot.length:
            raise ValueError(f"shot {shot.key}: {len(paths)} paths for {shot.length} frames")
        recording = silhouettes_on()
        for path, (frame, mask) in zip(paths, self.render(shot, with_silhouettes=recording)):
            _encode(path, frame)
            if recording:
                _encode(silhouette_path(path), mask)

    def frames(self, shot: Shot) -> Iterator[np.ndarray]:
        """The shot's crops at the dataset's frame size: the person walks on while the box jitters."""
        return (frame for frame, _ in self.render(shot, with_silhouettes=False))

    def render(self, shot: Shot, with_silhouettes: bool) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """Each frame and, if asked, the mask (uint8, 255 = person) of the walker's visible pixels: those
        that differ from the same crop drawn without the walker (movers behind, props and passers in front)."""
        rng = np.random.default_rng([self.seed, TRACKLET_STREAM, shot.key])
        camera, who = self.camera(shot.camid), self.looks[shot.look]
        view = float(np.clip(camera.view + rng.normal(0, 0.12), 0.15, math.pi / 2))
        direction = camera.direction if rng.random() < 0.75 else -camera.direction
        stature = camera.person_height * who.body.height * rng.uniform(0.92, 1.08)
        growth = rng.normal(0, 0.004) * math.cos(view)  # walking towards/away from the camera
        x = rng.uniform(0, camera.width)
        phase0, clock0 = rng.uniform(0, 2 * math.pi), rng.uniform(0, 10_000)
        noise = rng.normal(0, 1, (shot.length, 4)) * rng.uniform(0.015, 0.05)  # detector jitter
        noise[rng.random(shot.length) < 0.04] *= 3  # the odd bad detection
        if shot.misaligned:
            noise[:, :2] += [rng.choice([-1, 1]) * rng.uniform(0.15, 0.45), rng.uniform(-0.35, 0.35)]  # partial person
            noise[:, 2] += rng.uniform(-0.5, 0.6)
        passer = _Passer.maybe(rng, shot.length)
        lighting = camera.lighting * np.array([rng.uniform(0.9, 1.1)] * 3 + [1.0])

        for t in range(shot.length):
            height = stature * min(1.6, max(0.6, math.exp(growth * t)))
            box_h = 1.2 * height * max(0.3, 1 + noise[t, 2])
            box_w = box_h * 0.5 * (1 + 0.5 * noise[t, 3])
            top = round(camera.ground_y - 0.55 * height + noise[t, 1] * box_h - box_h / 2)
            left = round(x + noise[t, 0] * box_h - box_w / 2)
            canvas = camera.crop(top, left, max(8, round(box_h)), max(4, round(box_w)))
            camera.draw_movers(canvas, top, left, clock0 + t)
            phase = phase0 + 2 * math.pi * who.gait.frequency * t
            without_walker = canvas.copy() if with_silhouettes else None
            draw_walker(canvas, who, Placement(x - left, camera.ground_y - top, height, phase, view, direction))
            for layer in (canvas, without_walker) if with_silhouettes else (canvas,):
                camera.draw_props(layer, top, left)
                if passer is not None:
                    passer.draw(layer, t)
            size = (self.frame_width, self.frame_height)
            interpolation = cv2.INTER_LINEAR if canvas.shape[0] < self.frame_height else cv2.INTER_AREA
            frame = cv2.transform(cv2.resize(canvas, size, interpolation=interpolation), lighting)
            mask = None
            if with_silhouettes:
                person = (canvas != without_walker).any(axis=2).astype(np.float32)
                mask = np.where(cv2.resize(person, size, interpolation=interpolation) >= 0.5, 255, 0).astype(np.uint8)
            yield frame, mask
            x += direction * 0.75 * height * who.gait.frequency * who.gait.speed * math.sin(view)


def _encode(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(path.suffix, image, ENCODING[path.suffix])
    if not ok:
        raise FlowprepError(f"{path}: OpenCV could not encode the frame")
    path.write_bytes(data.tobytes())


class _Passer:
    """Someone walking between the camera and the person for a while: a temporary, large occlusion."""

    def __init__(self, start: int, duration: int, colour: tuple[int, int, int], rightwards: bool) -> None:
        self.start, self.duration, self.colour, self.rightwards = start, duration, colour, rightwards

    @classmethod
    def maybe(cls, rng: np.random.Generator, length: int) -> _Passer | None:
        if rng.random() >= 0.15:
            return None
        colour = tuple(int(c) for c in rng.integers(10, 200, 3))
        return cls(int(rng.integers(0, length)), int(rng.integers(4, 15)), colour, bool(rng.random() < 0.5))

    def draw(self, canvas: np.ndarray, t: int) -> None:
        progress = (t - self.start) / self.duration
        if not 0 <= progress <= 1:
            return
        height, width = canvas.shape[:2]
        centre = -0.3 * width + 1.6 * width * (progress if self.rightwards else 1 - progress)
        cv2.rectangle(canvas, (round(centre - 0.25 * width), round(0.12 * height)),
                      (round(centre + 0.25 * width), height), self.colour, -1)
        cv2.circle(canvas, (round(centre), round(0.07 * height)), max(2, round(0.11 * width)), (90, 110, 150), -1)
