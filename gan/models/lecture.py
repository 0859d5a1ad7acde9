"""The lecture's "simple GAN using Keras" (seeds/lecture-autoencoders-gans.txt), in PyTorch.

G: Dense 7*7*128 with ReLU - BatchNormalization - Reshape - Conv2DTranspose 64, 3x3, s2, same - LeakyReLU(0.01) -
Conv2DTranspose 1, 3x3, s2, same, tanh. D: Conv2D 64, 3x3, s2, same - LeakyReLU(0.01) - Flatten - Dense 1.
Keras's 'same' transposed convolution with stride 2 doubles the size; in PyTorch that is padding=1 with
output_padding=1. Trainable parameters: G 720,385, D 13,185 (Keras counts the batch norm's moving statistics
as 12,544 more, non-trainable, parameters).
"""

from __future__ import annotations

import torch
from torch import nn


class LectureGenerator(nn.Module):
    def __init__(self, z_dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(z_dim, 7 * 7 * 128), nn.ReLU(), nn.BatchNorm1d(7 * 7 * 128),
            nn.Unflatten(1, (128, 7, 7)),
            nn.ConvTranspose2d(128, 64, 3, 2, 1, output_padding=1), nn.LeakyReLU(0.01),  # 14x14
            nn.ConvTranspose2d(64, 1, 3, 2, 1, output_padding=1), nn.Tanh(),  # 28x28
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class LectureDiscriminator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, 64, 3, 2, 1), nn.LeakyReLU(0.01), nn.Flatten(), nn.Linear(64 * 14 * 14, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)


def build(*, z_dim: int = 100) -> tuple[nn.Module, nn.Module]:
    return LectureGenerator(z_dim), LectureDiscriminator()
