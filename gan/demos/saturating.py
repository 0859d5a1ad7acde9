"""The saturating and the non-saturating generator loss, as functions of D(G(z)), with their gradients.

Goodfellow et al. 2014 (Sec. 3): early in training D rejects the fakes with confidence, D(G(z)) ≈ 0, and
log(1 - D(G(z))) saturates; maximising log D(G(z)) instead gives the same fixed point and strong gradients.
Where exactly does it saturate? As a function of D the slope of log(1 - D) is -1/(1 - D), about -1 near D = 0:
flat only next to -log D, whose slope -1/D blows up. What the generator receives, though, passes through D's
sigmoid: with D = sigmoid(l), d log(1 - D)/dl = -D -> 0, while d(-log D)/dl = -(1 - D) -> -1. That is the
vanishing gradient. The curves are computed through `gan.losses.g_loss` and autograd, so they also check the
library's losses against these closed forms.

The second half trains the 1-D GAN of `gan.demos.toy1d` from a confident discriminator with each loss and
classifies what every run did from its trace of mean G(z) (`classify`: ended near the data, or short of it or past
it, stalled or still moving), so that the notebook's words follow the counts (`outcome_text`, `stall_sentences`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from gan.demos import figures, toy1d
from gan.demos.configs import Toy1DConfig
from gan.demos.figures import plt
from gan.losses import g_loss

LOSSES = {
    "minimax": "saturating: minimise log(1 − D(G(z)))",
    "non_saturating": "non-saturating: minimise −log D(G(z))",
}
SHORT = {"minimax": "saturating, log(1 − D)", "non_saturating": "non-saturating, −log D"}
COLOURS = {"minimax": "tab:blue", "non_saturating": "tab:red"}
NAMES = {"sgd": "SGD", "adam": "Adam"}  # the optimisers as the text names them


def loss_curves(d: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """For each generator loss and each value of D(G(z)) in `d` (0 < d < 1): the per-sample loss, its derivative
    with respect to D, and its derivative with respect to D's logit (what backpropagation hands to G)."""
    d = np.asarray(d, dtype=np.float64)
    out: dict[str, dict[str, np.ndarray]] = {}
    for kind in LOSSES:
        logit = torch.logit(torch.from_numpy(d)).requires_grad_(True)
        per_sample = torch.stack([g_loss(kind, l.reshape(1)) for l in logit])
        (grad_logit,) = torch.autograd.grad(per_sample.sum(), logit)
        # chain rule: dL/dD = dL/dl * dl/dD, with dl/dD = 1 / (D (1 - D))
        grad_d = grad_logit.numpy() / (d * (1.0 - d))
        out[kind] = {"loss": per_sample.detach().numpy(), "grad_d": grad_d, "grad_logit": grad_logit.numpy()}
    return out


def d_grid(lo: float, hi: float, n: int = 200) -> np.ndarray:
    """Values of D(G(z)) from `lo` to `hi`, log-spaced towards both ends (where the two losses differ)."""
    left = np.logspace(np.log10(lo), np.log10(0.5), n)
    return np.concatenate([left, 1 - np.logspace(np.log10(0.5), np.log10(1 - hi), n)[1:]])


# --- the closed forms as tables ------------------------------------------------------------------------------------


def slope_tables(d_values: Sequence[float]) -> tuple[list[dict[str, str]], list[dict[str, str]], float]:
    """At each D(G(z)) in `d_values`: the two losses and their slopes in D (first table), their slopes in D's logit
    and the ratio of those (second table), and the largest error of the logit slopes against the closed forms
    -D and -(1 - D) (g_loss computes in float32, so about 1e-8)."""
    d = np.asarray(d_values, dtype=np.float64)
    c = loss_curves(d)
    sat, ns = c["minimax"], c["non_saturating"]
    in_d = [{"D(G(z))": f"{v:g}", "log(1 − D)": f"{sat['loss'][i]:.4f}", "−log D": f"{ns['loss'][i]:.4f}",
             "slope of log(1 − D) in D": f"{sat['grad_d'][i]:.4g}", "slope of −log D in D": f"{ns['grad_d'][i]:.4g}"}
            for i, v in enumerate(d)]
    in_logit = [{"D(G(z))": f"{v:g}", "slope of log(1 − D) in the logit": f"{sat['grad_logit'][i]:.4g}",
                 "slope of −log D in the logit": f"{ns['grad_logit'][i]:.4g}",
                 "ratio (−log D to log(1 − D))": f"{ns['grad_logit'][i] / sat['grad_logit'][i]:.4g}"}
                for i, v in enumerate(d)]
    err = max(float(np.abs(sat["grad_logit"] + d).max()), float(np.abs(ns["grad_logit"] + (1 - d)).max()))
    return in_d, in_logit, err


