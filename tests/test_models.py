"""Models: the published parameter counts, output shapes over the depth grid, the AFHQ architecture, and that
every discriminator returns one logit per image."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan import models
from gan.config import ConfigError
from gan.models import count_params


def _layers(m: nn.Module, *types: type) -> list[nn.Module]:
    return [x for x in m.modules() if isinstance(x, types)]


def _weight_layers(m: nn.Module) -> int:
    return len(_layers(m, nn.Linear, nn.Conv2d, nn.ConvTranspose2d))


# --- the seminar's and the lecture's models: counts as their Keras summaries print them --------------------------


def test_seminar_parameter_counts_match_the_keras_summary():
    G, D = models.build("seminar", 100)
    assert count_params(G) == 1_164_289
    assert count_params(D) == 40_705
    # layer by layer, as the summary's table lists them
    assert [count_params(m) for m in _layers(G, nn.Linear, nn.Conv2d, nn.ConvTranspose2d)] == [633_472, 262_272, 262_272, 6_273]
    assert [count_params(m) for m in _layers(D, nn.Linear, nn.Conv2d)] == [640, 36_928, 3_137]
    assert len(_layers(D, nn.Dropout)) == 2


def test_lecture_parameter_counts():
    G, D = models.build("lecture", 100)
    assert count_params(G) == 720_385
    assert count_params(D) == 13_185
    # Keras also counts the batch norm's moving mean and variance: 12,544 non-trainable parameters
    bn = _layers(G, nn.BatchNorm1d)
    assert sum(b.running_mean.numel() + b.running_var.numel() for b in bn) == 12_544


def test_seminar_and_lecture_shapes_and_ranges():
    torch.manual_seed(0)
    for name, lo in (("seminar", 0.0), ("lecture", -1.0)):
        G, D = models.build(name, 100)
        G.eval()
        x = G(torch.randn(4, 100))
        assert x.shape == (4, 1, 28, 28)
        assert x.min() >= lo and x.max() <= 1.0
        assert D(x).shape == (4,)


# --- the depth grid --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dense", "dcgan28"])
@pytest.mark.parametrize("depth", [3, 4, 5, 6])
def test_depth_grid_shapes(name, depth):
    torch.manual_seed(0)
    kw = {"width": 8} if name == "dcgan28" else {}
    G, _ = models.build(name, 100, g_depth=depth, d_depth=3, **kw)
    _, D = models.build(name, 100, g_depth=3, d_depth=depth, **kw)
    assert _weight_layers(G) == depth  # depth counts weight layers
    assert _weight_layers(D) == depth
    x = G(torch.randn(5, 100))
    assert x.shape == (5, 1, 28, 28)
    assert x.min() >= -1 and x.max() <= 1  # tanh
    out = D(x)
    assert out.shape == (5,)
    assert out.dtype == torch.float32


def test_depth_changes_capacity_monotonically():
    for name in ("dense", "dcgan28"):
        g = [count_params(models.build(name, 100, g_depth=d)[0]) for d in (3, 4, 5, 6)]
        d = [count_params(models.build(name, 100, d_depth=k)[1]) for k in (3, 4, 5, 6)]
        assert g == sorted(g) and len(set(g)) == 4, (name, g)
        assert d == sorted(d) and len(set(d)) == 4, (name, d)


def test_dense_depth3_is_the_classic_mlp():
    G, D = models.build("dense", 100, g_depth=3, d_depth=3)
    assert [(m.in_features, m.out_features) for m in _layers(G, nn.Linear)] == [(100, 256), (256, 512), (512, 784)]
    assert [(m.in_features, m.out_features) for m in _layers(D, nn.Linear)] == [(784, 512), (512, 256), (256, 1)]


def test_dcgan28_three_channels_and_sigmoid():
    G, D = models.build("dcgan28", 100, channels=3, width=8, out="sigmoid")
    x = G(torch.randn(2, 100))
    assert x.shape == (2, 3, 28, 28) and x.min() >= 0
    assert D(x).shape == (2,)


# --- the AFHQ DCGAN -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [64, 128])
def test_afhq_dcgan(size):
    torch.manual_seed(0)
    G, D = models.build("afhq_dcgan", 100, image_size=size, width=8)
    assert len(_layers(G, nn.ConvTranspose2d)) == 5
    assert len(_layers(G, nn.Conv2d)) == 0
    assert len(_layers(D, nn.Conv2d)) == 5
    assert len(_layers(D, nn.Linear)) == 0
    assert _layers(G, nn.LeakyReLU) and _layers(D, nn.LeakyReLU)
    assert G.net[0].in_channels == 100  # z = 100
    x = G(torch.randn(3, 100))
    assert x.shape == (3, 3, size, size)
    assert D(x).shape == (3,)


def test_afhq_default_width_is_the_dcgan_one():
    G, D = models.build("afhq_dcgan", 100)
    convt = _layers(G, nn.ConvTranspose2d)
    assert [m.out_channels for m in convt] == [512, 256, 128, 64, 3]
    assert [m.out_channels for m in _layers(D, nn.Conv2d)] == [64, 128, 256, 512, 1]


# --- every registered model ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(models.MODELS))
def test_every_discriminator_returns_one_logit_per_image(name):
    torch.manual_seed(0)
    G, D = models.build(name, 16)
    assert not _layers(D, nn.Sigmoid, nn.Softmax), "D must return logits; losses apply the sigmoid"
    G.eval()
    n = 3
    if models.is_conditional(G):
        y = torch.arange(n) % G.num_classes
        x = G(torch.randn(n, 16), y)
        out = D(x, y)
    else:
        x = G(torch.randn(n, 16))
        out = D(x)
    assert out.shape == (n,)
    assert torch.isfinite(out).all()


def test_check_model_kwargs_builds_on_meta_device_only():
    models.check_model_kwargs("afhq_dcgan", {"image_size": 128})  # no memory, no time
    with pytest.raises(ConfigError, match="unknown model"):
        models.check_model_kwargs("nope", {})
    with pytest.raises(ConfigError, match="model_kwargs.depth: unknown .*g_depth"):
        models.check_model_kwargs("dense", {"depth": 3})


def test_dcgan_init_statistics():
    torch.manual_seed(0)
    G, D = models.build("dcgan28", 100)
    convs = _layers(D, nn.Conv2d)
    w = torch.cat([c.weight.detach().flatten() for c in convs])
    assert abs(float(w.std()) - 0.02) < 0.001
    assert abs(float(w.mean())) < 0.001
    bn = torch.cat([b.weight.detach() for b in _layers(G, nn.BatchNorm2d)])
    assert abs(float(bn.mean()) - 1.0) < 0.01


def test_keras_init_is_glorot_uniform():
    """Keras's default: weights ~ U(-b, b), b = sqrt(6 / (fan_in + fan_out)), zero biases; for a 4x4 transposed
    convolution from 64 to 32 channels the fans are 64*16 and 32*16 whichever way round they are counted."""
    torch.manual_seed(0)
    G, D = models.build("cifar_dcgan", 128, width=16, init="keras")
    up = _layers(G, nn.ConvTranspose2d)[0]
    assert tuple(up.weight.shape) == (64, 32, 4, 4)
    b = (6 / (64 * 16 + 32 * 16)) ** 0.5
    w = up.weight.detach().flatten()
    assert float(w.abs().max()) <= b
    assert abs(float(w.std()) - b / 3 ** 0.5) < 0.02 * b  # a uniform's standard deviation
    assert all(float(m.bias.detach().abs().max()) == 0 for m in _layers(D, nn.Conv2d))
    G3, _ = models.build("cifar_dcgan", 128, width=16, g_norm="batch", init="keras")
    assert all(torch.equal(m.weight, torch.ones_like(m.weight)) for m in _layers(G3, nn.BatchNorm2d))
    with pytest.raises(ValueError, match="init must be one of 'dcgan', 'keras'"):
        models.build("cifar_dcgan", 128, width=16, init="he")


def test_build_is_seeded():
    torch.manual_seed(5)
    a = models.build("dcgan28", 100, width=8)[0].state_dict()
    torch.manual_seed(5)
    b = models.build("dcgan28", 100, width=8)[0].state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_summary_lists_spectral_norm_layers_once_with_their_parameters():
    """Spectral norm (a torch parametrization) moves `weight` to `parametrizations.weight.original` and gives the
    layer child modules: the table lists the layer itself, with its output and its parameters, never those modules."""
    from gan.models.summary import model_tables

    kw = dict(num_classes=10, width=16, g_norm="batch", spectral=True)
    rows = model_tables("cifar_cgan", 128, (3, 32, 32), **kw)["discriminator"]
    _, D = models.build("cifar_cgan", 128, **kw)
    real = sum(p.numel() for p in D.parameters())
    *layers, total = rows
    assert total["parameters"] == f"**{real:,}**"
    assert sum(int(r["parameters"].replace(",", "") or 0) for r in layers) == real
    assert not any("SpectralNorm" in r["layer"] or "Parametriz" in r["layer"] for r in layers)
    assert [r["layer"].split()[0] for r in layers if "spectral norm" in r["layer"]] == ["Conv2d"] * 3 + ["Linear"]
    assert layers[-1]["layer"].startswith("Linear 1024→1") and layers[-1]["output shape"] == "1"
