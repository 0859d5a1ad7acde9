"""The registry of loaders (every data set of the catalogue has one) and `load_dataset`, the one way in."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from gan.config import DataConfig
from gan.data import faces, loaders
from gan.data.catalog import DATASETS, missing_files
from gan.data.images import ImageSet
from gan.data.loaders import DataUnavailable

LOADERS: dict[str, Callable[[DataConfig], ImageSet]] = {
    "mnist5k": loaders.load_mnist5k,
    "digits": loaders.load_digits,
    "mnist": loaders.load_mnist,
    "cifar10": loaders.load_cifar10,
    "colour_mnist5k": loaders.load_colour_mnist5k,
    "folder": loaders.load_folder,
    "afhq_cat": loaders.load_afhq_cat,
    "photo_patches": loaders.load_photo_patches,
    "faces_standin_raw": faces.load_faces_standin_raw,
    "faces_standin_preprocessed": faces.load_faces_standin_preprocessed,
}
assert set(LOADERS) == set(DATASETS), "every data set of the catalogue has a loader"


def load_dataset(cfg: DataConfig) -> ImageSet:
    """Load, shuffle-limit, resize and convert channels as the config says."""
    if not isinstance(cfg, DataConfig):
        raise TypeError(f"load_dataset takes a parsed DataConfig, got {type(cfg).__name__}: parse it where it enters")
    s = LOADERS[cfg.name](cfg)
    if cfg.limit is not None and cfg.limit < len(s):
        s = s.subset(slice(0, cfg.limit))
    images = s.images
    if cfg.channels is not None and cfg.channels != images.shape[1]:
        images = images.expand(-1, 3, -1, -1).contiguous() if cfg.channels == 3 else (
            images.float().mean(1, keepdim=True).round().to(torch.uint8))
    if cfg.image_size is not None and cfg.image_size != images.shape[-1] and not DATASETS[cfg.name].folder \
            and cfg.name != "photo_patches":  # folders and patches are read at their size
        images = F.interpolate(images.float(), size=(cfg.image_size,) * 2, mode="bilinear", antialias=True,
                               align_corners=False).round().clamp(0, 255).to(torch.uint8)
    return ImageSet(s.name, images, s.labels, s.num_classes, s.standin_for)


def check_available(cfg: DataConfig) -> None:
    """Raise DataUnavailable, with how to get the data, if loading `cfg` would fail for want of files."""
    problem = missing_files(cfg)
    if problem:
        raise DataUnavailable(problem)