def plot_curves(d: np.ndarray, path: str | Path) -> str:
    """Four panels: the two losses against D(G(z)); their slopes in D; their slopes in D's logit (what reaches G);
    the ratio of the logit slopes. The band marks early training, where D rejects the fakes. Returns the width for
    `gan.report.figure`."""
    c = loss_curves(d)
    with figures.column_style():
        fig, axes = plt.subplots(2, 2, figsize=(figures.COLUMN_IN, 5.2), sharex=True)
        (a, b), (e, f) = axes
        for kind, label in LOSSES.items():
            a.plot(d, c[kind]["loss"], color=COLOURS[kind], label=SHORT[kind])
            b.plot(d, np.abs(c[kind]["grad_d"]), color=COLOURS[kind])
            e.plot(d, np.abs(c[kind]["grad_logit"]), color=COLOURS[kind])
        f.plot(d, np.abs(c["non_saturating"]["grad_logit"] / c["minimax"]["grad_logit"]), color="k")
        f.axhline(1, color="grey", lw=0.6)
        a.set_ylim(-5, 5)
        a.set_title("generator loss")
        b.set_title("|slope in D|")
        e.set_title("|slope in D's logit| (reaches G)")
        f.set_title("ratio of the logit slopes, −log D to log(1 − D)", fontsize=9)
        for ax in (b, e, f):
            ax.set_yscale("log")
        for ax in axes.flat:
            ax.axvspan(0, 0.1, color="grey", alpha=0.15, lw=0)
        for ax in (e, f):
            ax.set_xlabel("D(G(z))")
        a.text(0.12, -4.5, "grey: early training,\nD rejects the fakes", fontsize=9)
        a.legend(loc="upper center")
        fig.tight_layout()
        return figures.save(fig, path)


# --- training the 1-D GAN with each loss --------------------------------------------------------------------------

NEAR = 1.0  # data standard deviations: a run whose final mean G(z) is this close to the data's mean ended near it
STILL = 0.25  # data standard deviations: a run whose mean G(z) spans less than this over its last half stalled
OUTCOMES = {  # what a run did, from its trace of mean G(z)
    "near": "ended near the data",
    "past_stalled": "overshot past the data and stalled there",
    "past_moving": "ended past the data, still moving",
    "short_stalled": "stalled short of the data",
    "short_moving": "ended short of the data, still moving",
}


@dataclass
class Run:
    optimizer: str
    loss: str
    seed: int
    cfg: Toy1DConfig
    trace: list[dict[str, float]]  # every `every` rounds: JSD, mean D(G(z)), mean G(z), G's gradient norm
    rounds: list[dict[str, float]]  # every round (after D's solo phase): G's gradient norm, mean D(G(z)), losses
    outcome: str  # a key of OUTCOMES

    @property
    def first_grad(self) -> float:
        """G's gradient norm at its first step, when D, trained alone, rejects the fakes."""
        return self.rounds[0]["g_grad_norm"]


def classify(trace: Sequence[dict[str, float]], mu: float, sigma: float) -> str:
    """What a run did, from its trace of mean G(z) (its first entry is the start): ended near the data (within
    NEAR σ of its mean), or else on which side (short: the side it started on; past: beyond it) and whether it
    still moved over the last half of the rounds (a span of mean G(z) under STILL σ is a stall)."""
    m = np.array([t["mean_g"] for t in trace], dtype=np.float64)
    side = np.sign(m[0] - mu) or 1.0
    end = (m[-1] - mu) * side / sigma  # > 0: on the starting side; < 0: past the data
    if abs(end) <= NEAR:
        return "near"
    rounds = np.array([t["round"] for t in trace], dtype=np.float64)
    late = m[rounds >= rounds[-1] / 2]
    stalled = (late.max() - late.min()) / sigma < STILL
    return ("short_" if end > 0 else "past_") + ("stalled" if stalled else "moving")


