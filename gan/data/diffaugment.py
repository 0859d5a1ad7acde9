"""Differentiable augmentation of what the discriminator sees (DiffAugment; Zhao et al., NeurIPS 2020).

Unlike the data augmentations (`gan.data.augmentations`, which change the training set G learns to imitate),
these act inside the training step on float batches, real and fake alike, in D's step and in G's: D never sees an
unaugmented image, and G's gradient flows back through the augmentation, so G is not pushed to draw the
augmentation itself. With 5,000 digits D can memorise its data; this is the paper's remedy for small data sets.

The two operations follow the authors' reference code (mit-han-lab/data-efficient-gans, DiffAugment_pytorch.py):
`translation` shifts each image by a whole number of pixels, up to 1/8 of its side in each direction, filling with 0
(mid-grey in the [-1, 1] pixel range, as there); `cutout` sets one square of half the side, centred anywhere in the image, to 0.
Each image of a batch draws its own offsets from torch's global RNG, so a seeded run repeats and a checkpoint's RNG
state resumes it exactly.
"""

from __future__ import annotations

import torch


def translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image of (N, C, H, W) by its own (dy, dx), |dy| <= round(H * ratio), |dx| <= round(W * ratio);
    pixels shifted in are 0."""
    n, _, h, w = x.shape
    sy, sx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sy, sy + 1, (n, 1, 1), device=x.device)
    dx = torch.randint(-sx, sx + 1, (n, 1, 1), device=x.device)
    b, gy, gx = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(h, device=x.device),
                               torch.arange(w, device=x.device), indexing="ij")
    # read from a copy padded by one zero pixel: a source index outside the image lands on the padding
    gy = torch.clamp(gy + dy + 1, 0, h + 1)
    gx = torch.clamp(gx + dx + 1, 0, w + 1)
    padded = torch.nn.functional.pad(x, [1, 1, 1, 1])
    return padded.permute(0, 2, 3, 1)[b, gy, gx].permute(0, 3, 1, 2).contiguous()


def cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Set one square of side round(H * ratio) x round(W * ratio) of each image to 0; its centre is drawn anywhere in
    the image, so near an edge only part of it falls inside."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    oy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), device=x.device)
    ox = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), device=x.device)
    b, gy, gx = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(ch, device=x.device),
                               torch.arange(cw, device=x.device), indexing="ij")
    gy = torch.clamp(gy + oy - ch // 2, 0, h - 1)
    gx = torch.clamp(gx + ox - cw // 2, 0, w - 1)
    mask = torch.ones(n, h, w, dtype=x.dtype, device=x.device)
    mask[b, gy, gx] = 0
    return x * mask.unsqueeze(1)


_OPS = {"translation": translation, "cutout": cutout}


def operations(policy: str) -> tuple[str, ...]:
    """The operations a policy names, in order: its name split at "_" ("translation_cutout" -> translation, then
    cutout); "none" names none. The names are `gan.config.DAugment`'s; an unknown one raises ValueError."""
    ops = () if policy == "none" else tuple(policy.split("_"))
    unknown = [op for op in ops if op not in _OPS]
    if unknown:
        raise ValueError(f"DiffAugment policy {policy!r}: unknown operation(s) {unknown}; known: {sorted(_OPS)}")
    return ops


def diff_augment(x: torch.Tensor, policy: str) -> torch.Tensor:
    """Apply the policy's operations, in order, to a float batch (N, C, H, W); "none" returns x itself."""
    for op in operations(policy):
        x = _OPS[op](x)
    return x
