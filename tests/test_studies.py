"""gan.studies: the computations, words and figures of the model-selection chapter's rebuilt studies."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from torch import nn

from gan import aggregate, stats, studies
from gan.experiments.zoo import StudyClaim
from gan.plots import save_image_grid


def _runs(groups: dict[str, list[float | None]], failed: dict[str, str] | None = None, by: str = "model") -> pd.DataFrame:
    """A runs table: one row per value; a run in `failed` (run id -> reason) is not ok."""
    failed = failed or {}
    rows = []
    for g, values in groups.items():
        for seed, v in enumerate(values):
            rid = f"{g}_s{seed}"
            rows.append({"run_id": rid, by: g, "seed": seed, "fid": v, "status": "failed" if rid in failed else "ok",
                         "failure": failed.get(rid), "tail_acc_fake": 0.8, "time_per_step_ms": 10.0})
    df = pd.DataFrame(rows)
    df["ok"] = df["status"] == "ok"
    return df


# --- settings ----------------------------------------------------------------------------------------------------------


def test_settings_come_from_the_runs_and_say_where_they_differ():
    cfg = {"a_s0": {"steps": 400, "batch_size": 32, "lr_g": 2e-4, "lr_d": 2e-4, "betas": [0.5, 0.999], "loss": "non_saturating",
                    "d_steps": 1, "z_dim": 100, "data": {"pixel_range": "unit"}, "model_kwargs": {"width": 8}},
           "b_s0": {"steps": 400, "batch_size": 32, "lr_g": 1e-4, "lr_d": 1e-4, "betas": [0.0, 0.9], "loss": "wgan_gp",
                    "d_steps": 5, "z_dim": 100, "data": {"pixel_range": "symmetric"}, "model_kwargs": {"width": 8}}}
    assert studies.setting(cfg, "steps") == "400" and studies.setting(cfg, "lr_g") == "0.0002 or 0.0001"
    assert studies.setting(cfg, "betas.0") == "0.5 or 0" and studies.setting(cfg, "missing.key") == "n/a"
    assert studies.setting(cfg, "model_kwargs") == "width 8"
    one = studies.settings_sentence({"a_s0": cfg["a_s0"]}, 5000)
    assert one.startswith("400 generator steps of batch 32 (2.6 epochs of the 5,000 training images)")
    assert "learning rate 0.0002, β₁ = 0.5" in one and "pixels in [0, 1]" in one and "discriminator steps" not in one
    lines = studies.settings_by_model(cfg, {"a_s0": "A", "b_s0": "B"}, 5000)
    assert lines[0].startswith("A: ") and lines[1].startswith("B: ") and "5 discriminator steps" in lines[1]
    assert "Wasserstein" in lines[1] and "[−1, 1]" in lines[1]
    assert studies.settings_sentence({"a": {**cfg["a_s0"], "steps": 7, "batch_size": 8}}, 5000).startswith(
        "7 generator steps of batch 8 (0.011 of an epoch")
    assert studies.seeds_text([1, 0, 0, 2]) == "3 seeds (0, 1, 2)" and studies.seeds_text([4]) == "1 seed (4)"


def test_run_configs_read_the_manifests(tmp_path):
    d = tmp_path / "runs" / "s0"
    d.mkdir(parents=True)
    (d / "manifest.json").write_text(json.dumps({"config": {"batch_size": 64}}))
    assert studies.run_configs(tmp_path, ["s0", "s1"]) == {"s0": {"batch_size": 64}, "s1": {}}


# --- run health in words -------------------------------------------------------------------------------------------------


def test_health_sentences_say_only_what_happened():
    ok = _runs({"m": [1.0, 2.0, 3.0]})
    s = studies.health_sentences(ok, quotes=studies.SEMINAR_FAILURES, source="the seminar")
    assert s.startswith("All 3 runs trained") and "80 %" in s and "discriminator won" not in s and "Diminished" not in s
    bad = _runs({"m": [1.0, 2.0, 3.0]}, {"m_s0": "discriminator won (accuracy on fakes 1.00 over the last 20% of steps); "
                                                 "collapse (1 of 10 classes in at least 5 % of the samples)",
                                         "m_s2": "blank samples (pixel standard deviation 0.1 of 255)"})
    s = studies.health_sentences(bad, quotes=studies.SEMINAR_FAILURES, source="the seminar's conclusion")
    assert "**2 of 3 runs failed**" in s and "In 1 of 3 runs the discriminator won" in s
    assert "“Diminished gradient" in s and "“Mode collapse" in s and "In 1 of 3 runs the samples were blank." in s
    assert "in the runs that trained" in s
    every = _runs({"m": [1.0, 2.0]}, {"m_s0": "discriminator won (x)", "m_s1": "discriminator won (y)"})
    s = studies.health_sentences(every)
    assert "**Every run failed**" in s and "In both runs the discriminator won." in s and "recognised" not in s
    assert studies.failure_kinds(["diverged (non-finite loss at step 3)", "noise (FID 9); collapse (z)", None]) == [
        "diverged", "collapse", "noise"]
    grey = _runs({"m": [1.0, 2.0, 3.0]}, {"m_s0": "collapse (colour: the samples' colours spread 0.04 as widely as the "
                                                  "real images')", "m_s1": "collapse (2 of 10 classes in at least 5 % of "
                                                                           "the samples)"})
    s = studies.health_sentences(grey)  # a collapse of colour is named as one, and not counted as a second kind
    assert "In 1 of 3 runs the generator collapsed to one colour scheme" in s and "In 1 of 3 runs the generator collapsed (near-alike samples, or too few classes)." in s
    assert studies.failure_kinds(grey["failure"].tolist()) == ["collapse (colour", "collapse"]
    assert "own training images" not in s
    judged = ok.assign(health_fid=[7.0, 9.0, 14.0], noise_fid=58.0)  # FIDs reported against another reference
    assert "Health judges each run against its own training images (FID 7–14 where uniform noise scores 58)" in \
        studies.health_sentences(judged)
    two = ok.assign(health_fid=[7.0, 14.0, 18.2], noise_fid=[57.92, 57.9200004, 600.0])  # two sets; processors differ a little
    assert "(FID 7–14 where uniform noise scores 58; 18 where uniform noise scores 600)" in studies.health_sentences(two)
    alike = ok.assign(health_fid=[7.0, 17.6, 18.3], noise_fid=[57.92, 600.0, 600.0])  # a range that rounds to one number
    assert "(FID 7 where uniform noise scores 58; 18 where uniform noise scores 600)" in studies.health_sentences(alike)
    critic = ok.assign(tail_acc_fake=[0.7, 0.8, None])  # a critic's run has no accuracy (gan.health)
    s = studies.health_sentences(critic)
    assert "recognised 70–80 % of the generated images (a Wasserstein critic's runs have no accuracy to read)." in s
    assert "no accuracy to read" not in studies.health_sentences(ok)


def test_a_failure_the_study_reported_is_labelled_as_its_observation():
    df = _runs({"dcgan1": [5.0, 6.0], "dcgan2": [1.0, 2.0]}, {"dcgan1_s0": "collapse (sample diversity 0.1 of the real images')",
                                                              "dcgan2_s1": "diverged (non-finite loss at step 4)"})
    names = {"dcgan1": "DCGAN 1", "dcgan2": "DCGAN 2"}
    rows = studies.failure_rows(df, ["model", "seed"], observed=studies.CIFAR_OBSERVED, names=names)
    assert [r["model"] for r in rows] == ["DCGAN 1", "DCGAN 2"]
    assert rows[0]["the study's own observation"] == "“Unstable training + Mode Collapse”"
    assert rows[1]["the study's own observation"] == ""
    only_other = studies.failure_rows(df[df.model == "dcgan2"], ["model"], observed=studies.CIFAR_OBSERVED)
    assert "the study's own observation" not in only_other[0]  # no empty column
    from gan import report
    table = report.md_table(only_other, align="l" * len(only_other[0])).splitlines()
    assert table[0].count("|") == table[1].count("|") == len(only_other[0]) + 1  # header and separator agree
    with pytest.raises(ValueError, match="3 columns"):  # a table whose separator is wider than its header
        report.md_table(only_other, align="llrl")
    s = studies.observed_sentences(df, studies.CIFAR_OBSERVED, names)
    assert s.startswith("1 of 2 runs of DCGAN 1 failed (collapse): the study reported a failure of this model too")
    assert "1 of 2 runs of DCGAN 2 failed (diverged): the study reported no such failure for it, so this one is the rebuild's" in s
    s = studies.observed_sentences(df[df.run_id != "dcgan1_s0"], studies.CIFAR_OBSERVED, names)
    assert "our run of it did not fail" in s
    grey = df.assign(failure=df.failure.where(df.run_id != "dcgan1_s0", "collapse (colour: the samples' colours spread "
                                                                         "0.04 as widely as the real images')"))
    assert studies.observed_sentences(grey, studies.CIFAR_OBSERVED, names).startswith(
        "1 of 2 runs of DCGAN 1 failed (collapse of colour): the study reported a failure of this model too")


# --- a study's claims -------------------------------------------------------------------------------------------------------


def test_claims_are_tested_on_the_runs_that_trained_and_adjusted_as_a_family():
    df = _runs({"a": [10.0, 11.0, 12.0, 13.0, 10.5], "b": [20.0, 21.0, 22.0, 20.5, 21.5], "c": [10.0, 30.0, 50.0],
                "d": [40.0, 41.0, 900.0]}, {"d_s2": "noise (FID 900, over half the 800 of uniform-noise images)"})
    claims = [StudyClaim("a beats b", "a", "b", "a is better"), StudyClaim("c beats d", "c", "d", "c was my best"),
              StudyClaim("d beats a", "d", "a", "d is best")]
    tested = studies.test_claims(df, claims, names={"a": "A", "b": "B"})
    raw, adj = [t.raw for t in tested], [t.adjusted for t in tested]
    assert raw[0].verdict == "supported" and raw[0].better == "A" and adj[0].adjusted_in == 3
    assert adj[0].p_value >= raw[0].p_value
    assert raw[1].failed == 1 and raw[1].total == 6 and raw[1].worse_summary.n == 2  # the failed run is left out
    assert 900.0 not in (raw[1].worse_summary.mean,)
    rows = studies.claim_rows(tested, df)
    assert rows[1]["runs that trained"] == "3 of 3 vs 2 of 3 (1 failed)" and rows[1]["the study concluded"] == "“c was my best”"
    for t, r in zip(tested, rows):  # the table and the sentence print the adjusted verdict, never the raw one
        assert r["verdict (Holm)"] == t.adjusted.short
        assert ("contradict" in t.adjusted.sentence()) == (t.adjusted.verdict == "contradicted")
    assert raw[2].verdict == "contradicted" and rows[2]["p, raw"].endswith("(opposite)") == (adj[2].verdict == "contradicted")
    untestable = studies.test_claims(_runs({"a": [1.0, 2.0], "b": [3.0, 4.0]}, {"b_s0": "diverged (x)"}), claims[:1])
    assert untestable[0].adjusted.verdict == "not testable" and "1 of 4 runs failed" in untestable[0].adjusted.sentence()


def test_a_chapter_shows_its_claims_as_the_book_wide_family_decides_them():
    """The synthesis writes each chapter's headline claims with their Holm-adjusted verdicts, for the chapter's
    page and the discussion: a claim that passes alone can be undecided in the family, and the page must say so."""
    alone = stats.compare("a beats b", "a", [10.0, 10.5, 11.0, 10.2], "b", [11.0, 11.6, 12.1, 11.3])
    other = stats.compare("c beats d", "c", [1.0, 2.0, 3.0], "d", [1.5, 2.5, 2.0])
    family = stats.holm_family([alone, other, other, other, other])
    assert alone.verdict == "supported" and family[0].verdict != "supported"  # the correction decides
    md = aggregate.corrected_verdicts_md([("a is better", family[0])], len(family), 0.05)
    assert md.startswith("Tested together with the thesis's other headline claims (5 in all, p-values Holm-adjusted, α = 0.05;")
    assert "- *\"a is better\"* — " + family[0].sentence() in md and "Holm-adjusted over 5 claims" in md
    assert "{doc}`/synthesis`" in md


# --- the CIFAR study's checks -------------------------------------------------------------------------------------------------


def test_conditional_inputs_are_the_studys_138_and_13():
    assert studies.conditional_inputs(128, 10) == (138, 13)


class _Classifier(nn.Module):
    """Reads the class from the brightness of the image: class k = mean pixel k * 20 (of 255)."""

    name = "toy classifier"

    def preprocess(self, x):
        return x.float()

    def forward(self, x):
        return x.mean((1, 2, 3), keepdim=False)[:, None]

    def head(self, f):
        return -(f - torch.arange(10.0)[None] * 20).abs()


def test_label_agreement_reads_the_class_grid(tmp_path):
    rows = torch.arange(10).repeat_interleave(8)
    grid = (rows * 20).to(torch.uint8)[:, None, None, None].expand(80, 3, 8, 8).clone()
    grid[:8] = 60  # class 0's row draws class 3
    save_image_grid(grid, str(tmp_path / "samples.png"), nrow=8)
    assert studies.label_agreement(_Classifier(), tmp_path / "samples.png", 8, 10, 3) == pytest.approx(72 / 80)
    s = studies.agreement_sentence({"cdcgan": {"r0": 0.12, "r1": 0.15, "r2": 0.9}}, {"r0": True, "r1": True, "r2": False},
                                   {"cdcgan": "Conditional DCGAN"}, 10, 0.95)
    assert "Conditional DCGAN 14 [" in s and "(1 failed run left out)" in s and "95.0 % accurate" in s
    assert "Conditional DCGAN cannot be told from chance (the interval reaches 10 %)" in s and "a model that may be conditional in name only" in s
    s = studies.agreement_sentence({"c": {"r0": 0.8, "r1": 0.9}}, {"r0": True, "r1": True}, {}, 10, None)
    assert "Every one is above chance (its interval clears it): the models use their labels" in s
    assert "not checked" in studies.agreement_sentence({"c": {"r0": 0.8}}, {"r0": False}, {}, 10, None)


class _Flat(nn.Module):
    """Features: the mean of each 4x4 block of the first channel (a stand-in feature network)."""

    name = "flat"

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def preprocess(self, x):
        return x.float() / 255

    def forward(self, x):
        return nn.functional.avg_pool2d(x[:, :1], 4).flatten(1) + 0 * self.w


def test_fid_sensitivity_rows_and_sentences_follow_the_numbers():
    g = torch.Generator().manual_seed(0)
    images = (torch.rand(400, 1, 16, 16, generator=g) * 255).to(torch.uint8)
    fs = studies.fid_sensitivity(_Flat(), images, [20, 150], 0.1)
    assert fs.reference == 200 and fs.n == 150 and set(fs.resized) == {"nearest", "bilinear"}
    assert fs.scaled == pytest.approx(0.01 * fs.resized["bilinear"], rel=1e-6)  # FID is in squared feature units
    assert fs.floor[20].mean > fs.floor[150].mean
    assert fs.floor[150].ci_low <= fs.unresized <= fs.floor[150].ci_high  # the baseline is one of the floor's draws
    rows = fs.rows()
    assert len(rows) == 2 + 4 and all(len(r) == 3 for r in rows) and "16 → 8 → 16" in rows[3]["what changes"]
    text = " ".join(fs.sentences())
    assert "fewer samples push FID up, not down" in text and "0.1" in text
    flipped = studies.FidSensitivity(**{**fs.__dict__, "floor": {20: fs.floor[150], 150: fs.floor[20]}})
    assert "did not push FID up" in flipped.sentences()[0]


# --- the seminar's and the lecture's GANs -------------------------------------------------------------------------------------


def test_lecture_counts_are_what_its_keras_code_implies_and_ours_match():
    from gan import models

    want = studies.lecture_keras_counts(100)
    assert want == {"g": 720_385, "d": 13_185}
    G, D = models.build("lecture", 100)
    df = pd.DataFrame({"params_g": [models.count_params(G)] * 2, "params_d": [models.count_params(D)] * 2})
    rows = studies.param_check_rows(df, want, "the lecture's code")
    assert [r["equal"] for r in rows] == ["yes", "yes"] and rows[0]["the lecture's code"] == "720,385"
    assert studies.param_check_rows(df, {"g": 1, "d": 13_185}, "x")[0]["equal"] == "**no**"


def _write_run(d, steps=40, grid=None):
    d.mkdir(parents=True)
    pd.DataFrame({"step": range(1, steps + 1), "loss_d": np.linspace(1.4, 0.5, steps), "loss_g": np.linspace(0.7, 3, steps),
                  "acc_real": 0.7, "acc_fake": 0.9, "d_real": 0.6, "d_fake": 0.3}).to_csv(d / "losses.csv.gz", index=False)
    if grid is not None:
        save_image_grid(grid, str(d / "samples.png"), nrow=8)


def test_figures_fit_the_column(tmp_path):
    for rid in ("s0", "s1"):
        _write_run(tmp_path / "runs" / rid)
    fig = studies.loss_grid(tmp_path, ["s0", "s1"], ["seed 0", "seed 1"], [False, True])
    assert fig.get_size_inches()[0] <= 7 and len(fig.axes) == 4
    assert any("(failed)" in t.get_text() for t in fig.axes[0].get_legend().get_texts())
    sets = {"raw folder": torch.zeros(20, 1, 28, 28, dtype=torch.uint8), "preprocessed folder": torch.full((20, 1, 28, 28), 200, dtype=torch.uint8)}
    fig = studies.image_sets_figure(sets)
    assert fig.get_size_inches()[0] <= 6.7  # shown at its natural size, one 28-px image is 56 screen pixels
    pics = [np.random.default_rng(i).integers(0, 255, (40 + i, 50)).astype(np.uint8) for i in range(3)]
    fig = studies.pipeline_figure(pics, lambda p: [("content", p), ("resized, centred", p[:28, :28])])
    assert fig.get_size_inches()[0] <= 7 and len(fig.axes) == 9
    import matplotlib.pyplot as plt

    wide, ax = plt.subplots(figsize=(12, 3))
    ax.bar(range(7), range(7), tick_label=[f"model {i}" for i in range(7)])
    studies.fit_width(wide)
    assert wide.get_size_inches()[0] == 7 and ax.get_xticklabels()[0].get_rotation() == 30


def test_upscale_makes_a_sample_at_least_56_pixels(tmp_path):
    save_image_grid(torch.zeros(16, 1, 28, 28, dtype=torch.uint8), str(tmp_path / "g.png"), nrow=8)
    w0 = studies.png_width(tmp_path / "g.png")
    assert studies.upscale_png(tmp_path / "g.png", tmp_path / "big.png", 28)[0] == 2 * w0
    assert studies.upscale_png(tmp_path / "g.png", tmp_path / "big.png", 32)[0] == 2 * w0
    assert studies.upscale_png(tmp_path / "g.png", tmp_path / "big.png", 20)[0] == 3 * w0
    assert studies.width_pct(335) == "50%" and studies.width_pct(2000) == "100%"


# --- the face study ---------------------------------------------------------------------------------------------------------------


def test_the_face_claim_says_faces_only_for_faces():
    claim = "a model trained on the preprocessed folder generates better faces than the same model trained on the raw folder"
    standin = SimpleNamespace(name="Faces stand-in: raw (MNIST-5k digits in noisy canvases)", standin_for="a face folder")
    faces = SimpleNamespace(name="image folder", standin_for=None)
    worded = studies.claim_for_data(claim, [standin])
    assert "faces" not in worded and "images closer to the clean reference (the preprocessed folder's images) than the same model" in worded
    assert studies.claim_for_data(claim, [faces]) == claim
    assert studies.data_names({"raw": standin}) == "Faces stand-in: raw (MNIST-5k digits in noisy canvases)"
    assert studies.data_names({"raw": faces, "preprocessed": faces}) == "raw: image folder; preprocessed: image folder"


def test_pictures_content_and_the_preprocessing_sentence(tmp_path):
    for i, (h, w) in enumerate([(40, 50), (60, 44)]):
        a = np.zeros((h, w), np.uint8)
        a[5:15, 5:12] = 255
        Image.fromarray(a).save(tmp_path / f"{i}.png")
    pics, n = studies.read_pictures(tmp_path, 5)
    assert n == 2 and [p.shape for p in pics] == [(40, 50), (60, 44)] and studies.size_range(pics) == "40–60 × 44–50"
    sets = {"raw": SimpleNamespace(images=torch.from_numpy(np.stack([np.pad(pics[0][:28, :28], 0)]))[:, None], shape=(1, 28, 28))}
    rows, where = studies.content_position(pics, sets, 5, lambda p: (0.25, 0.1), lambda p: p[:28, :28])
    assert [r["images"] for r in rows] == ["raw files (2)", "the same files after the pipeline", "raw folder, as trained on"]
    assert rows[1]["size (px)"] == "28 × 28" and where["before_centre"].mean == pytest.approx(25)
    from gan.stats import summarize

    s = studies.preprocessing_sentence(summarize([400, 420]), summarize([18, 19]), summarize([380, 390]))
    assert "times lower" in s and "already in the pictures it was given" in s
    s = studies.preprocessing_sentence(summarize([400, 420]), summarize([18, 19]), summarize([40, 50]))
    assert "learned them poorly" in s
    assert "not below" in studies.preprocessing_sentence(summarize([10, 11]), summarize([18, 19]), summarize([5, 6]))
    assert studies.preprocessing_sentence(summarize([]), summarize([18, 19]), summarize([5, 6])) == ""


# --- the chapter's table -----------------------------------------------------------------------------------------------------------


def _source(results, exp, column, entries, failed=()):
    d = results / exp
    rows = []
    for e, fids in entries.items():
        for seed, f in enumerate(fids):
            rid = f"{e}_s{seed}"
            (d / "runs" / rid).mkdir(parents=True)
            (d / "runs" / rid / "manifest.json").write_text(json.dumps({"config": {"batch_size": 32}, "device": "cpu"}))
            rows.append({"run_id": rid, column: e, "seed": seed, "fid": f, "fid_features": "LeNet-FID", "fid_samples": 100,
                         "fid_reference_images": 500, "fid_reference": "MNIST-5k", "dataset": "MNIST-5k",
                         "time_per_step_ms": 10.0, "diverged": False, "params_g": 1000, "params_d": 10,
                         "status": "failed" if rid in failed else "ok", "failure": "collapse (x)" if rid in failed else None})
    pd.DataFrame(rows).to_csv(d / "runs.csv", index=False)


def test_the_chapter_table_ranks_only_runs_that_trained(tmp_path):
    _source(tmp_path, "cifar_study", "label", {"DCGAN 3: + spectral norm": [30.0, 32.0], "WGAN-GP": [20.0, 99.0]},
            failed={"WGAN-GP_s1"})
    _source(tmp_path, "seminar", "model", {"seminar": [5.0, 6.0]}, failed={"seminar_s0", "seminar_s1"})
    runs, missing = studies.load_sources(tmp_path, {"cifar_study": "label", "seminar": "model", "dense_conv": "arch"})
    assert missing == ["dense_conv"] and set(runs.display) == {"DCGAN 3 (cifar_study)", "WGAN-GP (cifar_study)", "seminar"}
    assert runs.batch_size.tolist() == [32] * 6 and runs.device.tolist() == ["cpu"] * 6
    models = studies.model_entries(runs)
    rows = studies.block_rows(models)
    assert [r["model"] for r in rows] == ["WGAN-GP (cifar_study)", "DCGAN 3 (cifar_study)", "seminar"]
    assert [r["rank"] for r in rows] == ["1", "2", "–"] and rows[2]["FID mean [95 % CI]"] == "failed"
    assert rows[0]["FID mean [95 % CI]"] == "20.0" and rows[0]["runs that trained"] == "1 of 2 (1 failed)"  # 99 left out
    assert rows[0]["images / s"] == "3,200" and all(len(r) <= 6 for r in rows)
    s = studies.block_summary(models)
    assert "**WGAN-GP (cifar_study)**" in s and "Not ranked (no run trained): seminar." in s and "no difference" in s
    assert studies.block_summary(models[models.display == "seminar"]).startswith("No model in this block")
    fig = studies.blocks_figure([("Block 1", models), ("Block 2", models[models.display == "seminar"])])
    assert fig.get_size_inches()[0] <= 7
    old = pd.read_csv(tmp_path / "seminar" / "runs.csv").drop(columns=["status", "failure"])
    old.to_csv(tmp_path / "seminar" / "runs.csv", index=False)  # made before run health: only divergence is known
    runs, _ = studies.load_sources(tmp_path, {"seminar": "model"})
    assert runs.ok.all()


def test_the_quality_targets_are_read_from_the_runs_that_trained():
    g = pd.DataFrame({"ok": [True, True, True, False], "fid": [70.0, 80.0, 75.0, 900.0],
                      "confident_share": [0.5, 0.55, 0.6, 0.1], "classes_covered": [8, 10, 9, 2]})
    rows, met = aggregate.target_rows("G 4 / D 4", g, {"calibration_ids": {"noise_0.1": 17.7}})
    assert not met and [r["met"] for r in rows] == ["no", "no", "no"]
    assert rows[0]["required"] == "< 17.7" and rows[0]["reached"].startswith("75.0 [")  # the failed run is left out
    assert rows[2]["reached"] == "8 (fewest over the runs)"
    good = pd.DataFrame({"ok": [True] * 3, "fid": [10.0, 12.0, 11.0], "confident_share": [0.9] * 3, "classes_covered": [10] * 3})
    assert aggregate.target_rows("x", good, {"calibration_ids": {"noise_0.1": 17.7}})[1]
    assert aggregate.target_rows("x", good, None)[0][0]["met"] == "n/a"  # no calibration: the FID target cannot be read
    runs = pd.DataFrame({"arm": ["a", "a", "b", "b", "c"], "ok": [True, True, True, False, False], "fid": [50.0, 70.0, 65.0, 1.0, 1.0]})
    assert aggregate.best_group(runs, "arm", ["a", "b", "c"]) == "a"  # b's failed run does not make it best; c never trained
    assert aggregate.best_group(runs, "arm", ["a", "b"], skip=["a"]) == "b"
    assert aggregate.best_group(runs, "arm", ["c"]) is None
    cells = pd.DataFrame({"g": [3, 3, 4, 4], "d": [3, 4, 3, 4], "ok": [True] * 4, "fid": [90.0, 80.0, 60.0, 70.0],
                          "confident_share": [0.5] * 4, "classes_covered": [9] * 4})
    assert aggregate.best_group(cells, ["g", "d"], [(3, 3), (3, 4), (4, 3), (4, 4)]) == (4, 3)  # cells by two columns
    best, rows, met = aggregate.best_targets(cells, ["g", "d"], [(3, 3), (4, 4)], {"calibration_ids": {"noise_0.1": 17.7}},
                                             label=lambda k: f"G {k[0]} / D {k[1]}")
    assert best == (4, 4) and "G 4 / D 4" in next(iter(rows[0])) and rows[0]["reached"] == "70.0" and not met
    best, rows, met = aggregate.best_targets(runs.assign(confident_share=0.5, classes_covered=9), "arm", ["c"], None)  # nothing trained: the table says so
    assert best is None and "none" in next(iter(rows[0])) and [r["met"] for r in rows] == ["n/a"] * 3 and not met
    train = {"steps": 1500, "batch_size": 32}
    assert aggregate.target_sentence(True, "mnist5k", train) == "The best configuration meets every target."
    missed = aggregate.target_sentence(False, "mnist5k", train)
    assert "1,500 generator steps of batch 32" in missed and "three hours" in missed
    assert "pipeline check" in aggregate.target_sentence(False, "smoke", train)


def _fake_run(exp_dir, rid, data, noise_fid, fid=100.0):
    d = exp_dir / "runs" / rid
    d.mkdir(parents=True)
    (d / "metrics.json").write_text(json.dumps({"fid": fid, "fid_features": "LeNet-FID (classifier on X)", "diverged": False,
                                                "status": "ok", "failure": None, "noise_fid": noise_fid}))
    (d / "manifest.json").write_text(json.dumps({"git_commit": "abc", "device": "CPU", "wall_time_s": 1.0,
                                                 "config": {"data": {"name": data}}, "datasets": [data]}))


def test_runs_scored_in_different_feature_networks_are_refused(tmp_path):
    """Every committed mnist5k run reports the same uniform-noise FID (1349.97); a rerun of one of them on another
    processor, whose retrained LeNet-FID is not bit-identical, reported 1353.38. Mixing the two is refused, by name."""
    for i in range(3):
        _fake_run(tmp_path, f"a_s{i}", "mnist5k", 1349.9731382225914)
    _fake_run(tmp_path, "raw_s0", "faces_raw", 600.06)  # another training set: its own noise FID, not a mismatch
    assert len(aggregate.load_runs(tmp_path, ["a_s0", "a_s1", "a_s2", "raw_s0"])) == 4
    _fake_run(tmp_path, "b_s0", "mnist5k", 1353.3763628378806)
    with pytest.raises(ValueError, match=r"different LeNet-FID \(classifier on X\) networks .* 1349\.97 in a_s0 but 1353\.38 in b_s0"):
        aggregate.load_runs(tmp_path, ["a_s0", "a_s1", "a_s2", "b_s0"])
    # across experiments too: a chapter that compares them reads their runs.csv
    for exp, rows in {"one": [("a_s0", 1349.9731382225914)], "two": [("b_s0", 1349.9731382225914), ("b_s1", 1353.3763628378806)]}.items():
        (tmp_path / exp).mkdir()
        pd.DataFrame([{"run_id": r, "model": "m", "fid": 1.0, "noise_fid": n, "fid_features": "LeNet", "dataset": "MNIST-5k",
                       "status": "ok", "failure": None, "diverged": False} for r, n in rows]).to_csv(tmp_path / exp / "runs.csv", index=False)
    assert len(studies.load_sources(tmp_path, {"one": "model"})[0]) == 1
    with pytest.raises(ValueError, match=r"1349\.97 in one/a_s0 but 1353\.38 in two/b_s1"):
        studies.load_sources(tmp_path, {"one": "model", "two": "model"})
