"""The seminar's MNIST GAN (seeds/seminar-mnist-gan.txt), layer for layer as its Keras summaries print them.

G: Dense 100->6272 (633,472) - LeakyReLU - Reshape 7x7x128 - Conv2DTranspose 128, 4x4, s2 (262,272) - LeakyReLU -
Conv2DTranspose 128, 4x4, s2 (262,272) - LeakyReLU - Conv2D 1, 7x7, same (6,273): 1,164,289 parameters.
D: Conv2D 64, 3x3, s2 (640) - LeakyReLU - Dropout - Conv2D 64, 3x3, s2 (36,928) - LeakyReLU - Dropout - Flatten -
Dense 1 (3,137): 40,705 parameters. The summaries omit activations' slopes, the dropout rate and the output
activation; we use the values of the Keras tutorial they follow (LeakyReLU 0.2, Dropout 0.4, sigmoid output
for [0, 1] pixels), and D returns the logit.
"""

from __future__ import annotations

import torch
from torch import nn

from gan.models.init import keras_init


class SeminarGenerator(nn.Module):
    def __init__(self, z_dim: int) -> None:
        super().__init__()
        self.dense = nn.Linear(z_dim, 128 * 7 * 7)
        self.body = nn.Sequential(
            nn.LeakyReLU(0.2),
            nn.Unflatten(1, (128, 7, 7)),
            nn.ConvTranspose2d(128, 128, 4, 2, 1), nn.LeakyReLU(0.2),  # 14x14x128
            nn.ConvTranspose2d(128, 128, 4, 2, 1), nn.LeakyReLU(0.2),  # 28x28x128
            nn.Conv2d(128, 1, 7, 1, 3), nn.Sigmoid(),  # 28x28x1
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(self.dense(z))


class SeminarDiscriminator(nn.Module):
    def __init__(self, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 64, 3, 2, 1), nn.LeakyReLU(0.2), nn.Dropout(dropout),  # 14x14x64
            nn.Conv2d(64, 64, 3, 2, 1), nn.LeakyReLU(0.2), nn.Dropout(dropout),  # 7x7x64
            nn.Flatten(), nn.Linear(3136, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)


def build(*, z_dim: int = 100, dropout: float = 0.4, init: str = "torch") -> tuple[nn.Module, nn.Module]:
    """`init`: "keras" (Glorot-uniform weights and zero biases, the defaults of the Keras code the seminar's
    summaries come from) or "torch" (PyTorch's defaults)."""
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    if init not in ("keras", "torch"):
        raise ValueError(f"init must be 'keras' or 'torch', got {init!r}")
    G, D = SeminarGenerator(z_dim), SeminarDiscriminator(dropout)
    if init == "keras":
        keras_init(G)
        keras_init(D)
    return G, D
