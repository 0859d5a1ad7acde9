"""The CIFAR-10 study's GANs (seeds/cifar10-gan-study.txt): a 32x32 DCGAN in the variants of its models 1-4,
the conditional DCGAN, the SN-CGAN, and the WGAN-GP critic.

The seed never prints its layers, only what changed between models, so one 32x32 DCGAN carries every change as
a switch and the study varies one at a time:

- G: z -> linear -> 4w x 4 x 4 -> three 4x4 stride-2 transposed convolutions (4 -> 8 -> 16 -> 32) -> tanh
  (pixels in [-1, 1]) or sigmoid ([0, 1], model 1); batch norm in G (`g_norm`, model 3 on); LeakyReLU(0.2) or
  ReLU between layers (`g_act`, model 4 uses ReLU after Radford et al.).
- D: three 4x4 stride-2 convolutions (32 -> 16 -> 8 -> 4), LeakyReLU(0.2), then a linear layer to one logit;
  spectral norm on every weight layer (`spectral`, Miyato et al. 2018; model 3 on), optional batch norm and
  dropout (the SN-CGAN's regularisers).
- Conditional models (`cifar_cgan`): the label goes into G as a one-hot vector concatenated to z, and into D as
  ten constant label maps concatenated to the image, so G's first layer takes z_dim + 10 inputs and D's first
  convolution 3 + 10 channels - the seed's "138 13" (latent_dim 128 + 10 classes; 3 channels + 10 classes).
- `cifar_wgan_gp`: the same G with a critic that has no batch norm, no spectral norm and no dropout: the
  gradient penalty (Gulrajani et al. 2017) is a per-sample constraint that batch norm would couple across the
  batch, and the penalty replaces spectral norm's Lipschitz control.

Weights start as Radford et al.'s N(0, 0.02) (`init="dcgan"`); `init="keras"` gives Keras's defaults (Glorot-uniform,
zero biases), which the study's TensorFlow code would have had. Pilots tried it on the models without normalisation; the
study runs with the DCGAN init, which they gave no reason to change (pilots/README.md).

The seed's SN-CGAN batch norm uses Keras's momentum 0.8 and epsilon 1e-5; Keras's momentum is the weight of the
old running average, PyTorch's the weight of the new batch, so Keras 0.8 is `bn_momentum=0.2` here.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from gan.models.init import INITS
from torch.nn.utils.parametrizations import spectral_norm

Norm = Literal["none", "batch"]
Act = Literal["leaky", "relu"]
Out = Literal["tanh", "sigmoid"]
Init = Literal["dcgan", "keras"]


def _act(kind: str) -> nn.Module:
    return nn.LeakyReLU(0.2) if kind == "leaky" else nn.ReLU()


class CifarGenerator(nn.Module):
    """z (and a label) -> 3 x 32 x 32. `num_classes` > 0 makes it conditional: forward(z, y)."""

    def __init__(self, z_dim: int, width: int, g_norm: str, g_act: str, out: str, num_classes: int,
                 bn_momentum: float, bn_eps: float, channels: int = 3) -> None:
        super().__init__()
        self.num_classes, self.w = num_classes, width
        c = [4 * width, 2 * width, width]
        bn = g_norm == "batch"

        def norm1d(n: int) -> list[nn.Module]:
            return [nn.BatchNorm1d(n, momentum=bn_momentum, eps=bn_eps)] if bn else []

        def norm2d(n: int) -> list[nn.Module]:
            return [nn.BatchNorm2d(n, momentum=bn_momentum, eps=bn_eps)] if bn else []

        self.project = nn.Sequential(nn.Linear(z_dim + num_classes, c[0] * 16, bias=not bn), *norm1d(c[0] * 16), _act(g_act))
        layers: list[nn.Module] = []
        for a, b in zip(c, c[1:]):
            layers += [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=not bn), *norm2d(b), _act(g_act)]
        layers += [nn.ConvTranspose2d(c[-1], channels, 4, 2, 1), nn.Tanh() if out == "tanh" else nn.Sigmoid()]
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.num_classes:
            if y is None:
                raise ValueError("this generator is conditional: call G(z, y) with labels y")
            z = torch.cat([z, F.one_hot(y, self.num_classes).to(z.dtype)], 1)
        return self.body(self.project(z).view(-1, 4 * self.w, 4, 4))


class CifarDiscriminator(nn.Module):
    """3 x 32 x 32 (and a label) -> one logit. Label maps are concatenated to the image as extra channels."""

    def __init__(self, width: int, d_norm: str, dropout: float, num_classes: int, bn_momentum: float,
                 bn_eps: float, channels: int = 3) -> None:
        super().__init__()
        self.num_classes = num_classes
        c = [width, 2 * width, 4 * width]
        layers: list[nn.Module] = [nn.Conv2d(channels + num_classes, c[0], 4, 2, 1), nn.LeakyReLU(0.2)]
        if dropout:
            layers.append(nn.Dropout(dropout))
        for a, b in zip(c, c[1:]):
            layers.append(nn.Conv2d(a, b, 4, 2, 1))
            if d_norm == "batch":
                layers.append(nn.BatchNorm2d(b, momentum=bn_momentum, eps=bn_eps))
            layers.append(nn.LeakyReLU(0.2))
            if dropout:
                layers.append(nn.Dropout(dropout))
        layers += [nn.Flatten(), nn.Linear(c[-1] * 16, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.num_classes:
            if y is None:
                raise ValueError("this discriminator is conditional: call D(x, y) with labels y")
            maps = F.one_hot(y, self.num_classes).to(x.dtype)[:, :, None, None].expand(-1, -1, *x.shape[2:])
            x = torch.cat([x, maps], 1)
        return self.net(x).view(-1)


def _check(width: int, g_norm: str, g_act: str, out: str, d_norm: str, dropout: float, bn_momentum: float,
           bn_eps: float, init: str) -> None:
    if not 4 <= width <= 512:
        raise ValueError(f"width must be in [4, 512], got {width}")
    for name, v, ok in (("g_norm", g_norm, ("none", "batch")), ("g_act", g_act, ("leaky", "relu")),
                        ("out", out, ("tanh", "sigmoid")), ("d_norm", d_norm, ("none", "batch")),
                        ("init", init, tuple(INITS))):
        if v not in ok:
            raise ValueError(f"{name} must be one of {', '.join(map(repr, ok))}, got {v!r}")
    if not 0 <= dropout < 1:
        raise ValueError(f"d_dropout must be in [0, 1), got {dropout}")
    if not 0 < bn_momentum <= 1 or not 0 < bn_eps < 1:
        raise ValueError(f"bn_momentum must be in (0, 1] and bn_eps in (0, 1), got {bn_momentum}, {bn_eps}")


def _pair(z_dim: int, num_classes: int, width: int, g_norm: str, g_act: str, out: str, spectral: bool, d_norm: str,
          d_dropout: float, bn_momentum: float, bn_eps: float, init: str) -> tuple[nn.Module, nn.Module]:
    _check(width, g_norm, g_act, out, d_norm, d_dropout, bn_momentum, bn_eps, init)
    G = CifarGenerator(z_dim, width, g_norm, g_act, out, num_classes, bn_momentum, bn_eps)
    D = CifarDiscriminator(width, d_norm, d_dropout, num_classes, bn_momentum, bn_eps)
    INITS[init](G)
    INITS[init](D)
    if spectral:  # after the init: spectral_norm estimates each weight's top singular vectors when it wraps it
        for m in D.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                spectral_norm(m)
    return G, D


def build_dcgan(*, z_dim: int = 128, width: int = 64, g_norm: Norm = "none", g_act: Act = "leaky", out: Out = "tanh",
                spectral: bool = False, d_norm: Norm = "none", d_dropout: float = 0.0, bn_momentum: float = 0.1,
                bn_eps: float = 1e-5, init: Init = "dcgan") -> tuple[nn.Module, nn.Module]:
    """The study's unconditional 32x32 DCGAN (models 1-4 are settings of these switches)."""
    return _pair(z_dim, 0, width, g_norm, g_act, out, spectral, d_norm, d_dropout, bn_momentum, bn_eps, init)


