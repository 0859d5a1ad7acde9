"""Figures of the background and theory demos, sized for the book's text column.

The book shows a report's figure in a column about 670 px wide. A figure drawn `COLUMN_IN` inches wide and shown
at the column's width keeps its fonts at their nominal size (9 pt and up here) whatever the dpi it is saved at; a
narrower figure is shown at the same scale, as a share of the column (`save` returns that share for
`gan.report.figure`). Image grids are enlarged by whole pixels (nearest neighbour) so that one digit is at least
`DIGIT_PX` pixels wide on screen.

Every plotting function of the demos draws inside `column_style()` and writes its file with `save`, which returns
the `width` to give `gan.report.figure`.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from gan.plots import image_grid  # noqa: E402
from gan.provenance import atomic_savefig  # noqa: E402

COLUMN_IN = 6.7  # the text column, in inches at 100 px per inch
DPI = 150  # saved resolution: sharper on high-density screens; the shown size does not depend on it
DIGIT_PX = 56  # the smallest width of one digit on screen
RC = {"font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "xtick.labelsize": 9, "ytick.labelsize": 9,
      "legend.fontsize": 9, "figure.titlesize": 10, "legend.frameon": False}


@contextmanager
def column_style() -> Iterator[None]:
    """Matplotlib settings of every demo figure: fonts of 9 pt and up, legends without frames."""
    with plt.rc_context(RC):
        yield


def save(fig, path: str | Path, dpi: int = DPI, tight: bool = True) -> str:
    """Write `fig` and close it; returns its share of the column (e.g. "100%") for `gan.report.figure`, so that
    the book shows it at the scale it was drawn for: fonts at their nominal size, image pixels at their planned
    size. `tight=False` keeps the figure's exact size (image grids, whose inches are planned pixels)."""
    atomic_savefig(fig, path, dpi=dpi, **({} if tight else {"bbox_inches": None}))
    plt.close(fig)
    from PIL import Image

    with Image.open(path) as im:
        width_in = im.size[0] / dpi
    return f"{min(100, math.ceil(100 * width_in / COLUMN_IN - 1e-9))}%"


def to_uint8(images: torch.Tensor, lo: float = 0.0, hi: float = 1.0) -> torch.Tensor:
    """Float images in [lo, hi] (clamped) to uint8 [N, C, H, W]; uint8 images pass through."""
    if images.dtype == torch.uint8:
        return images
    x = (images.detach().float().clamp(lo, hi) - lo) / (hi - lo)
    return (x * 255).round().to(torch.uint8)


def upscale(grid: np.ndarray, factor: int) -> np.ndarray:
    """Enlarge an image array [H, W(, C)] by a whole factor, nearest neighbour (every pixel a factor x factor block)."""
    return grid.repeat(factor, axis=0).repeat(factor, axis=1)


def image_rows(panels: Sequence[tuple[torch.Tensor, str]], path: str | Path, *, per_row: int = 10,
               digit_px: int = DIGIT_PX, lo: float = 0.0, hi: float = 1.0) -> str:
    """Titled image grids stacked in one column, each `per_row` images wide (more images wrap onto more rows),
    enlarged so that one image is at least `digit_px` pixels wide on screen. Images are [N, C, H, W], floats in
    [lo, hi] or uint8. Returns the width for `gan.report.figure`."""
    factor = max(1, math.ceil(digit_px / panels[0][0].shape[-1]))
    grids = [upscale(image_grid(to_uint8(imgs, lo, hi), nrow=min(per_row, len(imgs))), factor) for imgs, _ in panels]
    title_in = 0.3  # a line of 10-pt text
    w_in = max(g.shape[1] for g in grids) / 100  # planned at 100 px per inch: the natural size is the size on screen
    h_in = sum(g.shape[0] / 100 + title_in for g in grids)
    with column_style():
        fig = plt.figure(figsize=(w_in, h_in))
        top = h_in
        for g, (_, title) in zip(grids, panels):
            gh, gw = g.shape[0] / 100, g.shape[1] / 100
            top -= title_in + gh
            ax = fig.add_axes((0, top / h_in, gw / w_in, gh / h_in))
            ax.imshow(g[..., 0] if g.shape[-1] == 1 else g, cmap="gray", vmin=0, vmax=255, interpolation="nearest",
                      aspect="auto")
            ax.set_title(title, loc="left", pad=3)
            ax.axis("off")
        return save(fig, path, dpi=200, tight=False)


def grid_shape(n: int, ncols: int = 2) -> tuple[int, int]:
    """(rows, columns) for n panels in at most `ncols` columns: 2x2 rather than 1x4."""
    ncols = max(1, min(ncols, n))
    return math.ceil(n / ncols), ncols


def panels(n: int, ncols: int, row_in: float, top_in: float) -> tuple[Any, list[Any], float]:
    """A column-wide figure of n panels in at most `ncols` columns (rows `row_in` tall, `top_in` above them for a
    legend), the unused cells blanked. Returns (figure, the n axes in reading order, its height in inches); call it
    inside `column_style()`."""
    nrows, ncols = grid_shape(n, ncols)
    height = row_in * nrows + top_in
    fig, axes = plt.subplots(nrows, ncols, figsize=(COLUMN_IN, height), squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    return fig, list(axes.flat[:n]), height
