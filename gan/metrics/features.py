"""Feature networks for FID and KID.

- `InceptionPool3`: pytorch-fid's FID Inception-v3 (Heusel et al.'s TF weights, ported), 2048-d pool3 features.
  Its weights are not on any package registry; they load from a path, or from the torch hub cache where
  pytorch-fid keeps them (`~/.cache/torch/hub/checkpoints/pt_inception-2015-12-05-6726825d.pth`).
- `LeNetFID`: a LeNet-5-style classifier trained on the real images of the pipeline (on their labels, or, for
  unlabelled sets, on predicting which of four rotations was applied). Its 128-d penultimate layer is the feature
  space of "LeNet-FID": cheap, offline, sensitive to digit shape, and never comparable with Inception FIDs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gan.data import ImageSet, cache_dir
from gan.provenance import atomic_torch_save, atomic_write_json

FID_WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
FID_WEIGHTS_SHA256_PREFIX = "6726825d"
FID_WEIGHTS_URL = f"https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/{FID_WEIGHTS_FILE}"


class FeatureNet(nn.Module):
    """A frozen network mapping uint8 images [N, C, H, W] to float feature vectors [N, dim]."""

    name: str = "feature network"
    dim: int = 0

    @property
    def cache_key(self) -> str:
        return self.name

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


@contextlib.contextmanager
def _exact_fp32():
    """True fp32 on the GPU: cuDNN runs fp32 convolutions in TF32 (10-bit mantissa) by default, and features
    would then no longer match pytorch-fid's fp32 numbers to 1e-4. Restores the caller's settings."""
    old = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = old


@torch.no_grad()
def extract_features(net: FeatureNet, images: torch.Tensor, batch_size: int = 250) -> np.ndarray:
    """Features of uint8 images, in batches, on the network's device; float64 numpy [N, dim].

    The images stay uint8 until they are on the device (4x less to copy than floats, and no PIL or DataLoader
    round trip), and the network runs in true fp32 (see `_exact_fp32`)."""
    net.eval()
    dev = next(net.parameters()).device
    out = []
    with _exact_fp32():
        for i in range(0, len(images), batch_size):
            x = net.preprocess(images[i : i + batch_size].to(dev))
            out.append(net(x).double().cpu())
    return torch.cat(out).numpy()


# --- LeNet-FID ----------------------------------------------------------------------------------------------------


class LeNetFID(FeatureNet):
    dim = 128

    def __init__(self, channels: int, num_classes: int, name: str, key: str) -> None:
        super().__init__()
        self.name, self._key, self.channels = name, key, channels
        self.features = nn.Sequential(
            nn.Conv2d(channels, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),  # 14x14
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),  # 7x7
            nn.Flatten(), nn.Linear(64 * 7 * 7, self.dim), nn.ReLU(),
        )
        self.head = nn.Linear(self.dim, num_classes)

    @property
    def cache_key(self) -> str:
        return self._key

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        x = images.float() / 127.5 - 1.0
        if x.shape[1] != self.channels:
            x = x.mean(1, keepdim=True) if self.channels == 1 else x.expand(-1, self.channels, -1, -1)
        if x.shape[-1] != 28:
            x = F.interpolate(x, size=(28, 28), mode="bilinear", antialias=True, align_corners=False)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


def _rotations(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Self-supervised labels for unlabelled sets: each image in four rotations, labelled 0..3 (Gidaris et al. 2018)."""
    xs = [torch.rot90(images, k, dims=(2, 3)) for k in range(4)]
    ys = [torch.full((len(images),), k, dtype=torch.long) for k in range(4)]
    return torch.cat(xs), torch.cat(ys)


@contextlib.contextmanager
def _one_thread():
    """The weights of LeNet-FID (and so every LeNet-FID) must not depend on how many cores the process that trains it
    first happens to have: a reduction split over two threads sums in another order (measured: 1e-4 in the weights
    after one epoch). Restores the caller's thread count."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def lenet_key(data: ImageSet, epochs: int, seed: int) -> str:
    # v2: trained on one thread (v1 depended on the trainer's thread count)
    return f"lenet-fid-v2-{data.fingerprint()}-{epochs}-{seed}"


def _split(n: int, n_test: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """LeNet-FID's seeded split of n images: (held-out indices, training indices)."""
    perm = torch.randperm(n, generator=g)
    return perm[:n_test], perm[n_test:]


