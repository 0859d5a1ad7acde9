"""The standard figures: sample grids, loss curves, and the mean-FID heatmap. Each returns a matplotlib figure;
`gan.provenance.atomic_savefig` writes it."""

from __future__ import annotations

import io
import math
import textwrap
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
                col_label: str, title: str = "", n: int | None = None, ok: np.ndarray | None = None):
    """Annotated heatmap of mean FID (± std) per cell; lower is better, so the colour map runs light = good. With
    `ok` (runs that trained per cell, out of `n`), a cell that lost runs says how many entered its mean."""
    import seaborn as sns

    def note(i: int, j: int) -> str:
        m, s = mean[i, j], std[i, j]
        if not np.isfinite(m):
            return "all runs\nfailed" if ok is not None else "n/a"
        txt = f"{m:.1f}" + (f"\n± {s:.1f}" if np.isfinite(s) else "")
        return txt + (f"\n({int(ok[i, j])} of {n})" if ok is not None and n and ok[i, j] < n else "")

    annot = np.array([[note(i, j) for j in range(len(cols))] for i in range(len(rows))])
    fig, ax = plt.subplots(figsize=(1.2 * len(cols) + 1.8, 0.9 * len(rows) + 1.3))
    sns.heatmap(mean, annot=annot, fmt="", cmap="rocket_r", ax=ax, xticklabels=cols, yticklabels=rows,
                cbar_kws={"label": "FID (lower is better)"}, linewidths=0.5, annot_kws={"fontsize": 9})
    ax.set_xlabel(col_label)
    ax.set_ylabel(row_label)
    ax.set_title(title + (f" (mean ± std over the runs that trained, of {n} seeds)" if n else ""), fontsize=10)
    fig.tight_layout()
    return fig


