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


def test_a_wasserstein_critic_is_not_judged_on_its_accuracy(setup):
    """A critic's score has no threshold: the share of fakes below 0 is not an accuracy (WGAN-GP seed 3 of the CIFAR
    study scored 1.00 with the lowest FID of its five runs). Its samples are judged as every run's are."""
    net, ref, ref_images, noise_fid, _ = setup
    log = [{"acc_fake": 1.0}] * 100
    good = health.assess(log=log, diverged_at=None, fake=_pool(setup), real=ref_images, fid=10.0, noise_fid=noise_fid,
                         classes_covered=10, num_classes=10, critic=True)
    assert good.ok and good.tail_acc_fake is None
    blank = torch.zeros_like(_pool(setup))
    bad = health.assess(log=log, diverged_at=None, fake=blank, real=ref_images, fid=None, noise_fid=noise_fid, critic=True)
    assert not bad.ok and bad.reasons[0].startswith("blank samples")


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


def _colour(x: torch.Tensor, fg: torch.Tensor, bg: torch.Tensor) -> torch.Tensor:
    """Digits drawn as gan.data.loaders.load_colour_mnist5k draws them: each on its ground colour, strokes in its ink."""
    a = x.float() / 255
    return ((bg + (fg - bg) * a) * 255).round().to(torch.uint8)


@pytest.fixture(scope="module")
def colour_sets(mnist5k):
    """Colour digits as the CIFAR stand-in makes them (random ink in [0.3, 1], ground in [0, 0.3], per image) and
    what a generator that lost the colours would draw: grey digits on one dark green ground (the CIFAR study's DCGAN
    1 on every seed), digits all in one ink and on one ground, and digits in one ink on their own grounds."""
    x = mnist5k.images[:2 * N]
    g = torch.Generator().manual_seed(4)
    fg, bg = torch.rand(len(x), 3, 1, 1, generator=g) * 0.7 + 0.3, torch.rand(len(x), 3, 1, 1, generator=g) * 0.3
    grey = torch.rand(len(x), 1, 1, 1, generator=g) * 0.7 + 0.3
    green = torch.tensor([0.05, 0.15, 0.08]).view(1, 3, 1, 1)
    real = _colour(x[:N], fg[:N], bg[:N])
    return real, {
        "other colour digits": _colour(x[N:], fg[N:], bg[N:]),
        "the same digits recoloured": _colour(x[:N], fg[N:], bg[N:]),
        "colour digits blurred": _colour(_blur(x[N:], 1.0), fg[N:], bg[N:]),
    }, {
        "grey digits on one green ground": _colour(x[N:], grey[N:].expand(-1, 3, -1, -1), green),
        "digits in one ink on one ground": _colour(x[N:], fg[:1], bg[:1]),
        "digits in one ink on their own grounds": _colour(x[N:], fg[:1], bg[N:]),
    }


def test_colour_collapse_is_caught_and_colour_digits_pass(colour_sets):
    real, good, bad = colour_sets
    log = [{"acc_fake": 0.7}] * 100
    for name, images in good.items():
        h = health.assess(log=log, diverged_at=None, fake=images, real=real, fid=None, noise_fid=None)
        assert h.ok and 0.85 < h.colour_ratio < 1.15, (name, h.colour_ratio, h.reasons)
    for name, images in bad.items():
        h = health.assess(log=log, diverged_at=None, fake=images, real=real, fid=None, noise_fid=None)
        if name == "digits in one ink on their own grounds":
            # what the check does not see: the overall colour is mostly the ground's, so one ink on varied grounds
            # passes (about 0.96); the inks alone did not separate the committed runs either (pilots/README.md)
            assert h.ok and h.colour_ratio > 0.85, h.colour_ratio
            continue
        assert h.colour_ratio < 0.6 * health.COLOUR_COLLAPSE, (name, h.colour_ratio)
        assert h.reasons == (f"collapse (colour: the samples' colours spread {h.colour_ratio:.2f} as widely as the real "
                             "images')",), name


def test_colour_is_judged_only_where_the_real_images_differ_in_colour(setup, colour_sets):
    """Grey data (one channel, or three equal ones) have no colour for a generator to lose; blank samples are
    named blank, not also colourless."""
    real = colour_sets[0]
    grey_rgb = real.float().mean(1, keepdim=True).round().to(torch.uint8).expand(-1, 3, -1, -1)
    assert health.colour_spread(grey_rgb) == pytest.approx(0.0, abs=1e-6)
    assert health.colour_spread(_pool(setup)) is None
    log = [{"acc_fake": 0.7}] * 100
    h = health.assess(log=log, diverged_at=None, fake=grey_rgb, real=grey_rgb, fid=None, noise_fid=None)
    assert h.ok and h.colour_ratio is None
    assert _assess(setup, _pool(setup)).colour_ratio is None
    blank = health.assess(log=log, diverged_at=None, fake=torch.zeros_like(real), real=real, fid=None, noise_fid=None)
    assert blank.reasons[0].startswith("blank") and not any("colour" in r for r in blank.reasons)


def test_colour_spread_is_the_rms_distance_of_mean_chromaticities():
    """A closed form: two images, one pure red and one pure green (full intensity). Their mean chromaticities are
    (2/3, -1/3, -1/3) and (-1/3, 2/3, -1/3); each lies (1/2, -1/2, 0) from the average, at distance sqrt(1/2)."""
    x = torch.zeros(2, 3, 4, 4, dtype=torch.uint8)
    x[0, 0], x[1, 1] = 255, 255
    assert health.colour_spread(x) == pytest.approx(0.5 ** 0.5, rel=1e-6)