def optimizer_order(names: Sequence[str]) -> list[str]:
    """Plain SGD first (it shows the saturation), then Adam, then any other: papermill sorts a mapping's keys."""
    return [o for o in ("sgd", "adam") if o in names] + [o for o in names if o not in ("sgd", "adam")]


def train_runs(toy: dict[str, Any], optimizers: dict[str, Any], seeds: Sequence[int], rounds: int,
               every: int) -> list[Run]:
    """The 1-D GAN (gan.demos.toy1d) from a confident D, for every optimiser, generator loss and seed: each run
    trains D alone, then `rounds` rounds of k D steps and one G step (`toy1d.trace`). Runs of the same optimiser
    and seed share everything but the generator loss (D's loss and its solo phase are the same for both)."""
    runs = []
    for opt in optimizer_order(list(optimizers)):
        for kind in LOSSES:
            for seed in seeds:
                rates = optimizers[opt] if isinstance(optimizers[opt], dict) else dataclasses.asdict(optimizers[opt])
                cfg = toy1d.config_from_dict({**toy, **rates, "optimizer": opt, "loss": kind, "seed": seed})
                tr, gan_ = toy1d.trace(cfg, rounds, every)
                runs.append(Run(opt, kind, seed, cfg, tr, gan_.history[cfg.steps_b:],
                                classify(tr, cfg.data_mu, cfg.data_sigma)))
    return runs


def run_rows(runs: Sequence[Run]) -> list[dict[str, Any]]:
    """One row per run for training.csv: the start, the end, G's gradient norms and the outcome."""
    rows = []
    for r in runs:
        t0, t1, tk = r.trace[0], r.trace[-1], r.trace[min(1, len(r.trace) - 1)]
        side = np.sign(t0["mean_g"] - r.cfg.data_mu) or 1.0
        passed = any((t["mean_g"] - r.cfg.data_mu) * side < -NEAR * r.cfg.data_sigma for t in r.trace)
        rows.append({"optimizer": r.optimizer, "loss": r.loss, "seed": r.seed, "d_fake_start": t0["d_fake"],
                     "jsd_start": t0["jsd"], "jsd_end": t1["jsd"], "mean_g_start": t0["mean_g"], "mean_g_end": t1["mean_g"],
                     "g_grad_norm_first_step": r.first_grad, "g_grad_norm_first": tk["g_grad_norm"],
                     "g_grad_norm_end": t1["g_grad_norm"], "passed_the_data": passed, "outcome": r.outcome})
    return rows


def outcome_text(runs: Sequence[Run]) -> str:
    """The runs' outcomes in words with their counts, e.g. "2 of 3 overshot past the data and stalled there (final
    mean G(z) −9.1, −42.7); 1 of 3 ended near the data"."""
    n = len(runs)
    parts = []
    for key, words in OUTCOMES.items():
        hit = [r for r in runs if r.outcome == key]
        if hit:
            where = "" if key == "near" else " (final mean G(z) " + ", ".join(f"{r.trace[-1]['mean_g']:.3g}" for r in hit) + ")"
            parts.append(f"{len(hit)} of {n} {words}{where}")
    return "; ".join(parts)


