"""Config validation: every bad field fails with a message naming it, before any training starts or any file is
written."""

from __future__ import annotations

import math

import pytest

from gan.checks import parse_train
from gan import losses
from gan.config import ConfigError, DataConfig, TrainConfig
from gan.train import train

# (bad config, words the message must contain: the field, and where useful what is allowed)
BAD_CONFIGS = [
    ({"stepz": 10}, ["stepz", "unknown key", "did you mean 'steps'"]),
    ({"data": {"nme": "digits"}}, ["data.nme", "did you mean 'name'"]),
    ({"steps": "10"}, ["steps", "expected an integer"]),
    ({"steps": 10.0}, ["steps", "expected an integer"]),
    ({"batch_size": True}, ["batch_size", "expected an integer", "True"]),
    ({"lr_g": True}, ["lr_g", "expected a number"]),
    ({"data": {"download": 1}}, ["data.download", "true or false"]),
    ({"lr_g": 0.0}, ["lr_g", "(0, 1)"]),
    ({"lr_d": 1.5}, ["lr_d", "(0, 1)"]),
    ({"lr_d": math.nan}, ["lr_d", "finite"]),
    ({"gp_weight": math.inf}, ["gp_weight", "finite"]),
    ({"batch_size": 0}, ["batch_size", "[1, 65536]"]),
    ({"steps": 0}, ["steps", ">= 1"]),
    ({"z_dim": 0}, ["z_dim"]),
    ({"seed": -1}, ["seed", ">= 0"]),
    ({"betas": [0.5, 1.0]}, ["betas", "[0, 1)"]),
    ({"betas": [0.5]}, ["betas", "2 values"]),
    ({"betas": [0.5, "0.9"]}, ["betas[1]", "expected a number"]),
    ({"label_smoothing": 0.5}, ["label_smoothing", "[0, 0.5)"]),
    ({"label_smoothing": -0.1}, ["label_smoothing"]),
    ({"loss": "wgan"}, ["loss", "did you mean 'wgan_gp'"]),
    ({"d_augment": "translaton"}, ["d_augment", "did you mean 'translation'"]),
    ({"lr_half_life": -1}, ["lr_half_life", ">= 0"]),
    ({"loss": "wgan_gp", "label_smoothing": 0.1}, ["label_smoothing", "wgan_gp"]),
    ({"r1_gamma": -1.0}, ["r1_gamma", ">= 0"]),
    ({"loss": "wgan_gp", "r1_gamma": 1.0}, ["r1_gamma", "gp_weight"]),
    ({"loss": "wgan_gp", "compile": True}, ["compile", "twice"]),
    ({"r1_gamma": 1.0, "compile": True}, ["compile", "r1_gamma"]),
    ({"model": "dcgan"}, ["model", "unknown model 'dcgan'", "dcgan28"]),
    ({"model_kwargs": {"g_dept": 4}}, ["model_kwargs.g_dept", "g_depth"]),
    ({"model_kwargs": {"g_depth": 9}}, ["g_depth", "[3, 8]", "9"]),
    ({"model_kwargs": {"d_depth": 2}}, ["d_depth", "2"]),
    ({"model_kwargs": {"g_depth": "4"}}, ["model_kwargs.g_depth", "expected an integer"]),
    ({"model_kwargs": {"g_depth": True}}, ["model_kwargs.g_depth", "expected an integer"]),
    ({"model_kwargs": {"z_dim": 10}}, ["model_kwargs.z_dim", "unknown"]),
    ({"model": "seminar", "model_kwargs": {"dropout": 1.0}}, ["dropout", "[0, 1)"]),
    ({"model": "afhq_dcgan", "model_kwargs": {"image_size": 96}}, ["image_size", "64 or 128"]),
    ({"data": {"name": "mnist6k"}}, ["data.name", "did you mean 'mnist5k'"]),
    ({"data": {"augment": "rotate"}}, ["data.augment", "rotation"]),
    ({"data": {"image_size": 4}}, ["data.image_size", "[8, 1024]"]),
    ({"data": {"channels": 2}}, ["data.channels", "1 or 3"]),
    ({"data": {"pixel_range": "0-1"}}, ["data.pixel_range", "'symmetric'"]),
    ({"data": {"limit": 0}}, ["data.limit"]),
    ({"data": "mnist5k"}, ["data", "expected a mapping"]),
    ({"device": "tpu"}, ["device", "'cuda'"]),
    ({"precision": "fp16"}, ["precision", "'bf16'"]),
    ({"threads": 0}, ["threads"]),
    ({"checkpoint_every": 0}, ["checkpoint_every"]),
    ({"d_steps": 0}, ["d_steps"]),
]


def _ids(case):
    return "-".join(f"{k}={v!r}" for k, v in case[0].items())[:60]


