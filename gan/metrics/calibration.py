"""Calibrating a feature network's FID scale: what real images score against real images, and what known defects
cost. An FID is read against these numbers, never alone (the `feature_net` experiment writes them; the others read
them from its metrics.json with `load_calibration`).

The real set is split in two seeded halves: the reference is half A, the "samples" come from half B. Against it:
- the floor: n real images of half B, for each sample count n (5 draws each): no generator is expected below it;
- degradations of the same n real images: pixel noise (σ = 0.1, 0.3 of the pixel range), blur (σ = 1 px), only one
  or two classes (a collapse), and uniform noise images (no digit at all).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from gan.data import ImageSet, to_uint8
from gan.metrics.digits import digit_metrics
from gan.metrics.features import FeatureNet, extract_features
from gan.metrics.fid import fid_from_features
from gan.plots import image_grid
from gan.stats import Summary, summarize

# id -> label; the ids are what other experiments look up (e.g. "noise_0.1", the MNIST quality target)
SETS = {"real": "real (the floor)", "noise_0.1": "Gaussian pixel noise, σ = 0.1", "noise_0.3": "Gaussian pixel noise, σ = 0.3",
        "blur_1": "Gaussian blur, σ = 1 px", "classes_1": "only 1 class (mode collapse)",
        "classes_2": "only 2 classes (mode collapse)", "uniform_noise": "uniform noise images"}


@dataclass
class Calibration:
    n: int  # images per calibration set
    reference: int  # images in the reference half
    floor: dict[int, Summary]  # sample count -> real-vs-real FID over 5 draws
    fid: dict[str, float]  # calibration set id -> FID
    real_confident_share: float | None  # digit metrics of n real images (labelled sets with a classifier only)
    examples: dict[str, torch.Tensor] = field(default_factory=dict)  # 16 images of each set, for the figure
    # with `unseen` (the images the classifier never trained on): the confident share of those, how many there are,
    # and the share of the n real images above that the classifier did train on
    unseen_confident_share: float | None = None
    unseen_n: int = 0
    real_trained_share: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "reference": self.reference,
                "floor": {str(k): {"mean": v.mean, "std": v.std, "n": v.n} for k, v in self.floor.items()},
                "calibration": {SETS[k]: v for k, v in self.fid.items()}, "calibration_ids": self.fid,
                "real_confident_share": self.real_confident_share, "real_trained_share": self.real_trained_share,
                "unseen_confident_share": self.unseen_confident_share, "unseen_n": self.unseen_n}

    def floor_rows(self) -> list[dict[str, Any]]:
        return [{"samples": k, "reference images": self.reference, "FID, real vs real (mean ± std, 5 draws)": f"{v.mean:.2f} ± {v.std:.2f}"}
                for k, v in self.floor.items()]

    def rows(self) -> list[dict[str, Any]]:
        # against the reference half, not the whole set a run's health scores against (so uniform noise differs a little)
        return [{f"image set ({self.n:,} images)": SETS[k], f"FID against the {self.reference:,}-image reference half": f"{v:.1f}"}
                for k, v in self.fid.items()]


def _blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    k = torch.exp(-0.5 * (torch.arange(-3, 4) / sigma) ** 2)
    k = (k[:, None] * k[None, :]) / k.sum() ** 2
    c = x.shape[1]
    return F.conv2d(x, k[None, None].expand(c, 1, 7, 7), padding=3, groups=c)


def calibrate(net: FeatureNet, data: ImageSet, floor_samples: Sequence[int], seed: int = 0,
              unseen: torch.Tensor | None = None) -> Calibration:
    """`unseen`: indices of the images a classifier network did not train on (`features.heldout_indices`), for
    the confident share of real digits it reads fresh, the fair ceiling for a generator's."""
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(data), generator=g)
    half = len(data) // 2
    ref = extract_features(net, data.images[perm[:half]])
    pool = data.images[perm[half:]]
    pool_f = extract_features(net, pool)
    floor = {n: summarize([fid_from_features(pool_f[torch.randperm(len(pool), generator=g)[:n].numpy()], ref) for _ in range(5)])
             for n in floor_samples}
    n = max(floor_samples)
    base = pool[:n]
    x = base.float() / 255
    sets = {"real": base, "noise_0.1": to_uint8(x + 0.1 * torch.randn(x.shape, generator=g), "unit"),
            "noise_0.3": to_uint8(x + 0.3 * torch.randn(x.shape, generator=g), "unit"), "blur_1": to_uint8(_blur(x, 1.0), "unit")}
    labels = data.labels[perm[half:]] if data.labels is not None else None
    if labels is not None:
        for k in (1, 2):
            sel = pool[torch.isin(labels, torch.arange(k))]
            sets[f"classes_{k}"] = sel[torch.randint(len(sel), (n,), generator=g)]
    sets["uniform_noise"] = torch.randint(0, 256, base.shape, generator=g, dtype=torch.uint8)
    fid = {k: fid_from_features(extract_features(net, v), ref) for k, v in sets.items()}
    digits = labels is not None and hasattr(net, "head")
    conf = digit_metrics(net, base).confident_share if digits else None
    fresh = {}
    if digits and unseen is not None:
        fresh = {"unseen_confident_share": digit_metrics(net, data.images[unseen]).confident_share, "unseen_n": len(unseen),
                 "real_trained_share": float((~torch.isin(perm[half:][:n], unseen)).double().mean())}
    return Calibration(n, half, floor, fid, conf, {k: v[:16] for k, v in sets.items()}, **fresh)


def calibration_figures(cal: Calibration, net_name: str) -> dict[str, Any]:
    """`calibration.png` (the FIDs, log scale) and `examples.png` (16 images of each set, two rows of panels)."""
    names = [SETS[k] for k in cal.fid]
    fig, ax = plt.subplots(figsize=(6.5, 0.42 * len(names) + 1.0))
    ax.barh(names[::-1], [max(v, 1e-3) for v in list(cal.fid.values())[::-1]], color="tab:blue")
    ax.set_xscale("log")
    ax.set_xlabel(f"FID in {net_name.split(' (')[0]} space (log scale; lower is closer to the real images)", fontsize=9)
    ax.tick_params(labelsize=9)
    fig.tight_layout()
    ncols = (len(cal.examples) + 1) // 2
    ex, axes = plt.subplots(2, ncols, figsize=(1.65 * ncols, 4.0))
    for ax in axes.flat:
        ax.axis("off")
    for ax, (k, imgs) in zip(axes.flat, cal.examples.items()):
        grid = image_grid(imgs, nrow=4)
        ax.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray", interpolation="nearest")
        ax.set_title(SETS[k].replace(", ", ",\n").replace(" (", "\n("), fontsize=8)
    ex.tight_layout()
    return {"calibration.png": fig, "examples.png": ex}


def load_calibration(results: str | Path) -> dict[str, Any] | None:
    """The feature_net experiment's calibration at a scale (results/<scale>), or None where it did not run."""
    p = Path(results) / "feature_net" / "metrics.json"
    return json.loads(p.read_text()) if p.is_file() else None
