"""Data: the catalogue of sets and augmentations, their loaders, the faces stand-in, and the batch order.

`load_dataset(DataConfig)` is the one way in: it picks the set's loader, then limits, resizes and converts
channels as the config says. Every set is a resident uint8 tensor (`ImageSet`). Modules, from the bottom up:
`catalog` (names, sizes, where each set comes from: no torch), `images` (ImageSet, pixels, cache), `loaders`,
`faces` (the face-folder stand-in and its preprocessing pipeline), `sets` (the registry of loaders and
`load_dataset`), `augmentations`, `diffaugment` (what D sees, in the training step), `batches`.

Importing the package imports no torch (the workflow and the registry of experiments read `gan.data.catalog` at
parse time); the names below load their module on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "AUGMENTATIONS": "catalog", "DATASETS": "catalog", "IMAGE_SUFFIXES": "catalog", "cache_dir": "catalog",
    "missing_files": "catalog",
    "ImageSet": "images", "to_float": "images", "to_uint8": "images",
    "DataUnavailable": "loaders", "read_image_folder": "loaders",
    "LOADERS": "sets", "load_dataset": "sets", "check_available": "sets",
    "augment": "augmentations", "diff_augment": "diffaugment", "BatchOrder": "batches",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'gan.data' has no attribute {name!r}")
    return getattr(importlib.import_module(f"gan.data.{_WHERE[name]}"), name)
