"""Pilot-only models: layouts of the CIFAR-10 study's DCGAN 2 (no normalisation, tanh output) that the library does
not build, asked only whether some other layout of "DCGAN 2" learns the colour stand-in's colours.

`pilot.py` adds these to the model registry for its own process, so a pilot's config names them as it names any
model (`"model": "pilot_keras_dcgan"`); the workflow and the book never see them.

- `pilot_keras_dcgan`: the layout of the Keras CIFAR-10 GAN that tutorials of the study's time teach, with
  no normalisation anywhere: G projects z to 4w x 4 x 4, three 4x4 stride-2 transposed convolutions keep 2w channels
  (4 -> 8 -> 16 -> 32), and a 3x3 convolution makes the 3 channels (tanh); D has a 3x3 stride-1 convolution of w
  channels, then three 3x3 stride-2 ones (2w, 2w, 4w), LeakyReLU(0.2) throughout, dropout 0.4 before its linear
  layer; Keras's Glorot-uniform weights. The seed never prints its layers (gan/models/cifar.py), so this is as
  close to the study as the library's layout.
- `pilot_he_dcgan`: the library's DCGAN 2 (`cifar_dcgan`, tanh, no normalisation) with G's weights drawn to keep the
  signal's variance through LeakyReLU(0.2) (He et al. 2015), instead of N(0, 0.02), under which G's output hardly
  depends on z at the start: does a G that starts out varying with z keep its samples' colours apart?
"""

from __future__ import annotations

from torch import nn

from gan.models.cifar import build_dcgan
from gan.models.init import INITS


class _TutorialGenerator(nn.Module):
    def __init__(self, z_dim: int, width: int) -> None:
        super().__init__()
        self.num_classes, self.w = 0, width
        self.project = nn.Sequential(nn.Linear(z_dim, 4 * width * 16), nn.LeakyReLU(0.2))
        layers: list[nn.Module] = []
        for a in (4 * width, 2 * width, 2 * width):
            layers += [nn.ConvTranspose2d(a, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2)]
        self.body = nn.Sequential(*layers, nn.Conv2d(2 * width, 3, 3, 1, 1), nn.Tanh())

    def forward(self, z, y=None):
        return self.body(self.project(z).view(-1, 4 * self.w, 4, 4))


class _TutorialDiscriminator(nn.Module):
    def __init__(self, width: int, dropout: float) -> None:
        super().__init__()
        self.num_classes = 0
        layers: list[nn.Module] = [nn.Conv2d(3, width, 3, 1, 1), nn.LeakyReLU(0.2)]
        for a, b in ((width, 2 * width), (2 * width, 2 * width), (2 * width, 4 * width)):
            layers += [nn.Conv2d(a, b, 3, 2, 1), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers, nn.Flatten(), nn.Dropout(dropout), nn.Linear(4 * width * 16, 1))

    def forward(self, x, y=None):
        return self.net(x).view(-1)


def build_keras_tutorial_dcgan(*, z_dim: int = 128, width: int = 16, d_dropout: float = 0.4) -> tuple[nn.Module, nn.Module]:
    G, D = _TutorialGenerator(z_dim, width), _TutorialDiscriminator(width, d_dropout)
    INITS["keras"](G)
    INITS["keras"](D)
    return G, D


def build_he_dcgan(*, z_dim: int = 128, width: int = 16) -> tuple[nn.Module, nn.Module]:
    G, D = build_dcgan(z_dim=z_dim, width=width)
    for m in G.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            # inputs per output: a linear layer's in-features; a 4x4 stride-2 transposed convolution's in-channels x 4
            fan_in = m.weight.shape[1] if isinstance(m, nn.Linear) else m.weight.shape[0] * 4
            nn.init.normal_(m.weight, 0.0, (2 / (1 + 0.2 ** 2) / fan_in) ** 0.5)
    return G, D


PILOT_MODELS = {"pilot_keras_dcgan": build_keras_tutorial_dcgan, "pilot_he_dcgan": build_he_dcgan}
