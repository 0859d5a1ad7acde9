"""The standard figures: sample grids, loss curves, and the mean-FID heatmap. Each returns a matplotlib figure;
`gan.provenance.atomic_savefig` writes it."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")  # headless: notebooks display the saved PNGs
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from torchvision.utils import make_grid  # noqa: E402

from gan.provenance import atomic_write_bytes  # noqa: E402


def image_grid(images: torch.Tensor, nrow: int | None = None, padding: int = 2) -> np.ndarray:
    """uint8 [N, C, H, W] -> uint8 [H', W', C] grid (C = 1 becomes grey)."""
    nrow = nrow or int(math.ceil(math.sqrt(len(images))))
    g = make_grid(images, nrow=nrow, padding=padding, pad_value=255)
    return g.permute(1, 2, 0).numpy()


def save_image_grid(images: torch.Tensor, path: str, nrow: int | None = None) -> None:
    """Write a sample grid as a PNG, one screen pixel per image pixel (keeps committed results small)."""
    g = image_grid(images, nrow)
    im = Image.fromarray(g[..., 0] if g.shape[-1] == 1 or (g[..., 0] == g[..., 1]).all() and (g[..., 1] == g[..., 2]).all() else g)
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=True)
    atomic_write_bytes(path, buf.getvalue())


def read_image_grid(path: str | Path, size: int, nrow: int, rows: int, channels: int = 1,
                    padding: int = 2) -> torch.Tensor:
    """The images of a sample grid as `save_image_grid` wrote it: uint8 [rows * nrow, channels, size, size]."""
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


def run_loss_curves(run_dir: str | Path, title: str = ""):
    """`loss_curves` of a finished run, from its committed per-step log (`losses.csv.gz`)."""
    log = pd.read_csv(Path(run_dir) / "losses.csv.gz").to_dict("records")
    return loss_curves(log, title)


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


def fid_strip(df: pd.DataFrame, by: str, order: Sequence, title: str, anchor: tuple[str, float] | None = None,
              labels: Sequence[str] | None = None):
    """FID of every run as a dot, per group, with the mean and its 95 % t interval as a bar. Runs that failed
    (`ok` False) are drawn as red crosses and left out of the mean: named, never averaged."""
    from gan.stats import summarize

    fig, ax = plt.subplots(figsize=(max(4.5, 1.5 * len(order) + 1.5), 3.6))
    jitter = lambda n: np.linspace(-0.12, 0.12, n) if n > 1 else np.zeros(n)  # noqa: E731
    failed_shown = False
    for i, key in enumerate(order):
        g = df[df[by] == key]
        ok = g["ok"] if "ok" in g else pd.Series(True, index=g.index)
        v = g.loc[ok, "fid"].dropna().to_numpy()
        s = summarize(v.tolist())
        if s.n:
            err = [[s.mean - s.ci_low], [s.ci_high - s.mean]] if s.n > 1 else None
            ax.errorbar(i, s.mean, yerr=err, fmt="_", ms=30, capsize=8, color="k", zorder=3)
            ax.scatter(i + jitter(len(v)), v, s=30, zorder=4, color="tab:blue")
        bad = g.loc[~ok, "fid"].dropna().to_numpy()
        if len(bad):
            ax.scatter(i + jitter(len(bad)), bad, s=40, marker="x", color="tab:red", zorder=4,
                       label=None if failed_shown else "failed run (not in the mean)")
            failed_shown = True
    if anchor is not None:
        ax.axhline(anchor[1], ls="--", color="grey")
        ax.text(len(order) - 0.5, anchor[1], anchor[0], ha="right", va="bottom", fontsize=8, color="grey")
    ax.set_xticks(range(len(order)), list(labels) if labels is not None else [str(o) for o in order])
    ax.set_ylabel("FID (lower is better)")
    ax.set_title(title, fontsize=10)
    ax.set_xlim(-0.6, len(order) - 0.4)
    if failed_shown:
        ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def sample_montage(exp_dir: str | Path, run_ids: Sequence[str], titles: Sequence[str], ncols: int | None = None,
                   crop: int | None = None):
    """The runs' sample grids side by side, each titled: compare generators at a glance."""
    n = len(run_ids)
    ncols = ncols or n
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.4 * ncols, 2.6 * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, rid, t in zip(axes.flat, run_ids, titles):
        im = np.asarray(Image.open(Path(exp_dir) / "runs" / rid / "samples.png"))
        if crop:
            im = im[:crop, :crop]
        ax.imshow(im, cmap="gray" if im.ndim == 2 else None, interpolation="nearest")
        ax.set_title(t, fontsize=9)
    fig.tight_layout()
    return fig
