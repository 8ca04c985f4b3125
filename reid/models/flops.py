"""Forward FLOPs of a model on one clip, counted by torch's own operator counter.

The model is rebuilt from its config on the ``meta`` device, so counting neither computes
nor touches the live model (its BatchNorm statistics and the random state stay as they were).
FLOPs follow torch's ``FlopCounterMode``: 2 per multiply-add of convolutions and matrix
products; element-wise operations are not counted.
"""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

from reid.models.base import ReidModel


def clip_flops(model: ReidModel, seq_len: int, height: int, width: int) -> int:
    """FLOPs of one forward pass over a clip of ``seq_len`` frames of ``height`` x ``width``."""
    from reid.models import build_model

    with torch.device("meta"):
        twin = build_model(**model.config).to("meta").eval()  # .to: buffers made from numpy arrays
        images = torch.empty(1, seq_len, 3, height, width)
        flows = torch.empty(1, seq_len, 2, height, width)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        twin(images, flows if twin.needs_flow else None)
    return counter.get_total_flops()
