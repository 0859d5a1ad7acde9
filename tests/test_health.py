"""Run health (gan.health), tested both ways: sets of images a trained generator could make pass, and each way a
run fails is caught, with the reason in words. The image sets are real MNIST-5k digits, degraded as the
LeNet-FID calibration degrades them, and deliberately broken sets (blank, one image, two classes, digits seen
through a checkerboard, noise)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gan import health
from gan.metrics import extract_features, fid_from_features
from gan.metrics.digits import digit_metrics
from gan.metrics.features import lenet_fid_network

N = 1000


@pytest.fixture(scope="module")
def setup(mnist5k):
    net, _ = lenet_fid_network(mnist5k)
    ref_images = mnist5k.images[:2500]
    ref = extract_features(net, ref_images)
    g = torch.Generator().manual_seed(0)
    noise = torch.randint(0, 256, (N, 1, 28, 28), generator=g, dtype=torch.uint8)
    noise_fid = fid_from_features(extract_features(net, noise), ref)
    return net, ref, ref_images, noise_fid, mnist5k


def _assess(setup, images, log=None):
    net, ref, ref_images, noise_fid, _ = setup
    fid = fid_from_features(extract_features(net, images), ref)
    d = digit_metrics(net, images)
    log = log or [{"acc_fake": 0.7}] * 100
    return health.assess(log=log, diverged_at=None, fake=images, real=ref_images, fid=fid, noise_fid=noise_fid,
                         classes_covered=d.classes_covered, num_classes=10)


def _pool(setup):
    return setup[4].images[2500:2500 + N]


def _blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    k = torch.exp(-0.5 * (torch.arange(-3, 4) / sigma) ** 2)
    k = (k[:, None] * k[None, :]) / k.sum() ** 2
    return F.conv2d(x.float(), k[None, None], padding=3).round().clamp(0, 255).to(torch.uint8)


def test_what_a_trained_generator_could_make_passes(setup):
    pool = _pool(setup)
    g = torch.Generator().manual_seed(1)
    noisy = (pool.float() + 25 * torch.randn(pool.shape, generator=g)).round().clamp(0, 255).to(torch.uint8)
    for name, images in {"real digits": pool, "digits with pixel noise": noisy, "blurred digits": _blur(pool, 1.0)}.items():
        h = _assess(setup, images)
        assert h.ok, (name, h.reasons)
        assert h.diversity_ratio > 0.5 and h.classes_covered == 10, name  # far above the 0.25 of a collapse


@pytest.mark.parametrize("broken,reason", [
    ("blank", "blank samples"),
    ("one image", "collapse (sample diversity"),
    ("two classes", "collapse (2 of 10 classes"),
    ("checkerboard", "noise (FID"),  # the CIFAR study's DCGAN 2 draws its colour digits through one
    ("uniform noise", "noise (FID"),
])
def test_each_way_of_failing_is_caught(setup, broken, reason):
    pool, labels = _pool(setup), setup[4].labels[2500:2500 + N]
    images = {"blank": torch.zeros_like(pool),
              "one image": pool[:1].expand(N, -1, -1, -1).contiguous(),
              "two classes": pool[labels < 2][torch.randint(int((labels < 2).sum()), (N,), generator=torch.Generator().manual_seed(2))],
              "checkerboard": pool * ((torch.arange(28)[:, None] + torch.arange(28)) % 2).to(torch.uint8),
              "uniform noise": torch.randint(0, 256, pool.shape, generator=torch.Generator().manual_seed(3), dtype=torch.uint8)}[broken]
    h = _assess(setup, images)
    assert h.status == "failed" and any(r.startswith(reason) for r in h.reasons), h.reasons


def test_the_noise_line_sits_between_blurred_digits_and_a_two_class_collapse(setup):
    """The calibration that places it: legible digits blurred by 1 px stay under half the noise FID, real digits of
    two classes and digits behind a checkerboard land over it, with room on both sides."""
    net, ref, _, noise_fid, data = setup
    pool, labels = _pool(setup), data.labels[2500:2500 + N]
    ratio = {name: fid_from_features(extract_features(net, x), ref) / noise_fid for name, x in {
        "blurred": _blur(pool, 1.0), "two classes": pool[labels < 2],
        "checkerboard": pool * ((torch.arange(28)[:, None] + torch.arange(28)) % 2).to(torch.uint8)}.items()}
    assert ratio["blurred"] < 0.9 * health.NOISE_FRACTION, ratio
    assert min(ratio["two classes"], ratio["checkerboard"]) > 1.1 * health.NOISE_FRACTION, ratio


def test_a_discriminator_that_won_fails_the_run_and_divergence_too(setup):
    won = [{"acc_fake": 0.6}] * 80 + [{"acc_fake": 0.995}] * 20  # the last 20 % of steps
    h = _assess(setup, _pool(setup), log=won)
    assert not h.ok and h.reasons == ("discriminator won (accuracy on fakes 0.99 over the last 20% of steps)",)
    assert _assess(setup, _pool(setup), log=[{"acc_fake": 0.995}] * 79 + [{"acc_fake": 0.6}] * 21).ok
    d = health.assess(log=[], diverged_at=12, fake=None, real=_pool(setup), fid=None, noise_fid=1000.0)
    assert d.reasons == ("diverged (non-finite loss at step 12)",)


def test_a_run_reported_against_another_set_is_judged_on_its_own_images(tmp_path, tmp_cache, tiny_cfg):
    """gan.run.run_training with an `fid_reference` (the face study's raw-folder runs): the reported FID is against
    that reference, the health FID against the run's own training images; both equal scoring the run's FID samples
    directly (one feature extraction serves the two)."""
    from gan.config import DataConfig, TrainConfig
    from gan.data import load_dataset
    from gan.metrics import feature_network, score_samples
    from gan.run import FID_SEED, run_training
    from gan.train import generate, train

    train_config = tiny_cfg(data={"limit": 600})
    reference = {"name": "digits", "limit": 300}
    m = run_training(tmp_path, experiment="t", run_id="r", scale="t", train_config=train_config, fid_samples=200,
                     fid_reference=reference, progress=False, keep_checkpoint=True)
    assert m["fid_reference_images"] == 300 and "health_fid" in m
    cfg = TrainConfig.from_dict(train_config)
    own, real = load_dataset(cfg.data), load_dataset(DataConfig.from_dict(reference))
    net, _ = feature_network("lenet", real)
    done = train(cfg, own, run_dir=tmp_path, progress=False)  # resumes at its last step: the same generator
    fake = generate(done.sampler, 200, cfg.z_dim, seed=FID_SEED, pixel_range=cfg.data.pixel_range)
    assert m["fid"] == pytest.approx(score_samples(net, fake, real.images)["fid"], rel=1e-9)
    assert m["health_fid"] == pytest.approx(score_samples(net, fake, own.images)["fid"], rel=1e-9)
    assert m["health_fid"] != pytest.approx(m["fid"], rel=1e-3)
