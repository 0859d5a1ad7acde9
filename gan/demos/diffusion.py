"""Denoising diffusion (DDPM, Ho et al. 2020), small enough for a CPU: 2-D toy data and low-resolution digits.

Forward process: q(x_t | x_{t-1}) = N(sqrt(1 - β_t) x_{t-1}, β_t I), so that in closed form
q(x_t | x_0) = N(sqrt(ᾱ_t) x_0, (1 - ᾱ_t) I) with ᾱ_t = Π_{s<=t} (1 - β_s); at t = T the data are pure noise.
Reverse process: a network ε_θ(x_t, t) learns the noise that was added (the "simple" loss |ε - ε_θ|²), and
ancestral sampling runs x_{t-1} = (x_t - β_t / sqrt(1 - ᾱ_t) ε_θ) / sqrt(1 - β_t) + σ_t z from x_T ~ N(0, I),
with σ_t² = β_t (Ho et al.'s first choice).

Data are flat vectors [N, D] (2-D points, or images flattened); the network is an MLP with a sinusoidal
time embedding, which is enough at these sizes and keeps the code free of a U-Net.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from gan.demos.figures import plt


@dataclass(frozen=True)
class Schedule:
    """The linear β schedule of Ho et al. (1e-4 to 0.02 over T = 1000), rescaled for shorter chains."""

    betas: torch.Tensor  # [T] float64
    alphas_cumprod: torch.Tensor  # [T]: ᾱ_t

    @property
    def T(self) -> int:
        return len(self.betas)


def linear_schedule(T: int = 1000, beta_1: float = 1e-4, beta_T: float = 0.02) -> Schedule:
    """With T < 1000 the endpoints are scaled by 1000 / T, so that ᾱ_T stays near 0 (the chain ends in noise)."""
    s = 1000.0 / T
    betas = torch.linspace(beta_1 * s, min(beta_T * s, 0.999), T, dtype=torch.float64)
    return Schedule(betas, torch.cumprod(1.0 - betas, 0))


def q_sample(sched: Schedule, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """x_t ~ q(x_t | x_0) in one step: sqrt(ᾱ_t) x_0 + sqrt(1 - ᾱ_t) ε (t is 0-based: t = 0 is the first step)."""
    a = sched.alphas_cumprod.to(x0.dtype)[t].view(-1, *([1] * (x0.ndim - 1)))
    return a.sqrt() * x0 + (1.0 - a).sqrt() * noise


def forward_chain(sched: Schedule, x0: torch.Tensor, gen: torch.Generator) -> list[torch.Tensor]:
    """The forward process step by step, x_1 ... x_T via q(x_t | x_{t-1}) (what q_sample shortcuts)."""
    xs, x = [], x0
    for b in sched.betas.to(x0.dtype):
        x = (1.0 - b).sqrt() * x + b.sqrt() * torch.randn(x.shape, generator=gen, dtype=x0.dtype)
        xs.append(x)
    return xs


def time_embedding(t: torch.Tensor, dim: int, T: int) -> torch.Tensor:
    """Sinusoidal features of t / T (the Transformer's positional encoding, as in Ho et al.)."""
    half = dim // 2
    freqs = torch.exp(-math.log(1000.0) * torch.arange(half, dtype=torch.float32) / half)
    a = (t.float() / T * 1000.0).unsqueeze(1) * freqs.unsqueeze(0)
    return torch.cat([a.sin(), a.cos()], 1)


class EpsilonMLP(nn.Module):
    """ε_θ(x_t, t): an MLP on [x_t, embedding(t)], with the time embedding also added to every hidden layer, plus
    a per-dimension skip g(t) ⊙ x_t. Near t = 0 the best ε is close to a per-pixel affine function of x_t (a
    background pixel is -1 plus noise); the MLP's bottleneck cannot pass 196 pixels through unchanged, the skip can.
    It stands in for the local paths of the U-Net that Ho et al. use."""

    def __init__(self, dim: int, hidden: int = 128, depth: int = 3, t_dim: int = 32, T: int = 1000, skip: bool = True) -> None:
        super().__init__()
        self.t_dim, self.T = t_dim, T
        self.inp = nn.Linear(dim + t_dim, hidden)
        self.t_proj = nn.ModuleList(nn.Linear(t_dim, hidden) for _ in range(depth - 1))
        self.hidden = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(depth - 1))
        self.out = nn.Linear(hidden, dim)
        self.gate = nn.Linear(t_dim, dim) if skip else None
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        e = time_embedding(t, self.t_dim, self.T)
        h = self.act(self.inp(torch.cat([x, e], 1)))
        for lin, tp in zip(self.hidden, self.t_proj):
            h = self.act(lin(h) + tp(e))
        return self.out(h) + (self.gate(e) * x if self.gate is not None else 0.0)


