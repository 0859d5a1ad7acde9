"""A 1-D GAN small enough to watch: z ~ U(-1, 1) is mapped by a tiny MLP G to x; the data are normal.

It reproduces the distribution view of Goodfellow et al. 2014 (their Figure 1): the data density p_data (black,
dotted), the generator's density p_g (green), the discriminator D (blue, dashed) and the mapping x = G(z) from
the z line below. The four panels follow the paper's caption:
(a) G at its start and D only partly trained, (b) D trained to convergence for that G, so it approaches the
analytic D* = p_data / (p_data + p_g), (c) after some G updates p_g has moved towards the data, (d) after long
training p_g ≈ p_data and D ≈ 1/2.

p_g is the push-forward of U(-1, 1) through G. In one dimension it can be computed without sampling noise:
G is evaluated on a fine quantile grid of z and the images are binned and lightly smoothed (`pushforward_pdf`),
so the overlaid D* depends only on G. Everything is seeded and bit-repeatable on the CPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import stats
from torch import nn

from gan.demos.configs import Toy1DConfig
from gan.demos.figures import plt
from gan.losses import d_loss, g_loss


class Generator(nn.Module):
    """A smooth (tanh) MLP, so that p_g is smooth too."""

    def __init__(self, hidden: int, mean: float, std: float) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, 1))
        with torch.no_grad():  # set the initial p_g's mean and standard deviation, whatever the random init gave
            out = self.net(torch.linspace(-1, 1, 1001).unsqueeze(1))
            self.net[-1].weight.mul_(std / float(out.std()))
            self.net[-1].bias.add_(mean - float(self.net(torch.linspace(-1, 1, 1001).unsqueeze(1)).mean()))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class Discriminator(nn.Module):
    """Returns D's logit, like every discriminator in `gan.models`."""

    def __init__(self, hidden: int, centre: float, scale: float) -> None:
        super().__init__()
        self.centre, self.scale = centre, scale  # inputs are standardised by the data's scale: a well-posed MLP
        self.net = nn.Sequential(nn.Linear(1, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.centre) / self.scale).view(-1)


@dataclass
class Snapshot:
    label: str
    step: int  # total optimiser steps so far
    xs: np.ndarray
    p_data: np.ndarray
    p_g: np.ndarray
    d: np.ndarray  # D(x) of the trained discriminator
    d_star: np.ndarray  # analytic D* = p_data / (p_data + p_g); NaN where both densities are negligible
    z_lines: np.ndarray  # [k, 2]: z and G(z) for evenly spaced z, for the mapping lines
    jsd: float  # JSD(p_data || p_g) on the grid, in nats
    max_abs_d_minus_half: float  # over the data's core (the central `core_mass` of p_data)
    max_abs_d_minus_dstar: float  # over the same interval


@dataclass
class ToyGAN:
    cfg: Toy1DConfig
    G: Generator
    D: Discriminator
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    gen: torch.Generator  # the noise stream: data and z batches
    step: int = 0
    history: list[dict[str, float]] = field(default_factory=list)


def make(cfg: Toy1DConfig) -> ToyGAN:
    torch.manual_seed(cfg.seed)
    G = Generator(cfg.hidden, cfg.g_init_mean, cfg.g_init_std).double()
    D = Discriminator(cfg.hidden, cfg.data_mu, cfg.data_sigma).double()
    if cfg.optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {cfg.optimizer!r}")
    if cfg.optimizer == "adam":
        opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=cfg.betas)
        opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=cfg.betas)
    else:
        opt_g = torch.optim.SGD(G.parameters(), lr=cfg.lr_g, momentum=0.9)
        opt_d = torch.optim.SGD(D.parameters(), lr=cfg.lr_d, momentum=0.9)
    return ToyGAN(cfg, G, D, opt_g, opt_d, torch.Generator().manual_seed(cfg.seed + 1))


def _batch(t: ToyGAN) -> tuple[torch.Tensor, torch.Tensor]:
    n, c = t.cfg.batch_size, t.cfg
    real = c.data_mu + c.data_sigma * torch.randn(n, 1, generator=t.gen, dtype=torch.float64)
    z = 2.0 * torch.rand(n, 1, generator=t.gen, dtype=torch.float64) - 1.0
    return real, z


