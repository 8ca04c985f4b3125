"""How much of a model's spatial attention falls on the person: the mechanism the paper argues.

The paper's case for flow-guided attention is that motion outlines the person, so the map M
(eq. 5 for mutual attention, eq. 11 for the gate) should weigh the silhouette above the
background. On a synthetic dataset the silhouettes are known (``flowprep synth --silhouettes``),
so this is measured, not looked at: for every test frame, the mask is averaged down to M's
resolution (area fractions) and

* ``share``: sum(M x mask) / sum(M), the fraction of the attention mass on the person;
* ``area``: mean(mask), the share a flat map (no preference) would get;
* ``inside`` / ``outside``: M's mean on the person and off it (weighted by the mask fractions).

``share > area`` (equivalently ``inside > outside``) means the attention prefers the person.
``flow_on_person`` gives the same numbers for the flow's magnitude: whether motion marks the person.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from flowprep import StoreReader, silhouette_index
from reid.data.device import prepare_batch
from reid.errors import ReidError

TEST_ROLES = ("query", "gallery")


def _mask(path: Path, size: tuple[int, int]) -> np.ndarray:
    """The mask as person fractions in [0, 1], area-averaged to ``size`` (h, w)."""
    mask = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if mask is None:
        raise ReidError(f"{path}: not a readable silhouette image")
    return cv2.resize(mask.astype(np.float32) / 255.0, (size[1], size[0]), interpolation=cv2.INTER_AREA)


class _OnPerson:
    """Sums of a per-pixel quantity (an attention map, the flow's magnitude) on and off the person."""

    def __init__(self, index: dict[str, Path], silhouettes: Path, store: StoreReader) -> None:
        self.index, self.silhouettes, self.store = index, silhouettes, store
        self.on_person = self.off_person = self.mass = self.person = self.background = self.area = 0.0
        self.frames = 0

    def add(self, frame_name: str, values: np.ndarray) -> None:
        stem = Path(frame_name).stem
        if stem not in self.index:
            raise ReidError(f"{self.silhouettes}: no silhouette for frame {frame_name} of {self.store.path}")
        mask = _mask(self.index[stem], values.shape)
        self.on_person += float((values * mask).sum())
        self.off_person += float((values * (1 - mask)).sum())
        self.mass += float(values.sum())
        self.person += float(mask.sum())
        self.background += float((1 - mask).sum())
        self.area += float(mask.mean())
        self.frames += 1

    def result(self) -> dict[str, float]:
        if self.frames == 0:
            raise ReidError(f"{self.store.path}: no query or gallery tracklets to measure")
        return {"share": self.on_person / max(self.mass, 1e-9), "area": self.area / self.frames,
                "inside": self.on_person / max(self.person, 1e-9),
                "outside": self.off_person / max(self.background, 1e-9), "frames": self.frames}


@torch.no_grad()
def attention_share(model: nn.Module, store: StoreReader, silhouettes: Path, device: torch.device,
                    seq_len: int, clips_per_tracklet: int = 2) -> dict[str, float]:
    """Attention on the person over the store's test tracklets (up to ``clips_per_tracklet`` clips of
    ``seq_len`` consecutive frames each, spread over the tracklet)."""
    tally = _OnPerson(silhouette_index(silhouettes), silhouettes, store)
    model.eval()
    for role in TEST_ROLES:
        for tracklet in store.tracklets.of_role(role):
            names = store.frame_names(int(tracklet))
            starts = np.linspace(0, max(0, len(names) - seq_len), clips_per_tracklet).round().astype(int)
            for start in sorted(set(starts.tolist())):
                positions = list(range(start, min(start + seq_len, len(names))))
                images, flows = store.read_clip(int(tracklet), positions)
                batch = prepare_batch(torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))[None],
                                      torch.from_numpy(flows)[None], device)
                attention = model(*batch).attention
                if attention is None:
                    raise ReidError(f"model {model.config['model']} has no spatial attention to measure "
                                    "(only gated-attention and mutual-attention have one)")
                for position, m in zip(positions, attention[0, :, 0].float().cpu().numpy()):
                    tally.add(names[position], m)
    return tally.result()


def flow_on_person(store: StoreReader, silhouettes: Path) -> dict[str, float]:
    """The same numbers for the stored flow's magnitude (pixels) on every test frame: the paper's premise
    is that motion outlines the person, which ``inside > outside`` would confirm and the reverse denies
    (in a detector's crop that follows a walker, the background slides past)."""
    tally = _OnPerson(silhouette_index(silhouettes), silhouettes, store)
    for role in TEST_ROLES:
        for tracklet in store.tracklets.of_role(role):
            names = store.frame_names(int(tracklet))
            _, flows = store.read_clip(int(tracklet), range(len(names)))
            for name, flow in zip(names, flows):
                tally.add(name, np.hypot(flow[0], flow[1]))
    return tally.result()