@dataclass
class DDPM:
    sched: Schedule
    net: EpsilonMLP
    losses: list[float] = field(default_factory=list)


def train_ddpm(data: torch.Tensor, *, T: int = 200, hidden: int = 128, depth: int = 3, steps: int = 3000,
               batch_size: int = 256, lr: float = 2e-3, skip: bool = True, seed: int = 0) -> DDPM:
    """Train ε_θ on float data [N, D] with the simple loss, uniform t, Adam with a cosine-decayed learning rate."""
    sched = linear_schedule(T)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = EpsilonMLP(data.shape[1], hidden, depth, T=T, skip=skip)
    gen = torch.Generator().manual_seed(seed + 1)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    lr_sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    model = DDPM(sched, net)
    for _ in range(steps):
        idx = torch.randint(0, len(data), (batch_size,), generator=gen)
        t = torch.randint(0, T, (batch_size,), generator=gen)
        eps = torch.randn(batch_size, data.shape[1], generator=gen)
        x_t = q_sample(sched, data[idx], t, eps)
        loss = ((net(x_t, t) - eps) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        lr_sched.step()
        model.losses.append(float(loss.detach()))
    net.eval()
    return model


@torch.no_grad()
def sample(model: DDPM, n: int, dim: int, *, seed: int = 0, keep: tuple[int, ...] = (), clip: float | None = None,
           variance: str = "beta") -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
    """Ancestral sampling from x_T ~ N(0, I); returns x_0 and the intermediate x_t for t in `keep` (1-based).

    With `clip`, each step goes through the predicted x_0, clipped to [-clip, clip], and the mean of the posterior
    q(x_{t-1} | x_t, x_0) (Ho et al.'s sampler for images, whose pixels are known to lie in [-1, 1]); without it,
    the mean is computed from ε_θ directly. `variance` is Ho et al.'s σ_t² = β_t ("beta") or the posterior
    variance β̃_t = β_t (1 - ᾱ_{t-1}) / (1 - ᾱ_t) ("posterior"), which adds less noise in the last steps."""
    if variance not in ("beta", "posterior"):
        raise ValueError(f"variance must be 'beta' or 'posterior', got {variance!r}")
    s = model.sched
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, dim, generator=gen)
    kept = {s.T: x.clone()} if s.T in keep else {}
    betas, abar = s.betas.float(), s.alphas_cumprod.float()
    for i in reversed(range(s.T)):
        eps = model.net(x, torch.full((n,), i, dtype=torch.long))
        if clip is None:
            mean = (x - betas[i] / (1 - abar[i]).sqrt() * eps) / (1 - betas[i]).sqrt()
        else:
            x0 = ((x - (1 - abar[i]).sqrt() * eps) / abar[i].sqrt()).clamp(-clip, clip)
            abar_prev = abar[i - 1] if i > 0 else torch.tensor(1.0)
            mean = (abar_prev.sqrt() * betas[i] * x0 + (1 - betas[i]).sqrt() * (1 - abar_prev) * x) / (1 - abar[i])
        var = betas[i] if variance == "beta" else betas[i] * (1 - abar[i - 1]) / (1 - abar[i]) if i > 0 else betas[i]
        x = mean + (var.sqrt() * torch.randn(n, dim, generator=gen) if i > 0 else 0.0)
        if i in keep:  # x is now x_i in 1-based terms (x_0 when i = 0)
            kept[i] = x.clone()
    return x, kept