def test_a_line_fails_on_its_own_side_and_a_run_on_a_below_line_passes():
    """The comparisons of `assess`, read from `LINES`: a line drawn above fails at its value (D right on 99 % of
    fakes, FID at half the noise FID), one drawn below fails under it only (5 of 10 classes pass); unmeasured never
    fails."""
    line = health.LINE
    assert line["discriminator won"].crossed(0.99) and not line["discriminator won"].crossed(0.989)
    assert line["noise"].crossed(0.5) and not line["noise"].crossed(0.499)
    assert not line["collapse (classes)"].crossed(5 / 10) and line["collapse (classes)"].crossed(4 / 10)
    assert line["blank"].crossed(1.99) and not line["blank"].crossed(2.0)
    assert not any(x.crossed(v) for x in health.LINES for v in (None, float("nan")))
    assert [x.threshold for x in health.LINES] == [health.D_WON_ACC, health.BLANK_STD, health.COLLAPSE_DIVERSITY,
                                                    health.MIN_CLASS_FRACTION, health.COLOUR_COLLAPSE, health.NOISE_FRACTION]


def test_line_values_read_a_run_as_health_judged_it():
    """From metrics.json: the health FID where the run's FID is reported against another set, the class share out of
    the classifier's classes, and nothing for what a line does not judge (a critic, grey images, a diverged run)."""
    m = {"fid": 400.0, "health_fid": 100.0, "noise_fid": 1000.0, "tail_acc_fake": 0.7, "pixel_std": 60.0,
         "diversity_ratio": 0.9, "colour_ratio": None, "classes_covered": 7, "class_shares": [0.1] * 10}
    assert health.line_values(m) == {"discriminator won": 0.7, "blank": 60.0, "collapse": 0.9,
                                     "collapse (classes)": 0.7, "collapse (colour)": None, "noise": 0.1}
    assert health.line_values({**m, "health_fid": None})["noise"] == pytest.approx(0.4)
    diverged = {"fid": None, "noise_fid": 1000.0, "tail_acc_fake": float("nan"), "pixel_std": None,
                "diversity_ratio": None, "classes_covered": None, "class_shares": None}
    assert set(health.line_values(diverged).values()) == {None}


def test_every_committed_run_failed_exactly_when_it_crossed_a_line():
    """The lines the book draws are the lines that judged: over every committed run of every scale here, a run
    failed health if and only if it diverged or one of `LINES` reads it past its threshold."""
    import json
    from pathlib import Path

    files = sorted(Path(__file__).parents[1].glob("results/*/*/runs/*/metrics.json"))
    if not files:
        pytest.skip("no committed runs in this tree")
    for f in files:
        m = json.loads(f.read_text())
        if "status" not in m:
            continue
        crossed = [x.reason for x in health.LINES if x.crossed(health.line_values(m)[x.reason])]
        assert (m["status"] == "failed") == (bool(crossed) or bool(m.get("diverged"))), (f, m["failure"], crossed)


def test_margins_place_the_runs_that_passed_against_each_line():
    runs = [{"name": "a", "status": "ok", "tail_acc_fake": 0.6, "fid": 10.0, "noise_fid": 100.0},
            {"name": "b", "status": "ok", "tail_acc_fake": 0.9, "fid": 40.0, "noise_fid": 100.0},
            {"name": "c", "status": "failed", "tail_acc_fake": 0.995, "fid": 70.0, "noise_fid": 100.0},
            {"name": "d", "status": "ok", "tail_acc_fake": None, "fid": 20.0, "noise_fid": 100.0}]  # a critic
    rows = {r["line"].reason: r for r in health.margins(runs)}
    won, noise = rows["discriminator won"], rows["noise"]
    assert (won["judged"], won["passed"], won["passed_range"], won["closest"], won["past"]) == (3, 2, (0.6, 0.9), ("b", 0.9), 1)
    assert (noise["judged"], noise["passed"], noise["passed_range"], noise["closest"], noise["past"]) == (4, 3, (0.1, 0.4), ("b", 0.4), 1)
    assert rows["blank"]["judged"] == 0 and rows["blank"]["passed_range"] is None and rows["blank"]["closest"] is None


def test_the_health_figure_draws_a_panel_per_line():
    from gan import plots

    runs = [{"group": "x", "status": "ok", "tail_acc_fake": 0.7, "pixel_std": 60.0, "diversity_ratio": 0.9,
             "fid": 10.0, "noise_fid": 100.0},
            {"group": "y", "status": "failed", "tail_acc_fake": 0.995, "pixel_std": 1.0, "diversity_ratio": 0.1,
             "fid": 90.0, "noise_fid": 100.0}]
    fig = plots.health_lines(runs, ["x", "y"])
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title().split(":")[0] for ax in shown] == [x.reason for x in health.LINES]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["passed health", "failed health (on any line)"]
    meant = plots.health_lines([runs[0], {**runs[1], "meant_to_fail": True}], ["x", "y"])
    assert [t.get_text() for t in meant.legends[0].get_texts()] == ["passed health", "failed, as its experiment means it to"]


def test_the_registry_names_the_failures_an_experiment_means_to_produce():
    """Only accuracy_vs_quality's over-powered discriminator is meant to fail; its notebook and the methods chapter
    both read that from the registry."""
    from gan import experiments

    avq = experiments.get("accuracy_vs_quality")
    assert avq.meant_to_fail({"setting": "overpowered_d", "seed": 0})
    assert not avq.meant_to_fail({"setting": "balanced", "seed": 0})
    assert not any(e.meant_to_fail({"setting": "overpowered_d"}) for n, e in experiments.REGISTRY.items() if n != avq.name)
