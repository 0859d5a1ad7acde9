"""The training loop: seeded CPU runs repeat bit for bit, a resumed run ends bit-identical to an uninterrupted
one, divergence is a result and not a crash, and checkpoints that do not belong to a run are refused."""

from __future__ import annotations

import math

import pytest
import torch

from gan.checks import parse_train
from gan import losses, models
from gan.train import LOG_COLUMNS, TrainResult, generate, train


def _same_state(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _same_log(a: list[dict], b: list[dict]) -> bool:
    # NaN != NaN: compare the rows as strings, which keeps every bit of a float's repr
    return [repr(sorted(r.items())) for r in a] == [repr(sorted(r.items())) for r in b]


def _run(cfg: dict, run_dir=None) -> TrainResult:
    return train(parse_train(cfg), run_dir=run_dir, progress=False)


# --- repeatability ------------------------------------------------------------------------------------------------------


def test_seeded_cpu_run_is_bit_repeatable(tiny_cfg):
    a, b = _run(tiny_cfg()), _run(tiny_cfg())
    assert _same_state(a.G, b.G) and _same_state(a.D, b.D)
    assert _same_log(a.log, b.log)
    c = _run(tiny_cfg(seed=4))
    assert not _same_state(a.G, c.G)
    # training moved the generator away from its (seeded) initialisation
    torch.manual_seed(3)
    G0, _ = models.build("dcgan28", 16, width=8)
    assert not _same_state(a.G, G0)


# --- resume ---------------------------------------------------------------------------------------------------------------

RESUME_CASES = {
    "dcgan": {},
    "augment": {"data": {"augment": "rotation20_flip"}},
    "dropout": {"model": "seminar", "model_kwargs": {}, "batch_size": 8, "data": {"pixel_range": "unit"}},
    "wgan_gp_two_d_steps": {"loss": "wgan_gp", "d_steps": 2, "model": "dense", "model_kwargs": {}},
    "epoch_boundary": {"data": {"limit": 40, "augment": "shift"}},  # 2 batches per epoch: resumes mid-epoch 2
    "diffaugment": {"d_augment": "translation_cutout"},
    "lr_half_life": {"lr_half_life": 3},
    "r1": {"r1_gamma": 1.0, "d_augment": "translation"},
}


@pytest.mark.parametrize("case", list(RESUME_CASES))
def test_resume_is_bit_identical(case, tiny_cfg, tmp_path):
    cfg = tiny_cfg(**RESUME_CASES[case])
    full = _run(cfg, tmp_path / "full")
    assert full.resumed_from is None and full.steps == 8

    half = _run({**cfg, "steps": 4}, tmp_path / "resumed")
    assert half.steps == 4 and (tmp_path / "resumed" / "checkpoint.pt").is_file()
    resumed = _run(cfg, tmp_path / "resumed")  # a fresh call: everything it needs comes from the checkpoint
    assert resumed.resumed_from == 4 and resumed.steps == 8

    assert _same_state(full.G, resumed.G), "generator differs after resume"
    assert _same_state(full.D, resumed.D), "discriminator differs after resume"
    assert _same_log(full.log, resumed.log)
    assert [r["step"] for r in resumed.log] == list(range(1, 9))
    # and the checkpoints on disk agree too (optimiser moments included)
    a = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=True)
    b = torch.load(tmp_path / "resumed" / "checkpoint.pt", weights_only=True)
    for k in ("opt_g", "opt_d"):
        for pa, pb in zip(a[k]["state"].values(), b[k]["state"].values()):
            assert all(torch.equal(pa[s], pb[s]) for s in pa)


def test_learning_rates_halve_every_half_life(tiny_cfg, tmp_path):
    """lr_half_life = 4: step s (counted from 0) runs at lr * 0.5 ** (s / 4); the last of 8 steps at 0.5 ** 1.75."""
    _run(tiny_cfg(lr_half_life=4, lr_g=1e-3, lr_d=3e-3), tmp_path)
    ck = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert ck["opt_g"]["param_groups"][0]["lr"] == pytest.approx(1e-3 * 0.5 ** 1.75, rel=1e-12)
    assert ck["opt_d"]["param_groups"][0]["lr"] == pytest.approx(3e-3 * 0.5 ** 1.75, rel=1e-12)
    _run(tiny_cfg(), tmp_path / "constant")
    ck = torch.load(tmp_path / "constant" / "checkpoint.pt", weights_only=True)
    assert ck["opt_g"]["param_groups"][0]["lr"] == 2e-4


