"""FlowNet-style cost volume in plain PyTorch, so LiteFlowNet runs on any device without custom kernels."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def correlation(first: torch.Tensor, second: torch.Tensor, stride: int = 1, max_displacement: int = 3) -> torch.Tensor:
    """Mean over channels of ``first(p) * second(p + d)`` for every displacement ``d``.

    ``first`` and ``second`` are (N, C, H, W). Displacements are ``stride * (i, j)``
    for i, j in [-max_displacement, max_displacement]; outside ``second`` counts as
    zero. With stride s the volume is evaluated only at positions ``(s*y, s*x)``,
    giving (N, K*K, ceil(H/s), ceil(W/s)) with K = 2*max_displacement + 1 and
    channel ``(i + max_displacement) * K + (j + max_displacement)`` (vertical index
    major), which is the layout and normalisation of the LiteFlowNet CUDA layer.

    Vectorised over the K horizontal displacements of one row (K times the memory
    of ``first``), looping over the K rows, which bounds memory at large batches.
    """
    size = 2 * max_displacement + 1
    padding = max_displacement * stride
    anchors = first[:, :, ::stride, ::stride]
    rows = anchors.shape[2]
    # Sampling the padded second map with the same stride puts displacement (i, j) of
    # anchor (y, x) at index (y + i, x + j) of ``candidates`` (i, j counted from 0).
    candidates = F.pad(second, (padding, padding, padding, padding))[:, :, ::stride, ::stride]
    volume = []
    for vertical in range(size):
        band = candidates[:, :, vertical : vertical + rows]
        windows = band.unfold(3, size, 1)  # (N, C, rows, columns, K), a view
        volume.append((anchors.unsqueeze(-1) * windows).sum(1).movedim(-1, 1))
    return torch.stack(volume, 1).flatten(1, 2) / first.shape[1]