def heldout_indices(info: dict) -> torch.Tensor:
    """The indices of the real images a labelled set's LeNet-FID never trained on, from the `info` it came with: its
    samples are new digits, so these, not its training digits, are the fair reference for the digit metrics."""
    if info.get("task") != "classifier":
        raise ValueError(f"{info.get('name')}: held-out digits exist only for a LeNet-FID classifier")
    n = int(info["train_images"]) + int(info["heldout_images"])
    return _split(n, int(info["heldout_images"]), torch.Generator().manual_seed(int(info["seed"])))[0]


def train_lenet_fid(data: ImageSet, *, epochs: int = 6, seed: int = 0, holdout: float = 0.1,
                    progress: bool = False) -> tuple[LeNetFID, dict[str, float | int | str]]:
    """Train LeNet-FID on `data` (a seeded 90/10 split) and report its held-out accuracy."""
    labelled = data.labels is not None
    images, labels = (data.images, data.labels) if labelled else _rotations(data.images)
    num_classes = data.num_classes if labelled else 4
    task = "classifier" if labelled else "rotation-prediction (self-supervised)"
    key = lenet_key(data, epochs, seed)
    name = f"LeNet-FID ({task} on {data.name})"
    g = torch.Generator().manual_seed(seed)
    # one thread, and the caller's RNG stream left untouched
    with _one_thread(), torch.random.fork_rng():
        torch.manual_seed(seed)
        net = LeNetFID(data.images.shape[1], num_classes, name, key)
        test, tr = _split(len(images), max(1, int(len(images) * holdout)), g)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        net.train()
        for _ in range(epochs):
            order = tr[torch.randperm(len(tr), generator=g)]
            for i in range(0, len(order), 128):
                idx = order[i : i + 128]
                loss = F.cross_entropy(net.head(net(net.preprocess(images[idx]))), labels[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        net.eval()
        with torch.no_grad():
            pred = torch.cat([net.head(net(net.preprocess(images[test[i:i + 500]]))).argmax(1) for i in range(0, len(test), 500)])
    acc = float((pred == labels[test]).float().mean())
    info = {"name": net.name, "task": task, "train_images": int(len(tr)), "heldout_images": int(len(test)),
            "heldout_accuracy": acc, "epochs": epochs, "seed": seed}
    for p in net.parameters():
        p.requires_grad_(False)
    return net, info


def lenet_fid_network(data: ImageSet, *, epochs: int = 6, seed: int = 0, cache: Path | None = None) -> tuple[LeNetFID, dict]:
    """LeNet-FID for `data`, trained once and cached on disk (keyed by the data's content, epochs and seed)."""
    key = lenet_key(data, epochs, seed)
    d = Path(cache or cache_dir())
    w, meta = d / f"{key}.pt", d / f"{key}.json"
    if w.exists() and meta.exists():
        info = json.loads(meta.read_text())
        labelled = data.labels is not None
        net = LeNetFID(data.images.shape[1], data.num_classes if labelled else 4, info["name"], key)
        try:
            net.load_state_dict(torch.load(w, weights_only=True))
            for p in net.parameters():
                p.requires_grad_(False)
            return net.eval(), info
        except Exception:
            pass  # a torn cache entry is retrained
    net, info = train_lenet_fid(data, epochs=epochs, seed=seed)
    atomic_torch_save(net.state_dict(), w)
    atomic_write_json(meta, info)
    return net, info


# --- Inception-v3 pool3 (pytorch-fid) -----------------------------------------------------------------------------


def find_inception_weights(path: str | Path | None = None) -> Path | None:
    """The pytorch-fid weights file: `path` if given (it must exist), else the torch hub cache, else None."""
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise FileNotFoundError(
                f"Inception weights {p} not found. Download {FID_WEIGHTS_URL} and give its path.")
        return p
    p = hub_weights_file()
    return p if p.is_file() else None


def hub_weights_file() -> Path:
    """Where pytorch-fid keeps its weights, and where `gan.metrics.weights` downloads them: the torch hub cache."""
    return Path(torch.hub.get_dir()) / "checkpoints" / FID_WEIGHTS_FILE


def fid_inception_v3(init_weights: bool = False) -> nn.Module:
    """pytorch-fid's FID Inception-v3 architecture (torchvision's Inception-v3 with its FID blocks), no weights:
    what `pytorch_fid.inception.fid_inception_v3` builds before it downloads."""
    import torchvision
    from pytorch_fid.inception import FIDInceptionA, FIDInceptionC, FIDInceptionE_1, FIDInceptionE_2

    net = torchvision.models.inception_v3(weights=None, aux_logits=False, num_classes=1008, init_weights=init_weights)
    net.Mixed_5b = FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = FIDInceptionE_1(1280)
    net.Mixed_7c = FIDInceptionE_2(2048)
    return net


def write_standin_inception_weights(path: str | Path, *, seed: int = 0, passes: int = 3, batch: int = 8) -> Path:
    """A random-init FID Inception state dict, for offline tests and speed benchmarks only - never for a reported
    FID. Fresh weights give pool3 features of about 1e-8 (notes/offline-data.md), so the batch norms' statistics are
    re-estimated from noise images (cumulative average over `passes` train-mode passes) to make features vary."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = fid_inception_v3(init_weights=True)
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.reset_running_stats()
                m.momentum = None
        net.train()
        with torch.no_grad():
            for _ in range(passes):
                net(torch.rand(batch, 3, 299, 299) * 2 - 1)
    path = Path(path)
    atomic_torch_save(net.eval().state_dict(), path)
    return path


class InceptionPool3(FeatureNet):
    """pytorch-fid's InceptionV3 up to the 2048-d pool3 block, built without any download."""

    dim = 2048

    def __init__(self, weights: str | Path) -> None:
        super().__init__()
        net = fid_inception_v3()
        state = torch.load(weights, map_location="cpu", weights_only=True)
        net.load_state_dict(state)
        self.blocks = nn.Sequential(
            net.Conv2d_1a_3x3, net.Conv2d_2a_3x3, net.Conv2d_2b_3x3, nn.MaxPool2d(3, 2),
            net.Conv2d_3b_1x1, net.Conv2d_4a_3x3, nn.MaxPool2d(3, 2),
            net.Mixed_5b, net.Mixed_5c, net.Mixed_5d, net.Mixed_6a, net.Mixed_6b, net.Mixed_6c, net.Mixed_6d,
            net.Mixed_6e, net.Mixed_7a, net.Mixed_7b, net.Mixed_7c, nn.AdaptiveAvgPool2d(1),
        )
        self.sha256 = digest = hashlib.sha256(Path(weights).read_bytes()).hexdigest()
        # pytorch-fid's file carries its hash's first 8 hex digits in its name; any other file is named as what it is
        self.name = ("Inception-v3 pool3 (pytorch-fid weights)" if digest.startswith(FID_WEIGHTS_SHA256_PREFIX)
                     else f"Inception-v3 pool3 (stand-in weights {digest[:8]}, not pytorch-fid's)")
        self._key = f"inception-pool3-{digest[:12]}"
        for p in self.parameters():
            p.requires_grad_(False)
        # channels_last: the same maths, in the memory layout that oneDNN (CPU) and cuDNN (GPU) convolve fastest
        # (on this CPU too: benchmarks/RESULTS.md; benchmarks/fid_speed.py checks features against pytorch-fid).
        self.to(memory_format=torch.channels_last)
        self.eval()

    @property
    def cache_key(self) -> str:
        return self._key

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """As pytorch-fid: [0, 1] -> bilinear resize to 299 (align_corners=False) -> [-1, 1]; grey -> RGB."""
        x = images.float() / 255.0
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        return (2 * x - 1).contiguous(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x).flatten(1)


def feature_network(kind: str, data: ImageSet, *, inception_weights: str | Path | None = None,
                    cache: Path | None = None) -> tuple[FeatureNet, dict]:
    """The feature network an experiment scores in: 'inception', 'lenet', or 'auto' (Inception if its weights
    are on the machine, else LeNet-FID). Returns the network and a description for the manifest."""
    if kind not in ("auto", "inception", "lenet"):
        raise ValueError(f"feature network must be 'auto', 'inception' or 'lenet', got {kind!r}")
    if kind in ("auto", "inception"):
        w = find_inception_weights(inception_weights)
        if w is not None:
            net = InceptionPool3(w)
            return net, {"name": net.name, "weights": str(w)}
        if kind == "inception":
            raise FileNotFoundError(
                f"Inception weights not found in the torch hub cache ({hub_weights_file()}). "
                f"Download them from {FID_WEIGHTS_URL}, or set fid.inception_weights, "
                "or use fid.network: lenet.")
    return lenet_fid_network(data, cache=cache)
