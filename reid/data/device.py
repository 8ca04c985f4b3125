"""Moving a batch to the device and normalising it there, where it is cheapest."""

from __future__ import annotations

import torch

from reid.imagenet import IMAGENET_MEAN, IMAGENET_STD


def prepare_batch(images: torch.Tensor, flows: torch.Tensor, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 images (B,T,3,H,W) -> ImageNet-normalised float; float16 flow -> float32, on ``device``."""
    non_blocking = device.type == "cuda"
    images = images.to(device, non_blocking=non_blocking).float().div_(255)
    mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=device).view(1, 1, 3, 1, 1)
    images = (images - mean) / std
    return images, flows.to(device, non_blocking=non_blocking).float()
