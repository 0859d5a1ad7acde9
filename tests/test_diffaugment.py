"""DiffAugment (what D sees): each operation does exactly what the reference code does, checked image by image
against a direct construction; it is differentiable, seeded, and the training loop shows D only augmented batches."""

from __future__ import annotations

import typing

import pytest
import torch
import torch.nn.functional as F

from gan.config import DAugment
from gan.data.diffaugment import cutout, diff_augment, operations, translation


@pytest.fixture
def x() -> torch.Tensor:
    # strictly positive pixels, so a 0 in the output can only have been written by the augmentation
    return torch.rand(64, 3, 28, 28, generator=torch.Generator().manual_seed(0)) + 0.5


def _shifted(img: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """img shifted by (dy, dx): out[i, j] = img[i + dy, j + dx], 0 outside."""
    h, w = img.shape[-2:]
    p = max(abs(dy), abs(dx))
    padded = F.pad(img, [p, p, p, p])
    return padded[..., p + dy : p + dy + h, p + dx : p + dx + w]


def test_every_policy_the_config_allows_names_known_operations():
    assert {p: operations(p) for p in typing.get_args(DAugment)} == {
        "none": (), "translation": ("translation",), "cutout": ("cutout",),
        "translation_cutout": ("translation", "cutout")}


def test_a_policy_naming_an_unknown_operation_is_refused():
    with pytest.raises(ValueError, match="'colour'"):
        operations("translation_colour")


def test_none_is_the_batch_itself(x):
    assert diff_augment(x, "none") is x


def test_translation_shifts_each_image_by_at_most_an_eighth(x):
    torch.manual_seed(1)
    out = translation(x)
    seen = set()
    for img, o in zip(x, out):
        # the reference's ratio 1/8 of 28 pixels: up to int(3.5 + 0.5) = 4 pixels each way
        hits = [(dy, dx) for dy in range(-4, 5) for dx in range(-4, 5) if torch.equal(_shifted(img, dy, dx), o)]
        assert len(hits) == 1, hits
        seen.add(hits[0])
    assert len(seen) > 20  # each image draws its own shift


def test_cutout_zeroes_one_square_of_half_the_side(x):
    torch.manual_seed(2)
    out = cutout(x)
    sizes = set()
    for img, o in zip(x, out):
        zero = (o == 0).all(0)
        assert torch.equal(o[:, ~zero], img[:, ~zero])  # everything else untouched, every channel alike
        rows, cols = zero.any(1).nonzero().flatten(), zero.any(0).nonzero().flatten()
        h, w = len(rows), len(cols)
        assert rows[-1] - rows[0] + 1 == h and cols[-1] - cols[0] + 1 == w and zero.sum() == h * w  # one rectangle
        assert 7 <= h <= 14 and 7 <= w <= 14  # a 14 x 14 square whose centre may sit on the edge
        sizes.add((h, w))
    assert (14, 14) in sizes and len(sizes) > 1


def test_augmentation_is_differentiable_and_seeded(x):
    x = x.clone().requires_grad_(True)
    torch.manual_seed(3)
    out = diff_augment(x, "translation_cutout")
    out.sum().backward()
    # a pixel's gradient is 1 where it survives into the output, 0 where it was shifted out or cut
    assert set(x.grad.unique().tolist()) <= {0.0, 1.0}
    assert x.grad.sum() == (out != 0).sum()
    torch.manual_seed(3)
    assert torch.equal(diff_augment(x.detach(), "translation_cutout"), out.detach())


def test_training_shows_d_only_augmented_batches(tiny_cfg, monkeypatch):
    """Per step: D's real and fake batches in each D step and G's fake batch in the G step pass through it."""
    import gan.train
    from gan.checks import parse_train

    calls = []
    real = gan.train.diff_augment
    monkeypatch.setattr(gan.train, "diff_augment", lambda t, policy: calls.append(policy) or real(t, policy))
    res = gan.train.train(parse_train(tiny_cfg(d_augment="translation", d_steps=2)), progress=False)
    assert res.steps == 8 and calls == ["translation"] * 8 * (2 * 2 + 1)
