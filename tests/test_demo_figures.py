"""The helpers the background and theory notebooks call (gan.demos): figures sized for the book's column, the
classification of the saturating-loss runs and the words chosen from it, and the tables the notebooks write.

The figures are checked by what a reader gets: the saved width as a share of the column, and image grids whose
digits are at least `figures.DIGIT_PX` pixels wide at the size the book shows them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from gan.demos import autoencoding as ae
from gan.demos import diffusion as dm
from gan.demos import figures
from gan.demos import minimax as mm
from gan.demos import nce, saturating, toy1d

# --- figures ----------------------------------------------------------------------------------------------------------


def test_upscale_repeats_every_pixel_as_a_block():
    g = np.arange(6, dtype=np.uint8).reshape(2, 3)
    up = figures.upscale(g, 3)
    assert up.shape == (6, 9)
    assert (up[:3, :3] == 0).all() and (up[3:, 6:] == 5).all()
    rgb = figures.upscale(np.zeros((2, 2, 3), np.uint8), 2)
    assert rgb.shape == (4, 4, 3)


def test_to_uint8_clamps_and_scales():
    x = torch.tensor([-2.0, -1.0, 0.0, 1.0, 3.0]).view(5, 1, 1, 1)
    assert figures.to_uint8(x, -1.0, 1.0).flatten().tolist() == [0, 0, 128, 255, 255]
    u = torch.full((1, 1, 2, 2), 7, dtype=torch.uint8)
    assert figures.to_uint8(u) is u


@pytest.mark.parametrize("n, shape", [(1, (1, 1)), (2, (1, 2)), (3, (2, 2)), (4, (2, 2)), (5, (3, 2)), (6, (3, 2))])
def test_grid_shape_prefers_two_columns(n, shape):
    assert figures.grid_shape(n, 2) == shape


def test_column_style_sets_fonts_of_nine_points_or_more():
    with figures.column_style():
        sizes = [figures.plt.rcParams[k] for k in ("font.size", "axes.labelsize", "xtick.labelsize", "ytick.labelsize", "legend.fontsize")]
    assert all(float(s) >= 9 for s in sizes)


def test_save_returns_the_figures_share_of_the_column(tmp_path):
    with figures.column_style():
        fig, _ = figures.plt.subplots(figsize=(3.35, 2))
        w = figures.save(fig, tmp_path / "half.png")
    share = int(w.rstrip("%"))
    assert 40 <= share <= 55  # half the column, give or take the tight bounding box
    with figures.column_style():
        fig, _ = figures.plt.subplots(figsize=(12, 2))
        assert figures.save(fig, tmp_path / "wide.png") == "100%"


@pytest.mark.parametrize("size, per_row", [(28, 10), (14, 6), (28, 8)])
def test_image_rows_show_each_digit_at_least_digit_px_wide(tmp_path, size, per_row):
    imgs = torch.rand(2 * per_row, 1, size, size)
    w = figures.image_rows([(imgs[:per_row], "first"), (imgs, "second, two rows")], tmp_path / "g.png", per_row=per_row)
    png_w = Image.open(tmp_path / "g.png").size[0]
    natural_px = png_w / 2  # saved at 200 dpi for a size planned at 100 px per inch
    shown_px = min(natural_px, figures.COLUMN_IN * 100)
    digit_px = shown_px / per_row * size / (size + 2)  # each image has 2 px of padding in the grid
    assert digit_px >= figures.DIGIT_PX * 0.97
    assert w == f"{math.ceil(100 * natural_px / 100 / figures.COLUMN_IN - 1e-9)}%"


# --- saturating: what each run did ------------------------------------------------------------------------------------


def _trace(means, rounds=None):
    rounds = rounds or list(range(0, 50 * len(means), 50))
    return [{"round": r, "mean_g": m, "jsd": 0.1, "d_fake": 0.01, "g_grad_norm": 0.5} for r, m in zip(rounds, means)]


@pytest.mark.parametrize("means, outcome", [
    ([4.0, 2.0, 0.5, 0.2, -0.3], "near"),
    ([4.0, -30.0, -42.0, -42.1, -42.05], "past_stalled"),
    ([4.0, -30.0, -12.0, -5.0, -2.2], "past_moving"),
    ([4.0, 3.99, 3.98, 3.98, 3.97], "short_stalled"),
    ([4.0, 3.9, 3.0, 2.5, 2.0], "short_moving"),
    ([-4.0, 30.0, 42.0, 42.0, 42.0], "past_stalled"),  # started on the other side: past is then above the data
])
def test_classify_reads_the_outcome_from_the_trace(means, outcome):
    assert saturating.classify(_trace(means), mu=0.0, sigma=1.0) == outcome


def _run(loss, outcome, end_mean, opt="sgd", d_fake=1e-5, grad=1e-4):
    cfg = toy1d.config_from_dict({"loss": loss, "optimizer": opt})
    tr = _trace([4.0, end_mean])
    tr[-1].update(d_fake=d_fake, g_grad_norm=grad)
    return saturating.Run(opt, loss, 0, cfg, tr, [{"g_grad_norm": 0.3}], outcome)


def test_outcome_text_counts_the_runs_and_names_where_they_ended():
    runs = [_run("minimax", "past_stalled", -9.14), _run("minimax", "past_stalled", -42.7), _run("minimax", "near", 0.1)]
    text = saturating.outcome_text(runs)
    assert text.startswith("1 of 3 ended near the data")
    assert "2 of 3 overshot past the data and stalled there (final mean G(z) -9.14, -42.7)" in text
    assert "seed(s)" not in text


def test_stall_sentences_follow_the_counts():
    ns = [_run("non_saturating", "near", 0.0, grad=0.2) for _ in range(3)]
    over = [_run("minimax", "past_stalled", -9.1), _run("minimax", "past_stalled", -42.7), _run("minimax", "past_moving", -2.2)]
    s = saturating.stall_sentences(over + ns, "sgd")
    assert "no run with the saturating loss stalled short of the data" in s
    assert "2 of 3 overshot past the data and stalled there" in s and "0.2" in s
    stuck = [_run("minimax", "short_stalled", 3.9) for _ in range(3)]
    assert "every run with the saturating loss stalled short of the data" in saturating.stall_sentences(stuck + ns, "sgd")
    fine = [_run("minimax", "near", 0.1, opt="adam") for _ in range(3)]
    s = saturating.stall_sentences(fine, "adam")
    assert s.startswith("With Adam, every run with the saturating loss ended near the data") and "stalled" not in s
    assert saturating.stall_sentences(ns, "sgd") == ""  # no saturating runs, nothing to say


def test_slope_tables_match_the_closed_forms():
    in_d, in_logit, err = saturating.slope_tables([0.01, 0.5])
    assert err < 1e-6
    assert in_logit[0]["ratio (−log D to log(1 − D))"] == "99"
    assert in_d[1]["slope of log(1 − D) in D"] == "-2"
    assert all(len(r) <= 6 for r in in_d + in_logit)


def test_training_runs_are_paired_until_the_first_generator_step(tmp_path):
    toy = {"g_init_mean": 4.0, "steps_b": 30, "batch_size": 32, "hidden": 8}
    runs = saturating.train_runs(toy, {"sgd": {"lr_g": 0.002, "lr_d": 0.01}}, [0], rounds=4, every=2)
    sat, ns = runs
    assert (sat.loss, ns.loss) == ("minimax", "non_saturating")
    assert sat.trace[0]["d_fake"] == ns.trace[0]["d_fake"]  # the same D after its solo phase
    assert sat.first_grad < ns.first_grad  # D rejects the fakes: log(1 - D) has the smaller gradient
    assert all(r.outcome in saturating.OUTCOMES for r in runs)
    assert len(sat.rounds) == 4 and "g_mean" in sat.rounds[0]
    assert saturating.plot_training(runs, tmp_path / "t.png").endswith("%")
    assert {"outcome", "passed_the_data", "g_grad_norm_first_step"} <= set(saturating.run_rows(runs)[0])


def test_optimizers_run_sgd_first():
    assert saturating.optimizer_order(["adam", "sgd"]) == ["sgd", "adam"]


# --- the other notebooks' tables ------------------------------------------------------------------------------------


def test_perturbation_tables_split_the_pairs_and_bold_d_star():
    p, q = mm.normal(0, 1), mm.normal(1, 1)
    check = mm.check_pair({"normal": [0, 1]}, {"normal": [1, 1]}, {"steps": 30, "hidden": 8, "lr": 0.01, "nodes": 200})
    assert check.formula == pytest.approx(mm.c_of_g(p, q), abs=1e-9)
    assert mm.verdict_checks([check], 1e-6)["identity"]
    tables = mm.perturbation_tables([check] * 4, per_table=3)
    assert [len(t[0]) for t in tables] == [4, 2]  # discriminator + 3 pairs, then discriminator + 1 pair
    assert tables[0][-1]["discriminator"].startswith("**D*") and tables[0][-1]["V, pair 1"].startswith("**")


def test_forward_check_rows_hold_plain_numbers():
    rows = dm.forward_check(dm.linear_schedule(20), (1.0, -0.5), 2000, dm.shown_steps(20, (0.0, 0.5, 1.0)), seed=0)
    assert [r["t"] for r in rows] == [10, 20]
    assert all(isinstance(v, (int, float)) for r in rows for v in r.values())
    assert max(max(r["z_mean"], r["z_sd"]) for r in rows) < 5


def test_shown_steps_are_unique_and_in_range():
    assert dm.shown_steps(50, (0.0, 0.001, 0.05, 0.5, 1.0, 1.0)) == [0, 2, 25, 50]


def test_nce_checks_report_the_chance_level():
    p_data, p_noise = mm.normal(1.0, 0.7), mm.normal(0, 3)
    fits, rows = nce.fit_and_check(p_data.sample(300, seed=1), p_data, p_noise, [1, 4], hidden=4, steps=30)
    assert set(fits) == {1, 4}
    assert [r["chance_accuracy"] for r in rows] == pytest.approx([0.5, 0.8])
    assert all(0 <= r["bayes_max_posterior"] <= 1 for r in rows)


def test_pca2_finds_the_plane_that_holds_the_variance():
    rng = np.random.default_rng(0)
    z = np.zeros((200, 5))
    z[:, 0], z[:, 3] = rng.normal(size=200) * 3, rng.normal(size=200) * 2
    z += rng.normal(size=(200, 5)) * 1e-3
    pc, share = ae.pca2(z)
    assert pc.shape == (200, 2) and share == pytest.approx(1.0, abs=1e-4)
