"""The shallow AlexNet-style flow CNN of the gated-attention model (paper section 4, Fig. 4).

Only AlexNet's first three convolutions and one pooling: a shallow network keeps the
flow features spatially coherent, which is all a spatial gate needs. The last
convolution has no ReLU so that the channel mean can be negative and the sigmoid gate
can close (a ReLU would pin the gate to [0.5, 1)).
"""

from __future__ import annotations

from torch import Tensor, nn

ALEXNET_WIDTHS = (64, 192, 256)


class FlowCNN(nn.Module):
    def __init__(self, in_channels: int = 3, widths: tuple[int, int, int] = ALEXNET_WIDTHS) -> None:
        super().__init__()
        first, second, third = widths
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, first, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            nn.Conv2d(first, second, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.Conv2d(second, third, kernel_size=3, padding=1),
        )

    def forward(self, flow: Tensor) -> Tensor:
        return self.features(flow)
