"""The standard figures: sample grids, loss curves, and the mean-FID heatmap. Each returns a matplotlib figure;
`gan.runs.atomic_savefig` writes it."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")  # headless: notebooks display the saved PNGs
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torchvision.utils import make_grid  # noqa: E402


def image_grid(images: torch.Tensor, nrow: int | None = None, padding: int = 2) -> np.ndarray:
    """uint8 [N, C, H, W] -> uint8 [H', W', C] grid (C = 1 becomes grey)."""
    nrow = nrow or int(math.ceil(math.sqrt(len(images))))
    g = make_grid(images, nrow=nrow, padding=padding, pad_value=255)
    return g.permute(1, 2, 0).numpy()


def save_image_grid(images: torch.Tensor, path: str, nrow: int | None = None) -> None:
    """Write a sample grid as a PNG, one screen pixel per image pixel (keeps committed results small)."""
    from PIL import Image

    from gan.runs import atomic_write_bytes
    import io

    g = image_grid(images, nrow)
    im = Image.fromarray(g[..., 0] if g.shape[-1] == 1 or (g[..., 0] == g[..., 1]).all() and (g[..., 1] == g[..., 2]).all() else g)
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=True)
    atomic_write_bytes(path, buf.getvalue())


def read_image_grid(path: str | Path, size: int, nrow: int, rows: int, channels: int = 1,
                    padding: int = 2) -> torch.Tensor:
    """The images of a sample grid as `save_image_grid` wrote it: uint8 [rows * nrow, channels, size, size]."""
    from PIL import Image

    im = np.asarray(Image.open(path).convert("L" if channels == 1 else "RGB"))
    im = im[..., None] if channels == 1 else im
    at = lambda i: padding + i * (size + padding)  # noqa: E731
    cells = [im[at(r) : at(r) + size, at(c) : at(c) + size] for r in range(rows) for c in range(nrow)]
    return torch.from_numpy(np.stack(cells)).permute(0, 3, 1, 2).contiguous()


def loss_curves(log: Sequence[dict], title: str = "", smooth: int = 25):
    """G and D losses (left) and D's accuracy on real and fake batches (right), smoothed by a running mean."""
    steps = np.array([r["step"] for r in log])
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.2))

    def sm(key: str) -> np.ndarray:
        v = np.array([r[key] for r in log], dtype=float)
        k = max(1, min(smooth, len(v) // 5 or 1))
        return np.convolve(v, np.ones(k) / k, mode="valid"), steps[k - 1 :]

    for key, lab in (("loss_d", "D loss"), ("loss_g", "G loss")):
        v, s = sm(key)
        a1.plot(s, v, label=lab)
    a1.set_xlabel("generator step")
    a1.set_ylabel("loss")
    a1.legend(frameon=False)
    for key, lab in (("acc_real", "D accuracy on real"), ("acc_fake", "D accuracy on fake")):
        v, s = sm(key)
        a2.plot(s, v, label=lab)
    a2.set_ylim(-0.02, 1.02)
    a2.set_xlabel("generator step")
    a2.legend(frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def fid_heatmap(mean: np.ndarray, std: np.ndarray, rows: Sequence, cols: Sequence, *, row_label: str,
                col_label: str, title: str = "", n: int | None = None):
    """Annotated heatmap of mean FID (± std) per cell; lower is better, so the colour map runs light = good."""
    import seaborn as sns

    annot = np.array([[f"{m:.1f}\n± {s:.1f}" if np.isfinite(m) else "n/a" for m, s in zip(mr, sr)] for mr, sr in zip(mean, std)])
    fig, ax = plt.subplots(figsize=(1.3 * len(cols) + 2, 1.0 * len(rows) + 1.5))
    sns.heatmap(mean, annot=annot, fmt="", cmap="rocket_r", ax=ax, xticklabels=cols, yticklabels=rows,
                cbar_kws={"label": "FID (lower is better)"}, linewidths=0.5)
    ax.set_xlabel(col_label)
    ax.set_ylabel(row_label)
    ax.set_title(title + (f" (mean ± std over {n} seeds)" if n else ""))
    fig.tight_layout()
    return fig
