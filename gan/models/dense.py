"""The dense (MLP) GAN of the thesis's dense-vs-convolutional comparison, with configurable depth.

Depth counts weight layers. Depth 3 is the classic G 100-256-512-784 / D 784-512-256-1; each extra layer doubles
the widest hidden layer (capped at 1024), so that depth means capacity as it does in the convolutional grid.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def _widths(depth: int) -> list[int]:
    return [min(256 * 2**i, 1024) for i in range(depth - 1)]


class DenseGenerator(nn.Module):
    def __init__(self, z_dim: int, depth: int, image_shape: tuple[int, int, int], out: str) -> None:
        super().__init__()
        self.image_shape = image_shape
        layers: list[nn.Module] = []
        d_in = z_dim
        for w in _widths(depth):
            layers += [nn.Linear(d_in, w), nn.BatchNorm1d(w), nn.LeakyReLU(0.2)]
            d_in = w
        layers += [nn.Linear(d_in, math.prod(image_shape)), nn.Tanh() if out == "tanh" else nn.Sigmoid()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, *self.image_shape)


class DenseDiscriminator(nn.Module):
    def __init__(self, depth: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        d_in = math.prod(image_shape)
        for w in reversed(_widths(depth)):
            layers += [nn.Linear(d_in, w), nn.LeakyReLU(0.2)]
            d_in = w
        layers += [nn.Linear(d_in, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)


def build(*, z_dim: int = 100, g_depth: int = 3, d_depth: int = 3, channels: int = 1, image_size: int = 28,
          out: str = "tanh") -> tuple[nn.Module, nn.Module]:
    for name, v in (("g_depth", g_depth), ("d_depth", d_depth)):
        if not 2 <= v <= 8:
            raise ValueError(f"{name} must be in [2, 8], got {v}")
    if out not in ("tanh", "sigmoid"):
        raise ValueError(f"out must be 'tanh' or 'sigmoid', got {out!r}")
    shape = (channels, image_size, image_size)
    return DenseGenerator(z_dim, g_depth, shape, out), DenseDiscriminator(d_depth, shape)