def fid_strip(df: pd.DataFrame, by: str, order: Sequence, title: str, anchor: tuple[str, float] | None = None,
              labels: Sequence[str] | None = None):
    """FID of every run as a dot, per group, with the mean and its 95 % t interval as a bar. Runs that failed
    (`ok` False) are drawn as red crosses and left out of the mean: named, never averaged."""
    from gan.stats import summarize

    fig, ax = plt.subplots(figsize=(min(7.0, max(4.5, 0.9 * len(order) + 1.5)), 3.6))  # at most the column's width
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
                   crop: int | None = None, *, cells: int | None = None, digit_px: int = 56, failed: Sequence[bool] = ()):
    """The runs' sample grids side by side, each titled: compare generators at a glance.

    `cells`: show the top-left cells x cells samples of each grid (as `save_image_grid` wrote it, 8 per row),
    drawn so that one sample is `digit_px` pixels wide at the figure's natural size (saved at dpi 100): a digit
    stays legible in the book's column. `crop` (pixels) is the older way to cut a grid. A run marked in `failed`
    gets a red title."""
    n = len(run_ids)
    ncols = ncols or n
    nrows = math.ceil(n / ncols)
    ims, size = [], None
    for rid in run_ids:
        im = np.asarray(Image.open(Path(exp_dir) / "runs" / rid / "samples.png"))
        if cells:
            size = (im.shape[1] - 2) // 8 - 2  # the grid: 8 samples per row, 2-pixel padding
            im = im[: 2 + cells * (size + 2), : 2 + cells * (size + 2)]
        elif crop:
            im = im[:crop, :crop]
        ims.append(im)
    if cells:
        panel_in = cells * digit_px * (size + 2) / size / 100  # inches at dpi 100
        fig, axes = plt.subplots(nrows, ncols, figsize=(panel_in * ncols * 1.06, (panel_in + 0.3) * nrows), squeeze=False)
    else:
        fig, axes = plt.subplots(nrows, ncols, figsize=(2.4 * ncols, 2.6 * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    bad = list(failed) + [False] * (n - len(failed))
    for ax, im, t, f in zip(axes.flat, ims, titles, bad):
        ax.imshow(im, cmap="gray" if im.ndim == 2 else None, interpolation="nearest", vmin=0, vmax=255)
        ax.set_title(t, fontsize=9, color="tab:red" if f else "black")
    fig.tight_layout(pad=0.4)
    return fig


def augmentation_examples(images: torch.Tensor, names: Sequence[str], seed: int = 0):
    """The same real images under each named augmentation (gan.data.augment, seeded), one panel each, two columns."""
    from gan.data import augment

    ncols = 2 if len(names) > 2 else len(names)
    nrows = math.ceil(len(names) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 1.9 * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, a in zip(axes.flat, names):
        torch.manual_seed(seed)
        grid = image_grid(augment(images, a), nrow=len(images) // 2 or 1)
        ax.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray", interpolation="nearest")
        ax.set_title(a, fontsize=10)
    fig.tight_layout()
    return fig


def accuracy_curves(logs: dict[str, pd.DataFrame], setting_of: dict[str, str], colours: dict[str, str]):
    """D's accuracy (mean of real and fake) during training, one line per run, coloured by setting; 50 % is where
    D cannot tell real from fake."""
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    shown = set()
    for rid, log in logs.items():
        s = setting_of[rid]
        acc = 0.5 * (log["acc_real"] + log["acc_fake"])
        k = max(1, len(log) // 40)
        ax.plot(log["step"].iloc[k - 1:], np.convolve(acc, np.ones(k) / k, mode="valid"), color=colours[s], alpha=0.7,
                lw=1, label=None if s in shown else s)
        shown.add(s)
    ax.axhline(0.5, color="grey", ls="--", lw=0.8)
    ax.set_ylim(0.3, 1.02)
    ax.set_xlabel("generator step", fontsize=9)
    ax.set_ylabel("D accuracy (running mean)", fontsize=9)
    ax.legend(frameon=False, fontsize=9)
    fig.tight_layout()
    return fig


def health_lines(runs: Sequence[dict], groups: Sequence[str], labels: Sequence[str] | None = None):
    """Every run against every line of run health (gan.health.LINES), one panel per line: a run is a dot in its
    group's row (`group` key), a red cross where it failed health (on any line), a grey one where it failed as its
    experiment means it to (`meant_to_fail` key), blank where the line does not judge it; the dashed line is the
    threshold and the shaded side fails."""
    from gan.health import LINES, line_values

    ncols = 3
    nrows = math.ceil(len(LINES) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(7.5, 1.2 + nrows * (0.28 * len(groups) + 0.9)), sharey=True)
    rng = np.random.default_rng(0)  # vertical jitter, so that runs with one value stay apart
    kinds = {"ok": ("o", "tab:blue", "passed health"), "failed": ("x", "tab:red", "failed health (on any line)"),
             "meant": ("x", "0.45", "failed, as its experiment means it to")}
    kind = lambda r: "ok" if r.get("status") == "ok" else "meant" if r.get("meant_to_fail") else "failed"  # noqa: E731
    values = [(groups.index(r["group"]), kind(r), line_values(r)) for r in runs if r["group"] in groups]
    for ax, line in zip(np.ravel(axes), LINES):
        pts = [(y, k, v[line.reason]) for y, k, v in values if v[line.reason] is not None]
        hi = max([line.threshold] + [v for *_, v in pts]) * 1.06
        lo = min([0.0] + [v for *_, v in pts])
        ax.axvspan(*((line.threshold, hi) if line.above else (lo, line.threshold)), color="tab:red", alpha=0.08, lw=0)
        ax.axvline(line.threshold, color="tab:red", ls="--", lw=1)
        for k, (marker, colour, _) in kinds.items():
            sel = [(y, v) for y, o, v in pts if o == k]
            if sel:
                y, v = np.array(sel).T
                y = y + rng.uniform(-0.25, 0.25, len(y))
                ok = k == "ok"
                ax.scatter(v, y, s=12 if ok else 24, marker=marker, alpha=0.6 if ok else 0.9, color=colour, lw=0 if ok else 1)
        ax.set_xlim(lo, hi)
        ax.set_title(f"{line.reason}: fails {'≥' if line.above else '<'} {line.threshold:g}", fontsize=8.5)
        ax.set_xlabel(textwrap.fill(line.measure, 34), fontsize=8)
        ax.tick_params(labelsize=7.5)
        ax.grid(axis="y", color="0.92", lw=0.6)
    for ax in np.ravel(axes)[len(LINES):]:
        ax.set_visible(False)
    axes_ = np.atleast_2d(axes)
    axes_[0, 0].set_yticks(range(len(groups)), list(labels) if labels is not None else list(groups))
    axes_[0, 0].set_ylim(len(groups) - 0.5, -0.5)
    marks = [kinds[k] for k in kinds if any(o == k for _, o, _ in values)]
    fig.legend([plt.Line2D([], [], ls="", marker=m, color=c) for m, c, _ in marks], [t for *_, t in marks],
               loc="lower center", ncols=len(marks), frameon=False, fontsize=8)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig
