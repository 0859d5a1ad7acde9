"""Convolutional GANs: the 28x28 DCGAN of the depth grid, and the 5-layer AFHQ DCGAN of the thesis.

Depth counts weight layers (linear, convolution, transposed convolution). The 28x28 models at depth 3 are the
small DCGAN of pytorch/examples scaled to MNIST; each extra layer is a 3x3, stride-1 convolution at 14x14, so
depth changes capacity and receptive field but never the resolution path.
"""

from __future__ import annotations

import torch
from torch import nn

from gan.models.init import dcgan_init


def _check_depth(name: str, v: int, lo: int = 3, hi: int = 8) -> None:
    if not lo <= v <= hi:
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {v}")


class DCGAN28Generator(nn.Module):
    def __init__(self, z_dim: int, depth: int, channels: int, width: int, out: str) -> None:
        super().__init__()
        w = width
        self.project = nn.Sequential(nn.Linear(z_dim, 2 * w * 7 * 7, bias=False), nn.BatchNorm1d(2 * w * 7 * 7), nn.LeakyReLU(0.2))
        self.w = w
        layers: list[nn.Module] = [nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.LeakyReLU(0.2)]
        for _ in range(depth - 3):
            layers += [nn.Conv2d(w, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w), nn.LeakyReLU(0.2)]
        layers += [nn.ConvTranspose2d(w, channels, 4, 2, 1), nn.Tanh() if out == "tanh" else nn.Sigmoid()]
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(self.project(z).view(-1, 2 * self.w, 7, 7))


class DCGAN28Discriminator(nn.Module):
    def __init__(self, depth: int, channels: int, width: int) -> None:
        super().__init__()
        w = width
        layers: list[nn.Module] = [nn.Conv2d(channels, w, 4, 2, 1), nn.LeakyReLU(0.2)]
        for _ in range(depth - 3):
            layers += [nn.Conv2d(w, w, 3, 1, 1), nn.LeakyReLU(0.2)]
        layers += [nn.Conv2d(w, 2 * w, 4, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(2 * w * 7 * 7, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)


def build_dcgan28(*, z_dim: int = 100, g_depth: int = 3, d_depth: int = 3, channels: int = 1, width: int = 64,
                  out: str = "tanh") -> tuple[nn.Module, nn.Module]:
    """The depth-grid DCGAN for 28x28 images; g_depth and d_depth in 3..8 (the thesis grid uses 3..6)."""
    _check_depth("g_depth", g_depth)
    _check_depth("d_depth", d_depth)
    if not 4 <= width <= 1024:
        raise ValueError(f"width must be in [4, 1024], got {width}")
    if out not in ("tanh", "sigmoid"):
        raise ValueError(f"out must be 'tanh' or 'sigmoid', got {out!r}")
    G, D = DCGAN28Generator(z_dim, g_depth, channels, width, out), DCGAN28Discriminator(d_depth, channels, width)
    dcgan_init(G)
    dcgan_init(D)
    return G, D


class AFHQGenerator(nn.Module):
    """z (100) -> 5 transposed convolutions -> 3 x size x size, LeakyReLU between, tanh out (thesis, AFHQ)."""

    def __init__(self, z_dim: int, size: int, width: int) -> None:
        super().__init__()
        k0 = 4 if size == 64 else 8  # the first layer makes 4x4 (64px) or 8x8 (128px); then four doublings
        chans = [width * 8, width * 4, width * 2, width]
        layers: list[nn.Module] = [nn.ConvTranspose2d(z_dim, chans[0], k0, 1, 0, bias=False), nn.BatchNorm2d(chans[0]), nn.LeakyReLU(0.2)]
        for a, b in zip(chans, chans[1:]):
            layers += [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.LeakyReLU(0.2)]
        layers += [nn.ConvTranspose2d(chans[-1], 3, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z[:, :, None, None])


class AFHQDiscriminator(nn.Module):
    """3 x size x size -> 5 convolutions -> one logit, LeakyReLU(0.2) between (thesis, AFHQ)."""

    def __init__(self, size: int, width: int) -> None:
        super().__init__()
        chans = [width, width * 2, width * 4, width * 8]
        layers: list[nn.Module] = [nn.Conv2d(3, chans[0], 4, 2, 1), nn.LeakyReLU(0.2)]
        for a, b in zip(chans, chans[1:]):
            layers += [nn.Conv2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.LeakyReLU(0.2)]
        layers += [nn.Conv2d(chans[-1], 1, 4 if size == 64 else 8, 1, 0)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)


def build_afhq(*, z_dim: int = 100, image_size: int = 64, width: int = 64) -> tuple[nn.Module, nn.Module]:
    """The thesis's AFHQ cat DCGAN: 5 ConvTranspose layers in G, 5 Conv layers in D, LeakyReLU, z=100."""
    if image_size not in (64, 128):
        raise ValueError(f"image_size must be 64 or 128, got {image_size}")
    if not 4 <= width <= 512:
        raise ValueError(f"width must be in [4, 512], got {width}")
    G, D = AFHQGenerator(z_dim, image_size, width), AFHQDiscriminator(image_size, width)
    dcgan_init(G)
    dcgan_init(D)
    return G, D
