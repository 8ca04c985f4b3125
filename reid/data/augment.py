"""Joint augmentation of an image clip and its flow: one random draw moves both.

Flow is a geometric quantity, so the augmentations must keep it consistent with the
images: a horizontal flip mirrors the pixels AND negates u; a crop moves both maps
alike (translation leaves flow values unchanged); erasing blanks the same region in both.

The draw is made once per frame (``per_frame=True``, the default: the paper's baseline code
[16] and torchreid transform each frame on its own, and docs/results-synthetic.md measures it
ahead) or once per clip (every frame flipped, shifted and erased alike); the image and flow
of one frame always share it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClipAugment:
    """Training augmentation for (images (T,H,W,3) uint8, flows (T,2,H,W) float32) clips."""

    flip_p: float = 0.5
    pad_fraction: float = 10 / 128  # the usual 10 px at 256x128, scaled with the frame width
    erase_p: float = 0.0  # random erasing lost mAP in the recipe ablation (docs/results-synthetic.md)
    erase_area: tuple[float, float] = (0.02, 0.4)
    erase_ratio: tuple[float, float] = (0.3, 3.3)
    per_frame: bool = True

    def __call__(self, images: np.ndarray, flows: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        if not self.per_frame:
            return self._one_draw(images, flows, rng)
        frames = [self._one_draw(images[t : t + 1], flows[t : t + 1], rng) for t in range(len(images))]
        return np.concatenate([f[0] for f in frames]), np.concatenate([f[1] for f in frames])

    def _one_draw(self, images: np.ndarray, flows: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Flip, shift and erase every frame given with the same random draw."""
        if rng.random() < self.flip_p:
            images, flows = hflip(images, flows)
        pad = round(self.pad_fraction * images.shape[2])
        if pad > 0:
            images, flows = pad_crop(images, flows, pad, rng)
        if rng.random() < self.erase_p:
            images, flows = erase(images, flows, rng, self.erase_area, self.erase_ratio)
        return images, flows


def hflip(images: np.ndarray, flows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mirror left-right; the horizontal flow component changes sign."""
    flipped = flows[..., ::-1].copy()
    flipped[:, 0] *= -1
    return images[:, :, ::-1].copy(), flipped


def pad_crop(images: np.ndarray, flows: np.ndarray, pad: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Zero-pad by ``pad`` and crop back to size at one random offset for the whole clip."""
    _, height, width, _ = images.shape
    dy, dx = (int(v) for v in rng.integers(0, 2 * pad + 1, size=2))
    padded_images = np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    padded_flows = np.pad(flows, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    return (
        padded_images[:, dy : dy + height, dx : dx + width].copy(),
        padded_flows[:, :, dy : dy + height, dx : dx + width].copy(),
    )


def erase(
    images: np.ndarray,
    flows: np.ndarray,
    rng: np.random.Generator,
    area: tuple[float, float],
    ratio: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray]:
    """Random erasing of one rectangle, the same in every frame and in both modalities."""
    _, height, width, _ = images.shape
    for _ in range(10):  # a few tries to fit a rectangle of the drawn shape
        target = rng.uniform(*area) * height * width
        aspect = np.exp(rng.uniform(np.log(ratio[0]), np.log(ratio[1])))
        h, w = int(round(np.sqrt(target * aspect))), int(round(np.sqrt(target / aspect)))
        if 0 < h < height and 0 < w < width:
            y, x = int(rng.integers(0, height - h)), int(rng.integers(0, width - w))
            images, flows = images.copy(), flows.copy()
            images[:, y : y + h, x : x + w] = rng.integers(0, 256, size=(1, 1, 1, 3), dtype=np.uint8)
            flows[:, :, y : y + h, x : x + w] = 0
            break
    return images, flows