def plot_training(runs: Sequence[Run], path: str | Path) -> str:
    """One row per optimiser: the mean of G(z) on each round's batch, with the data's mean ± NEAR σ shaded (left;
    symmetric log scale, so that runs far past the data stay in view), and G's gradient norm (right, log scale),
    against the round on a log scale (the first rounds decide). One line per run, coloured by generator loss.
    Returns the width for `gan.report.figure`."""
    opts = optimizer_order(list(dict.fromkeys(r.optimizer for r in runs)))
    height = 2.4 * len(opts) + 0.45
    with figures.column_style():
        fig, axes = plt.subplots(len(opts), 2, figsize=(figures.COLUMN_IN, height), squeeze=False, sharex=True)
        for i, opt in enumerate(opts):
            a, b = axes[i]
            for r in (r for r in runs if r.optimizer == opt):
                x = np.arange(1, len(r.rounds) + 1)
                a.plot(x, [h["g_mean"] for h in r.rounds], color=COLOURS[r.loss], lw=0.6, alpha=0.7)
                b.plot(x, [h["g_grad_norm"] for h in r.rounds], color=COLOURS[r.loss], lw=0.4, alpha=0.6)
            c = r.cfg
            a.axhspan(c.data_mu - NEAR * c.data_sigma, c.data_mu + NEAR * c.data_sigma, color="grey", alpha=0.25, lw=0)
            a.set_yscale("symlog", linthresh=2 * c.data_sigma, linscale=1.5)
            lo, hi = a.get_ylim()
            ticks = [v for v in (-100, -30, -10, -3, 0, 3, 10, 30, 100) if lo <= c.data_mu + v * c.data_sigma <= hi]
            a.set_yticks([c.data_mu + v * c.data_sigma for v in ticks], [f"{c.data_mu + v * c.data_sigma:g}" for v in ticks])
            a.set_ylabel(f"{NAMES.get(opt, opt)}: mean G(z)")
            b.set_yscale("log")
            b.set_ylabel("G's gradient norm")
        for ax in axes[-1]:
            ax.set_xscale("log")
            ax.set_xlabel("round (log scale)")
        handles = [plt.Line2D([], [], color=COLOURS[k], label=SHORT[k]) for k in LOSSES]
        handles.append(plt.Rectangle((0, 0), 1, 1, color="grey", alpha=0.25, label=f"data mean ± {NEAR:g} σ"))
        fig.legend(handles=handles, loc="upper center", ncol=3, handlelength=1.5, columnspacing=1.2)
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / height))
        return figures.save(fig, path)


def stall_sentences(runs: Sequence[Run], optimizer: str) -> str:
    """What the saturating loss's runs under one optimiser say about the thesis's "gradient vanishing problem", in
    words chosen from their outcomes: how many stalled short of the data (where the thesis's argument places the
    problem), how many stalled past it (where D rejects the fakes again), with the numbers that show why."""
    sat = [r for r in runs if r.optimizer == optimizer and r.loss == "minimax"]
    ns = [r for r in runs if r.optimizer == optimizer and r.loss == "non_saturating"]
    if not sat:
        return ""
    n, name = len(sat), NAMES.get(optimizer, optimizer)
    count = {k: [r for r in sat if r.outcome == k] for k in OUTCOMES}
    if len(count["near"]) == n:
        return (f"With {name}, every run with the saturating loss ended near the data: the small early gradient did "
                "not stop training.")
    short, past = count["short_stalled"], count["past_stalled"]
    if len(short) == n:
        out = [f"With {name}, every run with the saturating loss stalled short of the data, as the thesis's argument predicts."]
    elif short:
        out = [f"With {name}, {len(short)} of {n} runs with the saturating loss stalled short of the data, as the "
               "thesis's argument predicts."]
    else:
        out = [f"With {name}, no run with the saturating loss stalled short of the data, where the thesis's argument "
               "places the problem."]
    if past:
        fmt = lambda rs, k: ", ".join(f"{r.trace[-1][k]:.2g}" for r in rs)  # noqa: E731
        out.append(f"{len(past)} of {n} overshot past the data and stalled there: beyond the data D rejects the fakes "
                   f"again (final mean D(G(z)) {fmt(past, 'd_fake')}), and the saturating loss's gradient vanishes "
                   f"again (final G gradient norm {fmt(past, 'g_grad_norm')}"
                   + (f", against {fmt(ns, 'g_grad_norm')} for the non-saturating runs)." if ns else ")."))
    for key in ("past_moving", "short_moving", "near"):
        if count[key]:
            out.append(f"{len(count[key])} of {n} {OUTCOMES[key]}.")
    return " ".join(out)