def test_r1_adds_gamma_half_its_penalty_to_every_d_step(tiny_cfg, tmp_path, monkeypatch):
    """r1_gamma = 4: D's logged loss is its plain loss + 2 x the R1 penalty, taken at the real batch D saw, once
    per D step; with r1_gamma = 0 no penalty is computed."""
    seen: list[tuple[float, float]] = []
    real_d_loss, real_r1 = losses.d_loss, losses.r1_penalty

    def d_loss(*a, **k):
        v = real_d_loss(*a, **k)
        seen.append((v.item(), 0.0))
        return v

    def r1(out_real, x):
        assert x.is_leaf and x.requires_grad and x.shape == (8, 1, 28, 28)
        v = real_r1(out_real, x)
        seen[-1] = (seen[-1][0], v.item())
        return v

    monkeypatch.setattr(losses, "d_loss", d_loss)
    monkeypatch.setattr(losses, "r1_penalty", r1)
    res = _run(tiny_cfg(r1_gamma=4.0, d_steps=2, batch_size=8), tmp_path / "r1")
    assert len(seen) == 16 and all(p > 0 for _, p in seen)
    for row, k in zip(res.log, range(1, 16, 2)):  # the log keeps each step's last D loss
        assert row["loss_d"] == pytest.approx(seen[k][0] + 2.0 * seen[k][1], rel=1e-5)
    seen.clear()
    _run(tiny_cfg(d_steps=2, batch_size=8), tmp_path / "plain")
    assert len(seen) == 16 and all(p == 0.0 for _, p in seen)


def test_resume_after_a_crash_between_checkpoints(tiny_cfg, tmp_path, monkeypatch):
    """A job killed at step 7 (checkpoints at 4 and 8) loses steps 5-7 and redoes them identically."""
    cfg = tiny_cfg()
    full = _run(cfg, tmp_path / "full")
    real_g_loss = losses.g_loss
    calls = {"n": 0}

    def dies_at_step_7(kind, fake):
        calls["n"] += 1
        if calls["n"] == 7:
            raise KeyboardInterrupt("job killed")
        return real_g_loss(kind, fake)

    monkeypatch.setattr(losses, "g_loss", dies_at_step_7)
    with pytest.raises(KeyboardInterrupt):
        _run(cfg, tmp_path / "crashed")
    monkeypatch.setattr(losses, "g_loss", real_g_loss)
    ck = torch.load(tmp_path / "crashed" / "checkpoint.pt", weights_only=True)
    assert ck["step"] == 4 and len(ck["log"]) == 4
    assert not [p for p in (tmp_path / "crashed").iterdir() if p.name != "checkpoint.pt"]  # no temp files left
    resumed = _run(cfg, tmp_path / "crashed")
    assert resumed.resumed_from == 4
    assert _same_state(full.G, resumed.G) and _same_state(full.D, resumed.D)
    assert _same_log(full.log, resumed.log)


def test_a_finished_run_is_not_trained_again(tiny_cfg, tmp_path, monkeypatch):
    cfg = tiny_cfg()
    first = _run(cfg, tmp_path)
    monkeypatch.setattr(losses, "d_loss", lambda *a, **k: (_ for _ in ()).throw(AssertionError("trained again")))
    again = _run(cfg, tmp_path)
    assert again.resumed_from == 8 and again.steps == 8
    assert _same_state(first.G, again.G) and _same_log(first.log, again.log)


# --- divergence -------------------------------------------------------------------------------------------------------------


def test_nan_divergence_is_recorded_not_raised(tiny_cfg, tmp_path, monkeypatch):
    real_g_loss = losses.g_loss
    calls = {"n": 0}

    def nan_from_step_5(kind, fake):
        calls["n"] += 1
        out = real_g_loss(kind, fake)
        return out * float("nan") if calls["n"] >= 5 else out

    monkeypatch.setattr(losses, "g_loss", nan_from_step_5)
    res = _run(tiny_cfg(steps=20), tmp_path)
    assert res.diverged is True and res.diverged_at == 5
    assert res.steps < 20  # stopped at the next log point instead of training on NaN to the end
    assert math.isnan(res.log[4]["loss_g"]) and all(math.isfinite(r["loss_g"]) for r in res.log[:4])
    ck = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert ck["diverged_at"] == 5
    # resuming a diverged run returns the recorded divergence, it does not train on
    monkeypatch.setattr(losses, "g_loss", real_g_loss)
    again = _run(tiny_cfg(steps=20), tmp_path)
    assert again.diverged and again.diverged_at == 5 and again.steps == res.steps


