"""The model-selection chapter's models and data: the CIFAR-10 study's GANs (shapes, parameter counts, where
spectral norm and batch norm are and are not, the conditional inputs), their config entries, and the face-folder
stand-in with its preprocessing pipeline."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image
from torch import nn

from gan.checks import parse_train
from gan import models
from gan.config import ConfigError, DataConfig
from gan.models import count_params
from gan.experiments.zoo import study_model

CONFIG = yaml.safe_load((Path(__file__).parents[1] / "config" / "config.yaml").read_text())


def _merge(base: dict, over: dict) -> dict:  # as rules/common.smk merges a scale's block over `common`
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _study(scale: str = "mnist5k") -> dict:
    block = CONFIG["experiments"]["cifar_study"]
    return _merge(block["common"], block.get(scale) or {})


def _entry(key: str, scale: str = "mnist5k") -> dict:
    return next(m for m in _study(scale)["models"] if m["id"] == key)


def _build_study_model(key: str, width: int = 8, scale: str = "mnist5k"):
    _, _, spec = study_model(_entry(key, scale), width)
    kw = dict(spec["model_kwargs"])
    if spec["model"] == "cifar_cgan":
        kw["num_classes"] = 10
    torch.manual_seed(0)
    return spec, *models.build(spec["model"], 128, **kw)


def _has(m: nn.Module, *types: type) -> bool:
    return any(isinstance(x, types) for x in m.modules())


def _spectral(m: nn.Module) -> list[nn.Module]:
    return [x for x in m.modules() if hasattr(x, "parametrizations") and "weight" in x.parametrizations]


def _weight_layers(m: nn.Module) -> list[nn.Module]:
    return [x for x in m.modules() if isinstance(x, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))]


# --- shapes and parameter counts --------------------------------------------------------------------------------------


def test_dcgan_parameter_count_by_hand():
    G, D = models.build("cifar_dcgan", 128, width=64)
    # G: linear 128 -> 4*4*256 (+bias), then 256->128, 128->64, 64->3 transposed 4x4 convolutions (+bias)
    assert count_params(G) == (128 * 4096 + 4096) + (256 * 128 * 16 + 128) + (128 * 64 * 16 + 64) + (64 * 3 * 16 + 3) == 1_187_011
    # D: 3->64, 64->128, 128->256 4x4 convolutions (+bias), then linear 256*4*4 -> 1 (+bias)
    assert count_params(D) == (3 * 64 * 16 + 64) + (64 * 128 * 16 + 128) + (128 * 256 * 16 + 256) + (4096 + 1) == 662_977


@pytest.mark.parametrize("key", ["dcgan1", "dcgan2", "dcgan3", "dcgan4", "cdcgan", "sncgan", "wgan_gp"])
def test_every_study_model_makes_32x32_rgb_and_one_logit(key):
    spec, G, D = _build_study_model(key)
    G.eval()
    z, y = torch.randn(6, 128), torch.arange(6) % 10
    cond = models.is_conditional(G)
    x = G(z, y) if cond else G(z)
    assert x.shape == (6, 3, 32, 32)
    lo = 0.0 if spec["model_kwargs"].get("out") == "sigmoid" else -1.0
    assert x.min() >= lo and x.max() <= 1.0
    # at the N(0, 0.02) init G's pre-activations are near 0: tanh gives values of both signs, sigmoid about 1/2
    assert (abs(x.mean().item() - 0.5) < 0.05) if lo == 0.0 else (x.min() < 0 < x.max())
    out = D(x, y) if cond else D(x)
    assert out.shape == (6,) and out.dtype == torch.float32


def test_conditional_inputs_are_the_seeds_138_and_13():
    _, G, D = _build_study_model("cdcgan")
    rep = _study()["seed_reported"]["conditional_in_channels"]
    assert G.project[0].in_features == 128 + 10 == rep["g"]
    assert D.net[0].in_channels == 3 + 10 == rep["d"]
    with pytest.raises(ValueError, match="conditional"):
        G(torch.randn(2, 128))


def test_conditional_samples_depend_on_the_label():
    _, G, D = _build_study_model("cdcgan")
    G.eval()
    # the same noise for every class, so outputs differ only through the label
    same_z = torch.randn(4, 128, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        outs = torch.stack([G(same_z, torch.full((4,), k)) for k in range(10)])
        again = torch.stack([G(same_z, torch.full((4,), k)) for k in range(10)])
    assert torch.equal(outs, again)
    scale = outs.abs().mean().item()  # at the N(0, 0.02) init every output is small: compare relative to it
    diffs = [(outs[k] - outs[j]).abs().mean().item() / scale for k in range(10) for j in range(10) if k != j]
    assert min(diffs) > 0.05
    x = outs[0]
    with torch.no_grad():
        assert not torch.allclose(D(x, torch.zeros(4, dtype=torch.long)), D(x, torch.full((4,), 7)))


def test_sncgan_is_the_smaller_model():
    _, Gc, Dc = _build_study_model("cdcgan", width=64)
    _, Gs, Ds = _build_study_model("sncgan", width=64)
    assert count_params(Gs) < count_params(Gc) / 2 and count_params(Ds) < count_params(Dc) / 2


# --- spectral norm, batch norm, activations, where the study puts them -------------------------------------------------


def test_spectral_norm_in_d_from_model_3_on_and_never_in_g():
    for key in ("dcgan1", "dcgan2", "wgan_gp"):
        _, G, D = _build_study_model(key)
        assert not _spectral(D) and not _spectral(G), key
    for key in ("dcgan3", "dcgan4", "cdcgan", "sncgan"):
        _, G, D = _build_study_model(key)
        assert len(_spectral(D)) == len(_weight_layers(D)) == 4, key  # every convolution and the linear layer
        assert not _spectral(G), key


def test_spectral_norm_keeps_each_layers_largest_singular_value_near_one():
    _, G, D = _build_study_model("dcgan3", width=16)
    D.train()
    opt = torch.optim.Adam(D.parameters(), lr=1e-2)
    for _ in range(5):  # move the raw weights, then let the power iteration catch up in train-mode passes
        loss = D(torch.randn(8, 3, 32, 32)).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        for _ in range(10):
            D(torch.randn(8, 3, 32, 32))
        D.eval()
        for layer in _spectral(D):
            raw = layer.parametrizations.weight.original.flatten(1)
            sigma_raw = torch.linalg.matrix_norm(raw, ord=2).item()
            sigma = torch.linalg.matrix_norm(layer.weight.flatten(1), ord=2).item()
            assert sigma == pytest.approx(1.0, abs=0.02), (layer, sigma)
            assert abs(sigma_raw - 1.0) > 0.05  # the raw weight is not normalised by itself


def test_batch_norm_and_activations_as_specified():
    _, G1, D1 = _build_study_model("dcgan1")
    _, G3, D3 = _build_study_model("dcgan3")
    _, G4, _ = _build_study_model("dcgan4")
    _, Gs, Ds = _build_study_model("sncgan")
    bn = (nn.BatchNorm1d, nn.BatchNorm2d)
    assert not _has(G1, *bn) and not _has(D1, *bn)
    assert _has(G3, nn.BatchNorm1d) and _has(G3, nn.BatchNorm2d) and not _has(D3, *bn)
    assert _has(G3, nn.LeakyReLU) and not _has(G3, nn.ReLU)
    assert _has(G4, nn.ReLU) and not _has(G4, nn.LeakyReLU)  # model 4: ReLU in G
    assert isinstance(G1.body[-1], nn.Sigmoid) and isinstance(G3.body[-1], nn.Tanh)
    # the SN-CGAN: batch norm in G and D with Keras's momentum 0.8 (PyTorch 0.2) and epsilon 1e-5, dropout in D
    norms = [m for m in [*Gs.modules(), *Ds.modules()] if isinstance(m, bn)]
    assert _has(Ds, nn.BatchNorm2d) and all(m.momentum == 0.2 and m.eps == 1e-5 for m in norms)
    assert _has(Ds, nn.Dropout) and not _has(Gs, nn.Dropout)


def test_wgan_gp_critic_has_no_batch_norm_and_trains_with_the_penalty():
    spec, G, D = _build_study_model("wgan_gp")
    assert not _has(D, nn.BatchNorm1d, nn.BatchNorm2d, nn.Dropout) and not _spectral(D)
    assert spec["loss"] == "wgan_gp" and spec["d_steps"] == 5
    with pytest.raises(ConfigError, match="d_norm"):  # the critic cannot be given batch norm by config
        parse_train({"model": "cifar_wgan_gp", "model_kwargs": {"d_norm": "batch"}})


# --- config entries --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", ["smoke", "mnist5k", "full"])
def test_every_study_model_in_the_config_validates(scale):
    p = _study(scale)
    assert [m["id"] for m in p["models"]] == ["dcgan1", "dcgan2", "dcgan3", "dcgan4", "cdcgan", "sncgan", "wgan_gp"]
    for entry in p["models"]:
        key, label, spec = study_model(entry, p["width"])
        train = {**p["train"], **spec, "data": {**p["train"]["data"], **spec.get("data", {})}}
        cfg = parse_train(train)
        assert label and cfg.model_kwargs["width"] >= 4
        assert cfg.z_dim == 128


@pytest.mark.parametrize("model,kwargs,words", [
    ("cifar_dcgan", {"g_norm": "layer"}, ["g_norm", "'batch'"]),
    ("cifar_dcgan", {"width": 2}, ["width", "[4, 512]"]),
    ("cifar_dcgan", {"num_classes": 10}, ["num_classes", "unknown"]),  # unconditional: no labels
    ("cifar_dcgan", {"spectral": "yes"}, ["spectral", "true or false"]),
    ("cifar_cgan", {"num_classes": 1}, ["num_classes"]),
    ("cifar_cgan", {"d_dropout": 1.0}, ["d_dropout"]),
    ("cifar_cgan", {"bn_momentum": 0}, ["bn_momentum"]),
    ("cifar_wgan_gp", {"spectral": True}, ["spectral", "unknown"]),
])
def test_bad_model_kwargs_fail_in_the_config(model, kwargs, words):
    with pytest.raises(ConfigError) as e:
        parse_train({"model": model, "model_kwargs": kwargs})
    for w in words:
        assert w in str(e.value)


def test_a_conditional_model_and_wgan_gp_train_a_few_steps():
    from gan.train import train

    base = {"data": {"name": "colour_mnist5k", "limit": 64}, "z_dim": 16, "steps": 3, "batch_size": 8, "log_every": 1,
            "device": "cpu", "seed": 1}
    r = train(parse_train({**base, "model": "cifar_cgan", "model_kwargs": {"width": 4, "spectral": True}}), progress=False)
    assert models.is_conditional(r.G) and r.G.num_classes == 10 and not r.diverged  # num_classes from the data
    w = train(parse_train({**base, "model": "cifar_wgan_gp", "model_kwargs": {"width": 4}, "loss": "wgan_gp", "d_steps": 5,
               "betas": [0.0, 0.9]}), progress=False)
    assert w.steps == 3 and not w.diverged


# --- the face-folder stand-in and the preprocessing pipeline -----------------------------------------------------------


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    from gan.data.faces import standin_folders

    root = tmp_path_factory.mktemp("faces")
    raw, prep = standin_folders(root, limit=60)
    return root, raw, prep


def _pictures(folder: Path) -> list[np.ndarray]:
    return [np.asarray(Image.open(f).convert("L")) for f in sorted(folder.glob("*.png"))]


def test_raw_standin_varies_in_size_and_position(standin):
    from gan.data.faces import content_offset

    _, raw, _ = standin
    pics = _pictures(raw)
    assert len(pics) == 60
    shapes = {p.shape for p in pics}
    assert len(shapes) > 40 and min(min(s) for s in shapes) >= 40 and max(max(s) for s in shapes) <= 96
    off = np.array([content_offset(p) for p in pics])
    assert np.nanmean(off[:, 0]) > 0.08  # content away from the centre on average
    assert np.nanstd(off[:, 0]) > 0.03 and np.nanstd(off[:, 1]) > 0.02  # at varying places and sizes
    assert np.mean([p.std() for p in pics]) > 10  # noisy, lit canvases, not clean digits


def test_preprocessing_centres_and_normalises(standin):
    from gan.data.faces import content_offset

    _, raw, prep = standin
    pics = _pictures(prep)
    assert len(pics) == 60 and {p.shape for p in pics} == {(28, 28)}
    off = np.array([content_offset(p) for p in pics])
    assert np.nanmedian(off[:, 0]) < 0.03 and np.nanmean(off[:, 0] < 0.06) > 0.9  # centre of mass at the middle
    assert all(p.max() == 255 for p in pics)  # contrast stretched
    assert np.mean([np.median(p) for p in pics]) < 5  # background removed


def test_pipeline_centres_crops_and_aligns_a_known_shape():
    from gan.data.faces import preprocess_image, principal_angle

    canvas = np.full((60, 90), 40, np.uint8)
    bar = Image.fromarray(np.pad(np.full((30, 4), 200, np.uint8), 3)).rotate(30, expand=True)  # a tilted bar
    b = np.asarray(bar)
    assert b.shape[0] < 55 and b.shape[1] < 30
    canvas[2 : 2 + b.shape[0], 60 : 60 + b.shape[1]] = np.maximum(canvas[2 : 2 + b.shape[0], 60 : 60 + b.shape[1]], b)
    out = preprocess_image(canvas)
    assert out.shape == (28, 28)
    ys, xs = np.nonzero(out > 64)
    assert abs(ys.mean() - 13.5) < 1.0 and abs(xs.mean() - 13.5) < 1.0  # centred
    assert ys.max() - ys.min() + 1 == pytest.approx(20, abs=1)  # resized into the 20-pixel box
    angle, elongation = principal_angle(out.astype(float))
    assert elongation > 3 and abs(angle) < 3  # aligned upright


def test_standin_loads_through_the_folder_loader_deterministically(standin, tmp_path):
    from gan.data import load_dataset
    from gan.data.faces import source_folder, standin_folders

    root, raw, prep = standin
    s = load_dataset(DataConfig.from_dict({"name": "faces_standin_raw", "root": str(root), "limit": 60}))
    p = load_dataset(DataConfig.from_dict({"name": "faces_standin_preprocessed", "root": str(root), "limit": 60}))
    assert s.images.shape == p.images.shape == (60, 1, 28, 28)
    assert "stand-in" in s.name and "stand-in" in p.name and s.labels is None
    assert source_folder(DataConfig(name="faces_standin_raw", root=str(root), limit=60)) == raw
    digest = lambda d: hashlib.sha1(b"".join(f.read_bytes() for f in sorted(d.glob("*.png")))).hexdigest()  # noqa: E731
    raw2, prep2 = standin_folders(tmp_path, limit=60)  # made again elsewhere: the same files
    assert digest(raw2) == digest(raw) and digest(prep2) == digest(prep)


def test_full_scale_face_folders_give_a_clear_error_when_missing(tmp_path, monkeypatch):
    from gan.data import DataUnavailable, check_available

    monkeypatch.chdir(tmp_path)  # data/faces/... relative to an empty folder
    full = CONFIG["experiments"]["face_preprocessing"]["full"]
    for cfg in (*full["variants"].values(), full["reference"]):
        with pytest.raises(DataUnavailable, match="does not exist|no images"):
            check_available(DataConfig.from_dict(cfg))
