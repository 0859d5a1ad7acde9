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

import numpy as np
import torch
from torch import nn


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
