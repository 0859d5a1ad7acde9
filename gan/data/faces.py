"""A raw image folder, the preprocessing pipeline that cleans it, and an offline stand-in for a face folder.

The anime-face study (seeds/anime-faces-gan.txt) found that preprocessing the data (crop, align, resize,
normalise) mattered more than the model. A real face folder needs the user's copy, so smoke and mnist5k use a
stand-in made deterministically from MNIST-5k, named as a stand-in wherever its numbers appear:

- **raw** ("Faces stand-in: raw"): each digit pasted into a larger canvas of random size and aspect ratio, at a
  random position, scale and rotation, with random brightness and contrast, a brightness gradient and noise -
  the analogue of scraped pictures in which the face is somewhere, at some size, at some angle, in some light;
- **preprocessed**: `preprocess_folder` applied to the raw folder's PNG files: subtract the background, crop to
  the content, align its principal axis, resize into a 20x20 box, centre it by its centre of mass in 28x28, and
  stretch its contrast. That is MNIST's own recipe (LeCun et al. 1998) and the analogue of detecting, aligning
  and cropping a face: the pipeline sees only pixels, never the parameters that made the raw image.

Both folders are PNG files read through the real image-folder loader (`gan.data.loaders.load_folder`), so the stand-in
exercises the same code path as a user's folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from gan.config import DataConfig
from gan.data.catalog import DATASETS, IMAGE_SUFFIXES, cache_dir
from gan.data.images import ImageSet
from gan.data.loaders import load_folder, load_mnist5k

STANDIN_VERSION = "v1"
RAW_NAME = DATASETS["faces_standin_raw"].title
PREPROCESSED_NAME = DATASETS["faces_standin_preprocessed"].title


# --- the raw stand-in --------------------------------------------------------------------------------------------------


def raw_canvas(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One raw picture: a 28x28 uint8 digit at a random scale, rotation and place in a noisy canvas of random size."""
    scale = rng.uniform(0.8, 1.8)
    angle = rng.uniform(-35.0, 35.0)
    size = max(8, round(28 * scale))
    d = Image.fromarray(digit).resize((size, size), Image.BICUBIC).rotate(angle, Image.BICUBIC, expand=True)
    d = np.asarray(d, dtype=np.float64) / 255.0
    h = int(rng.integers(max(40, d.shape[0] + 4), 97))
    w = int(rng.integers(max(40, d.shape[1] + 4), 97))
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    g = rng.uniform(-1, 1, 2)
    background = rng.uniform(0, 90) + rng.uniform(0, 50) * (g[0] * yy + g[1] * xx)  # light level and gradient
    canvas = background + rng.normal(0, rng.uniform(4, 22), (h, w))
    top, left = int(rng.integers(0, h - d.shape[0] + 1)), int(rng.integers(0, w - d.shape[1] + 1))
    ink = rng.uniform(0.45, 1.0) * (255 - background.max())  # contrast of the content against its light
    canvas[top : top + d.shape[0], left : left + d.shape[1]] += ink * d
    return np.clip(canvas, 0, 255).round().astype(np.uint8)


def write_raw_folder(dst: Path, source: ImageSet, seed: int = 0) -> None:
    """Write one raw PNG per image of `source` (single-channel) into `dst`, deterministically from `seed`."""
    dst.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i, img in enumerate(source.images[:, 0].numpy()):
        Image.fromarray(raw_canvas(img, rng)).save(dst / f"{i:05d}.png", optimize=False)


# --- the preprocessing pipeline ------------------------------------------------------------------------------------------


def content_mask(a: np.ndarray) -> np.ndarray:
    """Foreground pixels of a grey image: background (median) removed, smoothed, Otsu-thresholded, small specks dropped."""
    x = a.astype(np.float64) - np.median(a)
    x = ndimage.gaussian_filter(np.clip(x, 0, None), 1.0)
    t = _otsu(x)
    mask = x > t
    labels, n = ndimage.label(mask)
    if n > 1:
        sizes = ndimage.sum(mask, labels, range(1, n + 1))
        mask = np.isin(labels, 1 + np.flatnonzero(sizes >= 0.15 * sizes.max()))
    return mask


