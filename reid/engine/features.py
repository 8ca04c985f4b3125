"""Test-time embeddings of whole tracklets: the mean of the embeddings of their dense clips."""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from flowprep import StoreReader
from flowreid.progress import progress_display
from reid.data.clips import DenseClips
from reid.data.device import prepare_batch
from reid.data.workers import ignore_ctrl_c


def autocast(device: torch.device, amp: str):
    """bf16 autocast on CUDA when asked; full precision elsewhere (CPU bf16 is slow and unneeded)."""
    if amp == "bf16" and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return nullcontext()


@torch.no_grad()
def extract_features(
    model: nn.Module,
    store: StoreReader,
    tracklets: np.ndarray,
    *,
    seq_len: int,
    device: torch.device,
    batch_size: int = 32,
    workers: int = 0,
    amp: str = "off",
    progress: bool = False,
    desc: str = "features",
) -> torch.Tensor:
    """One embedding per tracklet (N, D) on ``device``, averaged over its clips.

    Clips stream through in batches and their embeddings are summed per tracklet, so memory
    does not grow with tracklet length. ``progress`` shows the batches on stderr: a bar on a terminal,
    timed plain lines in a log (``flowreid.progress``).
    """
    dataset = DenseClips(store, tracklets, seq_len)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=workers,
                        pin_memory=device.type == "cuda", persistent_workers=False, worker_init_fn=ignore_ctrl_c)
    was_training = model.training
    model.eval()
    sums: torch.Tensor | None = None
    counts = torch.zeros(len(tracklets), device=device)
    with progress_display(len(loader), desc, "batch", enabled=progress, leave=False) as bar:
        for images, flows, owners in loader:
            images, flows = prepare_batch(images, flows, device)
            with autocast(device, amp):
                embedding = model(images, flows).embedding.float()
            if sums is None:
                sums = torch.zeros(len(tracklets), embedding.shape[1], device=device)
            owners = owners.to(device)
            sums.index_add_(0, owners, embedding)
            counts.index_add_(0, owners, torch.ones_like(owners, dtype=counts.dtype))
            bar.update()
    model.train(was_training)
    if sums is None:
        raise ValueError("no tracklets to extract features from")
    return sums / counts.clamp_min(1).unsqueeze(1)