@pytest.mark.parametrize("bad,words", BAD_CONFIGS, ids=[_ids(c) for c in BAD_CONFIGS])
def test_bad_config_names_the_field(bad, words):
    with pytest.raises(ConfigError) as e:
        parse_train(bad)
    for w in words:
        assert w in str(e.value), f"{w!r} not in {str(e.value)!r}"


def test_at_least_ten_distinct_fields_are_checked():
    fields = {next(iter(b)) if next(iter(b)) not in ("data", "model_kwargs") else str(b) for b, _ in BAD_CONFIGS}
    assert len(fields) >= 10


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if any discriminator or generator loss is computed: a bad config must stop before that."""

    def boom(*a, **k):
        raise AssertionError("training started")

    monkeypatch.setattr(losses, "d_loss", boom)
    monkeypatch.setattr(losses, "g_loss", boom)


@pytest.mark.parametrize("bad,words", BAD_CONFIGS, ids=[_ids(c) for c in BAD_CONFIGS])
def test_bad_config_fails_before_training_and_writes_nothing(bad, words, tmp_path, tiny_cfg, no_training):
    run_dir = tmp_path / "run"
    cfg = tiny_cfg()
    for k, v in bad.items():
        cfg[k] = {**cfg[k], **v} if isinstance(v, dict) and isinstance(cfg.get(k), dict) else v
    if "model" in bad and "model_kwargs" not in bad:
        cfg["model_kwargs"] = {}
    with pytest.raises(ConfigError) as e:
        train(parse_train(cfg), run_dir=run_dir, progress=False)
    assert words[0] in str(e.value)
    assert not run_dir.exists() or not any(run_dir.iterdir())
    assert not list(tmp_path.rglob("*.pt"))


def test_batch_larger_than_data_fails_before_training(tmp_path, tiny_cfg, no_training):
    run_dir = tmp_path / "run"
    with pytest.raises(ConfigError, match=r"batch_size: 32 is larger than .*digits.* \(16 images\)"):
        train(parse_train(tiny_cfg(batch_size=32, data={"limit": 16})), run_dir=run_dir, progress=False)
    assert not run_dir.exists()


def test_model_data_shape_mismatch_fails_before_training(tmp_path, tiny_cfg, no_training):
    run_dir = tmp_path / "run"
    cfg = tiny_cfg(model="afhq_dcgan", model_kwargs={"width": 4})
    with pytest.raises(ConfigError, match=r"makes images of shape \(3, 64, 64\).*has \(1, 28, 28\).*data.image_size"):
        train(parse_train(cfg), run_dir=run_dir, progress=False)
    assert not run_dir.exists()
    # three channels but 28x28: still the wrong shape
    with pytest.raises(ConfigError, match=r"\(3, 28, 28\)"):
        train(parse_train(tiny_cfg(data={"channels": 3})), run_dir=run_dir, progress=False)
    assert not run_dir.exists()


def test_missing_data_fails_before_training(tmp_path, tiny_cfg, no_training):
    from gan.data import DataUnavailable

    run_dir = tmp_path / "run"
    with pytest.raises(DataUnavailable, match="does not exist"):
        train(parse_train(tiny_cfg(data={"name": "folder", "root": str(tmp_path / "nowhere"), "limit": None})), run_dir=run_dir,
              progress=False)
    assert not run_dir.exists()


def test_bf16_on_cpu_is_refused_before_training(tmp_path, tiny_cfg, no_training):
    with pytest.raises(ConfigError, match="precision"):
        train(parse_train(tiny_cfg(precision="bf16")), run_dir=tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


def test_defaults_are_valid_and_round_trip():
    cfg = TrainConfig.from_dict({})
    assert cfg == TrainConfig()
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    assert TrainConfig.from_dict(None) == cfg


def test_lossless_conversions():
    cfg = TrainConfig.from_dict({"betas": [0.0, 0.9], "lr_g": 1e-3, "gp_weight": 5, "data": {"name": "digits"}})
    assert cfg.betas == (0.0, 0.9) and isinstance(cfg.betas, tuple)
    assert cfg.gp_weight == 5.0 and isinstance(cfg.gp_weight, float)
    assert isinstance(cfg.data, DataConfig) and cfg.data.name == "digits"
    assert cfg.to_dict()["betas"] == [0.0, 0.9]


def test_replace_validates():
    cfg = TrainConfig.from_dict({"steps": 5})
    assert cfg.replace(steps=7).steps == 7
    assert cfg.replace(steps=7).data == cfg.data
    with pytest.raises(ConfigError, match="steps"):
        cfg.replace(steps=-1)


def test_valid_model_kwargs_pass():
    cfg = TrainConfig.from_dict({"model": "dense", "model_kwargs": {"g_depth": 6, "d_depth": 4}})
    assert cfg.model_kwargs == {"g_depth": 6, "d_depth": 4}
    TrainConfig.from_dict({"model": "seminar", "model_kwargs": {"dropout": 0}, "data": {"pixel_range": "unit"}})