# --- checkpoints that are not this run's --------------------------------------------------------------------------------------


def test_corrupt_checkpoint_is_refused_clearly(tiny_cfg, tmp_path):
    (tmp_path / "checkpoint.pt").write_bytes(b"\x80\x02 this is not a checkpoint")
    with pytest.raises(RuntimeError, match=r"checkpoint .*checkpoint\.pt is unreadable .*delete it to start afresh"):
        _run(tiny_cfg(), tmp_path)


def test_truncated_checkpoint_is_refused_clearly(tiny_cfg, tmp_path):
    _run(tiny_cfg(steps=4), tmp_path)
    p = tmp_path / "checkpoint.pt"
    p.write_bytes(p.read_bytes()[:2000])
    with pytest.raises(RuntimeError, match="unreadable"):
        _run(tiny_cfg(), tmp_path)


def test_checkpoint_from_another_config_is_refused(tiny_cfg, tmp_path):
    _run(tiny_cfg(steps=4), tmp_path)
    with pytest.raises(RuntimeError, match=r"different config \(lr_g differ\)"):
        _run(tiny_cfg(lr_g=1e-3), tmp_path)
    with pytest.raises(RuntimeError, match=r"different config \(data differ\)"):
        _run(tiny_cfg(data={"augment": "flip"}), tmp_path)
    with pytest.raises(RuntimeError, match=r"model_kwargs"):
        _run(tiny_cfg(model_kwargs={"width": 16}), tmp_path)
    # steps, checkpoint_every and log_every may change: they say how long and how often, not what
    res = _run(tiny_cfg(steps=6, checkpoint_every=3, log_every=1), tmp_path)
    assert res.resumed_from == 4 and res.steps == 6
    with pytest.raises(RuntimeError, match=r"at step 6, past steps=5"):
        _run(tiny_cfg(steps=5), tmp_path)


def test_a_workflow_job_sets_a_stale_checkpoint_aside(tiny_cfg, tmp_path, capsys):
    """Snakemake reruns a job whose config changed; the killed old run's checkpoint must not stop it. It is kept
    as checkpoint.stale.pt, and the run is bit for bit a fresh one."""
    _run(tiny_cfg(steps=4), tmp_path)
    old = (tmp_path / "checkpoint.pt").read_bytes()
    res = train(parse_train(tiny_cfg(lr_g=1e-3)), run_dir=tmp_path, progress=False, stale_checkpoint="set_aside")
    assert "different config (lr_g differ): set aside as" in capsys.readouterr().out
    assert (tmp_path / "checkpoint.stale.pt").read_bytes() == old
    assert res.resumed_from is None
    fresh = _run(tiny_cfg(lr_g=1e-3))
    assert _same_state(res.G, fresh.G) and _same_log(res.log, fresh.log)
    (tmp_path / "checkpoint.pt").write_bytes(b"not a checkpoint")  # unreadable: set aside too
    train(parse_train(tiny_cfg(lr_g=1e-3)), run_dir=tmp_path, progress=False, stale_checkpoint="set_aside")
    assert (tmp_path / "checkpoint.stale.pt").read_bytes() == b"not a checkpoint"
    with pytest.raises(ValueError, match="stale_checkpoint must be"):
        train(parse_train(tiny_cfg()), stale_checkpoint="delete")


# --- what a run records ------------------------------------------------------------------------------------------------------


def test_per_step_log_and_result(tiny_cfg):
    res = _run(tiny_cfg(steps=12, log_every=5))
    assert [r["step"] for r in res.log] == list(range(1, 13))
    for r in res.log:
        assert list(r) == LOG_COLUMNS
        assert all(isinstance(v, (int, float)) and math.isfinite(v) for v in r.values())
        assert 0 <= r["acc_real"] <= 1 and 0 <= r["acc_fake"] <= 1
        assert 0 < r["d_real"] < 1 and 0 < r["d_fake"] < 1
        assert r["loss_d"] > 0  # a cross-entropy
    assert res.time_per_step_ms > 0 and math.isfinite(res.time_per_step_ms)
    assert res.steps == 12 and not res.diverged and res.diverged_at is None
    assert res.device.startswith("cpu") and res.data_name.startswith("sklearn digits")
    assert res.config.steps == 12