def _otsu(x: np.ndarray, bins: int = 128) -> float:
    hist, edges = np.histogram(x, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centres) / np.maximum(w0, 1)
    m1 = ((hist * centres).sum() - np.cumsum(hist * centres)) / np.maximum(w1, 1)
    return float(centres[np.argmax(w0 * w1 * (m0 - m1) ** 2)])


def principal_angle(weights: np.ndarray) -> tuple[float, float]:
    """Angle (degrees, from vertical) of the principal axis of a non-negative image, and its elongation (>= 1)."""
    yy, xx = np.mgrid[0 : weights.shape[0], 0 : weights.shape[1]]
    m = weights.sum()
    if m <= 0:
        return 0.0, 1.0
    cy, cx = (weights * yy).sum() / m, (weights * xx).sum() / m
    cov = np.cov(np.stack([(yy - cy).ravel(), (xx - cx).ravel()]), aweights=weights.ravel())
    ev, vec = np.linalg.eigh(cov)
    vy, vx = vec[:, 1]  # the long axis
    angle = np.degrees(np.arctan2(vx, vy))
    angle = (angle + 90) % 180 - 90  # an axis has no sign: fold into [-90, 90)
    return float(angle), float(np.sqrt(ev[1] / max(ev[0], 1e-9)))


def preprocess_steps(a: np.ndarray, size: int = 28, box: int = 20, align: bool = True) -> list[tuple[str, np.ndarray]]:
    """The pipeline on one grey image, stage by stage: background removed and content masked, aligned, cropped to
    content, resized into a `box` square and centred by its centre of mass in `size` x `size` with its contrast
    stretched. The last stage is the result (uint8); the others are float images, for figures."""
    x = np.clip(a.astype(np.float64) - np.median(a), 0, None)  # background light removed
    mask = content_mask(a)
    if not mask.any():
        mask = np.ones_like(mask)
    x = np.where(ndimage.binary_dilation(mask, iterations=2), x, 0.0)  # only the content, not the noise around it
    steps = [("content", x)]
    if align:
        angle, elongation = principal_angle(x)
        if elongation > 1.3:  # round content has no reliable axis: leave it as it is
            x = ndimage.rotate(x, -angle, reshape=True, order=1)
        steps.append(("aligned", x))
    ys, xs = np.nonzero(x > 0.2 * x.max())
    x = x[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    steps.append(("cropped", x))
    s = box / max(x.shape)
    h, w = max(1, round(x.shape[0] * s)), max(1, round(x.shape[1] * s))
    x = np.clip(np.asarray(Image.fromarray((255 * x / x.max()).astype(np.float32)).resize((w, h), Image.BILINEAR)), 0, None)
    out = np.zeros((size, size))
    cy, cx = ndimage.center_of_mass(x)
    top, left = int(round(size / 2 - cy - 0.5)), int(round(size / 2 - cx - 0.5))
    top, left = min(max(top, 0), size - h), min(max(left, 0), size - w)
    out[top : top + h, left : left + w] = x
    steps.append(("resized, centred, normalised", np.clip(255 * out / max(out.max(), 1e-9), 0, 255).round().astype(np.uint8)))
    return steps


def preprocess_image(a: np.ndarray, size: int = 28, box: int = 20, align: bool = True) -> np.ndarray:
    """Crop to content, align, resize into a `box` square, centre by centre of mass in `size`, stretch contrast."""
    return preprocess_steps(a, size, box, align)[-1][1]


def content_offset(a: np.ndarray) -> tuple[float, float]:
    """Where the content is: the distance of its centre of mass from the image centre, and the share of the image
    its bounding box covers (both as fractions of the image size). A measure, not a step of the pipeline."""
    m = content_mask(a)
    if not m.any():
        return float("nan"), float("nan")
    cy, cx = ndimage.center_of_mass(m)
    h, w = a.shape
    ys, xs = np.nonzero(m)
    return (float(np.hypot((cy + 0.5) / h - 0.5, (cx + 0.5) / w - 0.5)),
            float((np.ptp(ys) + 1) * (np.ptp(xs) + 1) / (h * w)))


def preprocess_folder(src: Path, dst: Path, size: int = 28) -> int:
    """Apply `preprocess_image` to every image under `src` (grey), writing PNGs of the same names under `dst`."""
    files = sorted(p for p in Path(src).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    dst.mkdir(parents=True, exist_ok=True)
    for f in files:
        with Image.open(f) as im:
            a = np.asarray(im.convert("L"))
        out = dst / f.relative_to(src).with_suffix(".png")
        out.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(preprocess_image(a, size)).save(out)
    return len(files)


# --- the stand-in folders, made once and loaded as image folders ------------------------------------------------------


def _publish(tmp: Path, final: Path) -> None:
    """Move a finished folder into place; if another job got there first, keep theirs (same content)."""
    try:
        os.rename(tmp, final)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)


def standin_folders(root: str | Path | None = None, limit: int | None = None) -> tuple[Path, Path]:
    """The raw and preprocessed stand-in folders (made on first use, atomically, from MNIST-5k, or from its first
    `limit` digits in a folder of their own)."""
    name = f"faces-standin-{STANDIN_VERSION}" + (f"-n{limit}" if limit else "")
    base = Path(root).expanduser() / name if root else cache_dir() / name
    raw, prep = base / "raw", base / "preprocessed"
    base.mkdir(parents=True, exist_ok=True)
    if not raw.is_dir():
        tmp = base / f".raw.tmp{os.getpid()}"
        digits = load_mnist5k(DataConfig())
        write_raw_folder(tmp, digits.subset(slice(0, limit)) if limit else digits, seed=0)
        _publish(tmp, raw)
    if not prep.is_dir():
        tmp = base / f".preprocessed.tmp{os.getpid()}"
        preprocess_folder(raw, tmp)
        _publish(tmp, prep)
    return raw, prep


def source_folder(cfg: DataConfig) -> Path:
    """The folder of image files behind a folder-based data config (a user's folder or a stand-in's)."""
    if cfg.name == "faces_standin_raw":
        return standin_folders(cfg.root, cfg.limit)[0]
    if cfg.name == "faces_standin_preprocessed":
        return standin_folders(cfg.root, cfg.limit)[1]
    if cfg.root is None:
        raise ValueError(f"data set {cfg.name!r} has no folder of image files")
    return Path(cfg.root).expanduser()


def load_standin(cfg: DataConfig, which: str) -> ImageSet:
    """Load the raw or preprocessed stand-in folder through the real image-folder loader (grey, 28x28 default).
    `root` is where the stand-in folders are made (default: the cache); `limit` makes only that many."""
    raw, prep = standin_folders(cfg.root, cfg.limit)
    folder = DataConfig(name="folder", root=str(raw if which == "raw" else prep), image_size=cfg.image_size or 28,
                        channels=cfg.channels or 1)
    s = load_folder(folder)
    ds = DATASETS["faces_standin_raw" if which == "raw" else "faces_standin_preprocessed"]
    return ImageSet(ds.title, s.images, None, 0, standin_for=ds.standin_for)


def load_faces_standin_raw(cfg: DataConfig) -> ImageSet:
    """Offline stand-in for a raw face folder: MNIST-5k digits in noisy canvases, as PNG files."""
    return load_standin(cfg, "raw")


def load_faces_standin_preprocessed(cfg: DataConfig) -> ImageSet:
    """The raw stand-in folder after the preprocessing pipeline (crop, align, resize, normalise)."""
    return load_standin(cfg, "preprocessed")