def build_cgan(*, z_dim: int = 128, num_classes: int = 10, width: int = 64, g_norm: Norm = "batch", g_act: Act = "leaky",
               out: Out = "tanh", spectral: bool = False, d_norm: Norm = "none", d_dropout: float = 0.0,
               bn_momentum: float = 0.1, bn_eps: float = 1e-5, init: Init = "dcgan") -> tuple[nn.Module, nn.Module]:
    """The conditional DCGAN and SN-CGAN: labels into G (one-hot, concatenated to z) and into D (label maps)."""
    if not 2 <= num_classes <= 1000:
        raise ValueError(f"num_classes must be in [2, 1000], got {num_classes}")
    return _pair(z_dim, num_classes, width, g_norm, g_act, out, spectral, d_norm, d_dropout, bn_momentum, bn_eps, init)


def build_wgan_gp(*, z_dim: int = 128, width: int = 64, g_norm: Norm = "batch", g_act: Act = "relu",
                  out: Out = "tanh", init: Init = "dcgan") -> tuple[nn.Module, nn.Module]:
    """WGAN-GP: the DCGAN generator and a critic with no batch norm, spectral norm or dropout (train it with
    loss 'wgan_gp' and several critic steps per generator step)."""
    return _pair(z_dim, 0, width, g_norm, g_act, out, False, "none", 0.0, 0.1, 1e-5, init)