def train_steps(t: ToyGAN, steps: int, *, update_g: bool = True) -> None:
    """`steps` rounds of k = d_per_g D steps then one G step, with gan.losses' losses; with update_g=False,
    `steps` D steps alone (G frozen)."""
    for _ in range(steps):
        for _ in range(t.cfg.d_per_g if update_g else 1):
            real, z = _batch(t)
            lr_, lf = t.D(real), t.D(t.G(z).detach())
            ld = d_loss(t.cfg.loss, lr_, lf)
            t.opt_d.zero_grad()
            ld.backward()
            t.opt_d.step()
        fake = t.G(z)
        lg = g_loss(t.cfg.loss, t.D(fake))
        grad_norm = float("nan")
        if update_g:
            t.opt_g.zero_grad()
            lg.backward()
            grad_norm = float(torch.cat([p.grad.flatten() for p in t.G.parameters()]).norm())
            t.opt_g.step()
        t.step += 1
        t.history.append({"step": t.step, "loss_d": float(ld.detach()), "loss_g": float(lg.detach()),
                          "d_fake": float(torch.sigmoid(lf.detach()).mean()), "g_grad_norm": grad_norm,
                          "g_mean": float(fake.detach().mean())})


# --- densities and snapshots ---------------------------------------------------------------------------------------


def x_grid(cfg: Toy1DConfig, n: int = 801, half_width: float = 5.0) -> np.ndarray:
    return np.linspace(cfg.data_mu - half_width * cfg.data_sigma, cfg.data_mu + half_width * cfg.data_sigma, n)


@torch.no_grad()
def generate_quantiles(G: nn.Module, n: int = 100_000) -> np.ndarray:
    """G at the n mid-quantiles of U(-1, 1): a noise-free stand-in for n samples of p_g."""
    z = (torch.arange(n, dtype=torch.float64) + 0.5) / n * 2.0 - 1.0
    return G(z.unsqueeze(1)).squeeze(1).numpy()


def pushforward_pdf(G: nn.Module, xs: np.ndarray, n: int = 100_000, bandwidth: float | None = None) -> np.ndarray:
    """The density of G(z), z ~ U(-1, 1), on the uniform grid `xs`: histogram of G on a quantile grid of z,
    smoothed with a Gaussian of width `bandwidth` (default: 2 grid steps). Mass outside the grid is dropped."""
    dx = float(xs[1] - xs[0])
    edges = np.concatenate([xs - dx / 2, [xs[-1] + dx / 2]])
    h, _ = np.histogram(generate_quantiles(G, n), bins=edges)
    dens = h / (n * dx)
    bw = bandwidth or 2 * dx
    k = np.arange(-int(4 * bw / dx), int(4 * bw / dx) + 1) * dx
    kern = np.exp(-0.5 * (k / bw) ** 2)
    return np.convolve(dens, kern / kern.sum(), mode="same")


def jsd_to_data(G: nn.Module, cfg: Toy1DConfig, xs: np.ndarray, p_g: np.ndarray | None = None) -> float:
    """JSD(p_data || p_g) in nats. Mass of p_g beyond the grid (where p_data is negligible, as the grid spans
    ±5 σ) counts in full: there q log(q / m) with m = q/2 contributes ½ log 2 per unit of mass."""
    p_g = pushforward_pdf(G, xs) if p_g is None else p_g
    dx = float(xs[1] - xs[0])
    outside = max(0.0, 1.0 - float(p_g.sum() * dx))
    p_data = stats.norm(cfg.data_mu, cfg.data_sigma).pdf(xs)
    return grid_jsd(p_data, p_g, dx) + 0.5 * np.log(2.0) * outside