# --- data ------------------------------------------------------------------------------------------------------------


def two_moons(n: int, seed: int = 0, noise: float = 0.06) -> torch.Tensor:
    """scikit-learn's two moons, standardised: a small 2-D data set with curved, separated modes."""
    from sklearn.datasets import make_moons

    x, _ = make_moons(n_samples=n, noise=noise, random_state=seed)
    x = (x - x.mean(0)) / x.std(0)
    return torch.from_numpy(x.astype(np.float32))


def chamfer(a: torch.Tensor, b: torch.Tensor) -> float:
    """Symmetric mean nearest-neighbour distance between two point sets: 0 when samples lie on the data."""
    d = torch.cdist(a.float(), b.float())
    return float(0.5 * (d.min(1).values.mean() + d.min(0).values.mean()))


# --- the notebook's checks and figures ------------------------------------------------------------------------------


def shown_steps(T: int, fractions: Sequence[float]) -> list[int]:
    """The chain steps the figures show: each fraction of T, rounded, without repeats, in order (0 is the data)."""
    return sorted({min(T, max(0, round(f * T))) for f in fractions})


def forward_check(sched: Schedule, x0: Sequence[float], n: int, times: Sequence[int], seed: int = 0) -> list[dict[str, float]]:
    """n copies of the point x0 noised step by step (`forward_chain`); at each t > 0 in `times`, the sample mean
    and standard deviation per coordinate against the closed form sqrt(ᾱ_t) x0 and sqrt(1 - ᾱ_t), with the largest
    standardised deviation of each (standard errors sd/sqrt(n) of a mean and sd/sqrt(2(n-1)) of a normal sd)."""
    x = torch.tensor(list(x0), dtype=torch.float64).expand(n, -1)
    chain = forward_chain(sched, x, torch.Generator().manual_seed(seed))
    rows = []
    for t in (t for t in times if t > 0):
        xt, abar = chain[t - 1], float(sched.alphas_cumprod[t - 1])
        mean_cf, sd_cf = math.sqrt(abar) * np.asarray(x0, dtype=np.float64), math.sqrt(1 - abar)
        mean, sd = xt.mean(0).numpy(), xt.std(0).numpy()
        row = {"t": t, "alpha_bar": abar, "sd_closed_form": sd_cf,
               "z_mean": float(np.abs(mean - mean_cf).max() / (sd_cf / math.sqrt(n))),
               "z_sd": float(np.abs(sd - sd_cf).max() / (sd_cf / math.sqrt(2 * (n - 1))))}
        for i in range(len(x0)):
            row.update({f"mean_closed_form_{i + 1}": float(mean_cf[i]), f"mean_chain_{i + 1}": float(mean[i]), f"sd_chain_{i + 1}": float(sd[i])})
        rows.append(row)
    return rows


def noised(sched: Schedule, x0: torch.Tensor, t: int, gen: torch.Generator) -> torch.Tensor:
    """x_t ~ q(x_t | x_0) for 1-based t (t = 0: the data themselves)."""
    return x0 if t == 0 else q_sample(sched, x0, torch.full((len(x0),), t - 1), torch.randn(x0.shape, generator=gen))


