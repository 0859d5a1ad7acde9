"""Weight initialisation shared by the DCGAN-style models."""

from __future__ import annotations

from torch import nn


def dcgan_init(m: nn.Module) -> None:
    """Radford et al. 2015: conv weights ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02)."""
    for mod in m.modules():
        if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(mod.weight, 0.0, 0.02)
            if mod.bias is not None:
                nn.init.zeros_(mod.bias)
        elif isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(mod.weight, 1.0, 0.02)
            nn.init.zeros_(mod.bias)


def keras_init(m: nn.Module) -> None:
    """Keras's defaults: Glorot-uniform weights and zero biases for Dense, Conv2D and Conv2DTranspose; batch-norm
    scales 1 and shifts 0. (Glorot depends on fan-in + fan-out only, so PyTorch's swapped fans for transposed
    convolutions give Keras's bound.)"""
    for mod in m.modules():
        if isinstance(mod, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.xavier_uniform_(mod.weight)
            if mod.bias is not None:
                nn.init.zeros_(mod.bias)
        elif isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.ones_(mod.weight)
            nn.init.zeros_(mod.bias)


INITS = {"dcgan": dcgan_init, "keras": keras_init}