def grid_jsd(p: np.ndarray, q: np.ndarray, dx: float) -> float:
    """JSD in nats of two densities tabulated on a uniform grid (0 log 0 = 0)."""
    m = 0.5 * (p + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(p > 0, p * np.log(p / m), 0.0)
        b = np.where(q > 0, q * np.log(q / m), 0.0)
    return float(0.5 * (a.sum() + b.sum()) * dx)


def core_halfwidth(cfg: Toy1DConfig, mass: float | None = None) -> float:
    """Half-width of the central interval holding `mass` (default cfg.core_mass) of p_data."""
    return float(stats.norm.ppf(0.5 + 0.5 * (mass or cfg.core_mass)) * cfg.data_sigma)


@torch.no_grad()
def snapshot(t: ToyGAN, label: str, n_lines: int = 15) -> Snapshot:
    c = t.cfg
    xs = x_grid(c)
    p_data = stats.norm(c.data_mu, c.data_sigma).pdf(xs)
    p_g = pushforward_pdf(t.G, xs)
    d = torch.sigmoid(t.D(torch.from_numpy(xs).unsqueeze(1))).numpy()
    tot = p_data + p_g
    d_star = np.where(tot > 1e-3, p_data / np.where(tot > 0, tot, 1.0), np.nan)
    z = np.linspace(-0.95, 0.95, n_lines)
    gz = t.G(torch.from_numpy(z).unsqueeze(1)).squeeze(1).numpy()
    core = np.abs(xs - c.data_mu) <= core_halfwidth(c)
    return Snapshot(label, t.step, xs, p_data, p_g, d, d_star, np.stack([z, gz], 1),
                    jsd_to_data(t.G, c, xs, p_g), float(np.abs(d[core] - 0.5).max()),
                    float(np.nanmax(np.abs(d[core] - d_star[core]))))


def run_figure(cfg: Toy1DConfig) -> tuple[list[Snapshot], ToyGAN]:
    """Train through the phases of the paper's figure and return the snapshots (a)-(d), plus (d') after the
    last D-only phase: the final G against a D trained to convergence for it."""
    t = make(cfg)
    shots = []
    train_steps(t, cfg.steps_a, update_g=False)
    shots.append(snapshot(t, "(a)"))
    train_steps(t, cfg.steps_b, update_g=False)
    shots.append(snapshot(t, "(b)"))
    train_steps(t, cfg.steps_c)
    shots.append(snapshot(t, "(c)"))
    train_steps(t, cfg.steps_d)
    shots.append(snapshot(t, "(d)"))
    train_steps(t, cfg.steps_final_d, update_g=False)
    shots.append(snapshot(t, "(d′) D retrained"))
    return shots, t


def trace(cfg: Toy1DConfig, steps: int, every: int) -> tuple[list[dict[str, float]], ToyGAN]:
    """Train D to convergence for the initial G (phase b), then `steps` alternating rounds; every `every` rounds
    record the JSD between p_data and p_g and the last round's mean D(G(z)) and G gradient norm. This is the
    start the saturating loss is bad at: D rejects every fake with confidence."""
    t = make(cfg)
    train_steps(t, cfg.steps_b, update_g=False)
    xs = x_grid(cfg)
    rows = []
    for done in range(0, steps + 1, every):
        if done:
            train_steps(t, every)
        h = t.history[-1]
        rows.append({"round": done, "jsd": jsd_to_data(t.G, cfg, xs), "d_fake": h["d_fake"],
                     "mean_g": float(generate_quantiles(t.G, 10_000).mean()),
                     "g_grad_norm": h["g_grad_norm"] if done else float("nan"), "loss_g": h["loss_g"]})
    return rows, t


def config_from_dict(d: dict[str, Any] | None) -> Toy1DConfig:
    return Toy1DConfig.from_dict(d)


# --- the figure -----------------------------------------------------------------------------------------------------


def plot_snapshot(ax: Any, s: Snapshot, cfg: Toy1DConfig, title: str | None = None) -> Any:
    """One panel in the paper's style: densities on the left axis, D on the right (0..1), the z -> x map below.
    Returns the right-hand axis (D and D*), whose handles a legend needs."""
    ax.plot(s.xs, s.p_data, ":", color="k", lw=2, label="p_data (data)")
    ax.plot(s.xs, s.p_g, "-", color="tab:green", lw=1.8, label="p_g (generator)")
    top = max(0.45, float(np.max(s.p_g)) * 1.05, float(np.max(s.p_data)) * 1.05)
    ax.set_ylim(-0.5 * top, top)
    ax.set_yticks([])
    ax2 = ax.twinx()
    ax2.plot(s.xs, s.d, "--", color="tab:blue", lw=1.8, label="D(x), trained")
    ax2.plot(s.xs, s.d_star, "-", color="tab:orange", lw=1.0, alpha=0.9, label="D*(x) = p_data / (p_data + p_g)")
    ax2.axhline(0.5, color="grey", lw=0.6, ls="-.")
    ax2.set_ylim(-0.5 * 1.05, 1.05)
    ax2.set_yticks([0, 0.5, 1], ["0", "½", "1"])
    # the z line (below) and the x line, with x = G(z) for evenly spaced z
    y_x, y_z = -0.08 * top, -0.42 * top
    lo, hi = s.xs[0], s.xs[-1]
    zx = cfg.data_mu + (s.z_lines[:, 0]) * 2.2 * cfg.data_sigma  # z in (-1, 1) drawn under the data's core
    ax.hlines([y_x, y_z], lo, hi, color="k", lw=0.8)
    for (zpos, gz) in zip(zx, s.z_lines[:, 1]):
        ax.annotate("", xy=(gz, y_x), xytext=(zpos, y_z), arrowprops=dict(arrowstyle="->", lw=0.6, color="0.35"))
    ax.text(lo, y_x, " x", va="bottom")
    ax.text(lo, y_z, " z", va="bottom")
    ax.set_xlim(lo, hi)
    ax.set_xticks([])
    ax.set_title(title if title is not None else f"{s.label} round {s.step}, JSD {s.jsd:.3f}")
    return ax2


def _legend_on_top(fig: Any, ax: Any, ax2: Any, height: float) -> None:
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    fig.legend(h1 + h2, l1 + l2, loc="upper center", ncol=2, handlelength=2.2)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.5 / height))