def test_log_matches_the_losses_recomputed_by_hand(tiny_cfg):
    """Step 1's logged D loss and accuracy are those of D's outputs on step 1's batches: replay step 1 by hand."""
    from gan.data import BatchOrder, load_dataset, to_float
    from gan.train import build_models, seed_everything
    from gan.config import TrainConfig

    cfg = TrainConfig.from_dict(tiny_cfg(steps=1))
    res = _run(cfg.to_dict())
    data = load_dataset(cfg.data)
    seed_everything(cfg.seed)
    G, D = build_models(cfg, data)
    real = to_float(data.images[BatchOrder(len(data), cfg.batch_size, cfg.seed).indices(0)])
    z = torch.randn(cfg.batch_size, cfg.z_dim)
    fake = G(z).detach()
    out_r, out_f = D(real), D(fake)
    row = res.log[0]
    assert row["loss_d"] == pytest.approx(losses.d_loss(cfg.loss, out_r, out_f).item(), rel=1e-6)
    assert row["acc_real"] == pytest.approx((out_r > 0).float().mean().item())
    assert row["d_fake"] == pytest.approx(torch.sigmoid(out_f).mean().item(), rel=1e-6)


@pytest.mark.parametrize("loss", ["minimax", "hinge", "wgan_gp"])
def test_every_loss_trains(loss, tiny_cfg):
    res = _run(tiny_cfg(loss=loss, label_smoothing=0.1 if loss == "minimax" else 0.0))
    assert not res.diverged and len(res.log) == 8


def test_short_training_learns_something(digits):
    """80 steps of the dense GAN on the digits: D learns to tell real from fake (its loss drops below log 4 at
    first), and the samples' mean brightness moves from G's initial output towards the data's."""
    cfg = {"model": "dense", "data": {"name": "digits"}, "z_dim": 32, "steps": 80, "batch_size": 32, "seed": 0,
           "device": "cpu", "lr_g": 1e-3, "lr_d": 1e-3}
    res = _run(cfg)
    first = sum(r["loss_d"] for r in res.log[:5]) / 5
    assert first == pytest.approx(2 * math.log(2), abs=0.3)
    x = generate(res.G, 256, 32, seed=1).float().mean()
    torch.manual_seed(0)
    G0, _ = models.build("dense", 32)
    x0 = generate(G0, 256, 32, seed=1).float().mean()
    target = digits.images.float().mean()
    assert abs(x - target) < abs(x0 - target) / 2


def test_generate_is_seeded_and_restores_mode(tiny_cfg):
    res = _run(tiny_cfg(steps=2))
    G = res.G.train()
    a, b = generate(G, 10, 16, seed=5, batch_size=4), generate(G, 10, 16, seed=5)
    assert a.shape == (10, 1, 28, 28) and a.dtype == torch.uint8
    assert torch.equal(a, b)  # batching does not change the samples
    assert not torch.equal(a, generate(G, 10, 16, seed=6))
    assert G.training


def test_training_leaves_no_stray_files(tiny_cfg, tmp_path):
    _run(tiny_cfg(), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]


def _conditional_models() -> list:
    with torch.device("meta"):  # no memory, no time: only the attribute is read
        names = [n for n in sorted(models.MODELS) if models.is_conditional(models.build(n, 8)[0])]
    return names or [pytest.param("none", marks=pytest.mark.skip(reason="no conditional model registered"))]


@pytest.mark.parametrize("name", _conditional_models())
def test_conditional_models_train_and_resume(name, tiny_cfg, tmp_path):
    import inspect

    kwargs = {"width": 8} if "width" in inspect.signature(models.MODELS[name]).parameters else {}
    G, _ = models.build(name, 16, **kwargs)
    G.eval()
    shape = tuple(G(torch.randn(2, 16), torch.zeros(2, dtype=torch.long)).shape[1:])
    data = {(1, 28, 28): {"name": "digits"}, (3, 32, 32): {"name": "colour_mnist5k"}}[shape]
    cfg = tiny_cfg(model=name, model_kwargs=kwargs, data={**data, "limit": 128})
    full = _run(cfg, tmp_path / "a")
    _run({**cfg, "steps": 4}, tmp_path / "b")
    resumed = _run(cfg, tmp_path / "b")
    assert resumed.resumed_from == 4
    assert _same_state(full.G, resumed.G) and _same_state(full.D, resumed.D) and _same_log(full.log, resumed.log)
    # the generator follows its labels: same noise, different labels, different images
    labels = torch.arange(10) % G.num_classes
    a = generate(full.G, 10, 16, labels=labels)
    b = generate(full.G, 10, 16, labels=(labels + 1) % G.num_classes)
    assert a.shape == (10, *shape) and not torch.equal(a, b)
    assert torch.equal(generate(full.G, 10, 16), a)  # without labels: the classes in turn
