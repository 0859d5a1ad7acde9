"""The thesis's augmentations as torchvision transforms, built from the presets in `gan.data.catalog`."""

from __future__ import annotations

from functools import cache

import torch
from torchvision.transforms import v2

from gan.data.catalog import AUGMENTATIONS


@cache
def transform(name: str) -> v2.Transform | None:
    a = AUGMENTATIONS[name]
    steps: list[v2.Transform] = []
    if a.rotation_degrees:
        steps.append(v2.RandomRotation(degrees=a.rotation_degrees))
    if a.shift_fraction:
        steps.append(v2.RandomAffine(degrees=0, translate=(a.shift_fraction, a.shift_fraction)))
    if a.flip_p:
        steps.append(v2.RandomHorizontalFlip(p=a.flip_p))
    return None if not steps else steps[0] if len(steps) == 1 else v2.Compose(steps)


def augment(images: torch.Tensor, name: str) -> torch.Tensor:
    """Apply the named augmentation to each uint8 image independently (torch's global RNG draws the
    parameters, so a seeded run repeats exactly and a checkpoint's RNG state resumes it exactly)."""
    t = transform(name)
    if t is None:
        return images
    return torch.stack([t(img) for img in images])