def plot_panels(shots: list[Snapshot], cfg: Toy1DConfig, path: str | Path) -> str:
    """The paper's four panels (a)-(d) as a 2x2 figure with one legend. Returns the width for gan.report.figure."""
    from gan.demos import figures

    height = 5.6
    with figures.column_style():
        fig, axes = plt.subplots(2, 2, figsize=(figures.COLUMN_IN, height))
        twins = [plot_snapshot(ax, s, cfg, f"{s.label} step {s.step}, JSD {s.jsd:.3f}") for ax, s in zip(axes.flat, shots[:4])]
        _legend_on_top(fig, axes[0, 0], twins[0], height)
        return figures.save(fig, path)


def plot_equilibrium(final: Snapshot, t: ToyGAN, path: str | Path) -> str:
    """Left: the final G against a D trained again to convergence for it (d′). Right: D's loss and the mean
    D(G(z)) at every step (log scale), with log 4 and 1/2, their values at the equilibrium, and the phases
    (a)-(d) marked. Returns the width for gan.report.figure."""
    from gan.demos import figures

    cfg, hist = t.cfg, t.history
    steps = np.arange(1, len(hist) + 1)
    start = cfg.steps_a + cfg.steps_b
    marks = ((cfg.steps_a, "(a)"), (start, "(b)"), (start + cfg.steps_c, "(c)"), (start + cfg.steps_c + cfg.steps_d, "(d)"))
    height = 3.3
    with figures.column_style():
        fig, (a, b) = plt.subplots(1, 2, figsize=(figures.COLUMN_IN, height))
        plot_snapshot(a, final, cfg, f"(d′) D retrained, JSD {final.jsd:.3f}")
        b.plot(steps, [h["loss_d"] for h in hist], lw=0.6, color="tab:purple", label="D's loss")
        b.plot(steps, [h["d_fake"] for h in hist], lw=0.6, color="tab:green", label="mean D(G(z))")
        b.axhline(np.log(4), color="k", ls="--", lw=0.8)
        b.text(np.sqrt(cfg.steps_a * start), np.log(4), "log 4", ha="center", va="bottom")
        b.axhline(0.5, color="grey", ls=":", lw=0.8)
        for i, (x, lab) in enumerate(marks):
            b.axvline(x, color="grey", lw=0.5)
            b.text(x, 1.95 - 0.2 * (i % 2), lab, ha="center", va="top")
        b.set_ylim(0, 2.0)
        b.set_xscale("log")
        b.set_xlabel("step (log scale)")
        b.legend(loc="lower left")
        fig.tight_layout()
        return figures.save(fig, path)


def run_seeds(toy: dict[str, Any], seeds: list[int]) -> dict[int, tuple[Toy1DConfig, list[Snapshot], ToyGAN, float]]:
    """`run_figure` for every seed: seed -> (config, snapshots (a)-(d) and (d′), the trained GAN, seconds)."""
    import time

    out = {}
    for seed in seeds:
        cfg = config_from_dict({**toy, "seed": seed})
        t0 = time.time()
        shots, t = run_figure(cfg)
        out[seed] = (cfg, shots, t, time.time() - t0)
    return out


def seed_rows(runs: dict[int, tuple[Toy1DConfig, list[Snapshot], ToyGAN, float]]) -> list[dict[str, Any]]:
    """One row per seed: JSD at (a) and (d), how far D is from 1/2 and from D* over the data's core at (d) and
    after retraining (d′), D's loss in the last alternating round, and the seconds the seed took."""
    rows = []
    for seed, (c, sh, t, secs) in runs.items():
        last = t.history[-(c.steps_final_d + 1)]  # the last alternating round, before D was retrained
        rows.append({"seed": seed, "jsd_a": sh[0].jsd, "jsd_d": sh[3].jsd, "d_half_b": sh[1].max_abs_d_minus_half,
                     "d_dstar_b": sh[1].max_abs_d_minus_dstar, "d_half_d": sh[3].max_abs_d_minus_half,
                     "d_half_retrained": sh[4].max_abs_d_minus_half, "d_dstar_d": sh[3].max_abs_d_minus_dstar,
                     "loss_d_last": last["loss_d"], "seconds": secs})
    return rows


def interval_rows(shots: list[Snapshot], cfg: Toy1DConfig, masses: tuple[float, ...] = (0.68, 0.9, 0.95)) -> list[dict[str, Any]]:
    """How far D (at (d) and retrained) and D* are from 1/2 over central intervals of p_data of growing mass."""
    rows = []
    for m in masses:
        core = np.abs(shots[3].xs - cfg.data_mu) <= core_halfwidth(cfg, m)
        rows.append({"mass": m, "halfwidth": core_halfwidth(cfg, m) / cfg.data_sigma,
                     "d": float(np.abs(shots[3].d[core] - 0.5).max()), "retrained": float(np.abs(shots[4].d[core] - 0.5).max()),
                     "dstar": float(np.nanmax(np.abs(shots[3].d_star[core] - 0.5)))})
    return rows