def plot_toy_chains(x: torch.Tensor, sched: Schedule, kept: dict[int, torch.Tensor], times: Sequence[int],
                    path: str | Path, seed: int = 0) -> str:
    """One panel per shown step t, in reading order: the forward marginal q(x_t) of the data (blue) and the learned
    reverse chain at the same step (red). Read forwards, the moons dissolve into noise; read backwards, the
    reverse process rebuilds them. Returns the width for `gan.report.figure`."""
    from gan.demos import figures

    g = torch.Generator().manual_seed(seed)
    with figures.column_style():
        fig, axes, height = figures.panels(len(times), 3, 2.15, 0.35)
        for ax, t in zip(axes, times):
            f, r = noised(sched, x, t, g), kept[t]
            ax.scatter(f[:, 0], f[:, 1], s=0.4, color="tab:blue", alpha=0.5, rasterized=True)
            ax.scatter(r[:, 0], r[:, 1], s=0.4, color="tab:red", alpha=0.5, rasterized=True)
            ax.set_title(f"t = {t}" + (" (data)" if t == 0 else " (noise)" if t == sched.T else ""))
            ax.set(xlim=(-3.5, 3.5), ylim=(-3.5, 3.5), xticks=[], yticks=[], aspect="equal")
        handles = [plt.Line2D([], [], ls="", marker="o", color=c, label=l)
                   for c, l in (("tab:blue", "forward process q(x_t)"), ("tab:red", "learned reverse chain at step t"))]
        fig.legend(handles=handles, loc="upper center", ncol=2)
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / height))
        return figures.save(fig, path)


def chamfer_rows(samples: torch.Tensor, x: torch.Tensor, seed: int = 0) -> list[dict[str, float | str]]:
    """Chamfer distances to the training points of: the samples; fresh points of the true distribution (the
    floor that sampling noise sets); standard normal noise (where the reverse chain starts)."""
    fresh = two_moons(len(x), seed=seed + 100)
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed + 2))
    return [{"point set": "samples of the reverse process", "chamfer distance": chamfer(samples, x)},
            {"point set": "fresh two-moons points (the floor)", "chamfer distance": chamfer(fresh, x)},
            {"point set": "N(0, I) noise (the start)", "chamfer distance": chamfer(noise, x)}]


def digits_as_vectors(images: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 digits [N, 1, 28, 28] average-pooled to size x size, scaled to [-1, 1] and flattened: [N, size²]."""
    return torch.nn.functional.avg_pool2d(images.float() / 127.5 - 1.0, 28 // size).flatten(1)


def plot_digit_chains(xm: torch.Tensor, model: DDPM, kept: dict[int, torch.Tensor], times: Sequence[int], size: int,
                      path: str | Path, n: int = 4, seed: int = 0) -> str:
    """n digits noised by the forward process (one per row, t from 0 to T left to right), then n samples of the
    reverse process (t from T to 0), every digit enlarged to figures.DIGIT_PX pixels or more."""
    from gan.demos import figures

    g = torch.Generator().manual_seed(seed)
    fwd = torch.stack([noised(model.sched, xm[:n], t, g) for t in times], 1)  # [n, len(times), D]
    rev = torch.stack([kept[t][:n] for t in reversed(times)], 1)
    img = lambda v: v.reshape(-1, 1, size, size)  # noqa: E731
    steps = ", ".join(map(str, times))
    return figures.image_rows([(img(fwd), f"forward, t = {steps}"), (img(rev), f"reverse, t = {', '.join(map(str, reversed(times)))}")],
                              path, per_row=len(times), lo=-1.0, hi=1.0)


def plot_losses(losses: dict[str, Sequence[float]], path: str | Path) -> str:
    """The training loss of each model, as a running mean over 1 % of its steps."""
    from gan.demos import figures

    with figures.column_style():
        fig, ax = plt.subplots(figsize=(4.6, 2.6))
        for label, v in losses.items():
            k = max(1, len(v) // 100)
            ax.plot(np.convolve(v, np.ones(k) / k, mode="valid"), label=label)
        ax.set_xlabel("training step")
        ax.set_ylabel("‖ε − ε_θ(x_t, t)‖² per dimension")
        ax.legend()
        fig.tight_layout()
        return figures.save(fig, path)
