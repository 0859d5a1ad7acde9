"""Noise-contrastive estimation (Gutmann & Hyvärinen 2010): learn a density by telling data from noise.

An unnormalised model log p_m(u) = f_θ(u) + c, with the log-normaliser c a free parameter, is fitted by logistic
regression of data (label 1) against samples of a known noise density p_n (label 0), ν noise samples per data
point, with the classifier's logit G(u) = log p_m(u) - log p_n(u) - log ν. Because the classifier must also get the
*level* of the density right, the optimum has ∫ exp(f_θ + c) du = 1: NCE estimates the normaliser instead of
computing it, which is why it scales to models whose normaliser is intractable.

The classifier is the thesis's NCE picture (real data and noise in, a hidden layer, a binary output), and it is
the ancestor of a GAN's discriminator: a GAN replaces the fixed noise p_n by a learned generator. NCE itself does
not generate images; it estimates densities, and serves as a loss inside other generative models.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from scipy import integrate, special
from torch import nn

from gan.demos.figures import plt
from gan.demos.minimax import Density1D, bounds


class UnnormalisedGaussian(nn.Module):
    """f(u) = -(u - m)² / (2 s²): the exact normaliser is known, -c* = log(√(2π) s), which the tests check."""

    def __init__(self) -> None:
        super().__init__()
        self.m = nn.Parameter(torch.zeros((), dtype=torch.float64))
        self.log_s = nn.Parameter(torch.zeros((), dtype=torch.float64))

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return -0.5 * ((u - self.m) / self.log_s.exp()) ** 2

    @property
    def mean(self) -> float:
        return float(self.m.detach())

    @property
    def scale(self) -> float:
        return float(self.log_s.detach().exp())


class MLPEnergy(nn.Module):
    """f(u) = MLP(u) - u²/(2 s²): a flexible unnormalised log-density whose normaliser has no closed form. The
    tanh MLP is bounded, so the quadratic term keeps exp(f) integrable whatever the weights."""

    def __init__(self, hidden: int, scale: float) -> None:
        super().__init__()
        self.scale = scale
        self.net = nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, 1, bias=False)).double()  # c is the offset

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        v = u / self.scale
        return self.net(v.unsqueeze(-1)).squeeze(-1) - 0.5 * v**2


@dataclass
class NCEResult:
    model: nn.Module
    c: float  # the learned log-normaliser
    nu: float  # noise samples per data sample
    history: list[float]  # the NCE objective J at every evaluation (log-likelihood of the labels per data point)
    accuracy: float  # the final classifier's accuracy on its training data and noise

    def log_density(self, u: np.ndarray) -> np.ndarray:
        """log p_m(u) = f(u) + c, the model's (self-normalised) log-density."""
        with torch.no_grad():
            return self.model(torch.as_tensor(np.asarray(u, dtype=np.float64))).numpy() + self.c

    def unnormalised(self) -> Callable[[float], float]:
        return lambda u: float(np.exp(self.log_density(np.asarray([u]))[0] - self.c))


def fit_nce(data: np.ndarray, noise: Density1D, *, model: str = "mlp", nu: float = 5.0, hidden: int = 16,
            steps: int = 300, seed: int = 0) -> NCEResult:
    """Fit log p_m = f + c to `data` by NCE against `noise`: at most `steps` L-BFGS iterations on the full batch."""
    x = torch.as_tensor(np.asarray(data, dtype=np.float64))
    n_noise = int(round(nu * len(x)))
    y = torch.as_tensor(noise.sample(n_noise, seed=seed + 1))
    log_pn_x, log_pn_y = torch.as_tensor(noise.logpdf(x.numpy())), torch.as_tensor(noise.logpdf(y.numpy()))
    log_nu = math.log(n_noise / len(x))
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        f: nn.Module = UnnormalisedGaussian() if model == "gaussian" else MLPEnergy(hidden, float(x.std()))
    if model == "gaussian":
        with torch.no_grad():  # start at the data's moments, as any practical fit would
            f.m.fill_(float(x.mean()))
            f.log_s.fill_(math.log(float(x.std())))
    c = nn.Parameter(torch.zeros((), dtype=torch.float64))
    # the NCE objective is smooth and, for exponential families, concave: full-batch L-BFGS reaches its optimum
    # in a few hundred evaluations, deterministically
    opt = torch.optim.LBFGS([*f.parameters(), c], lr=1.0, max_iter=steps, history_size=50,
                            tolerance_grad=1e-10, tolerance_change=1e-13, line_search_fn="strong_wolfe")
    history: list[float] = []

    def closure() -> torch.Tensor:
        gx = f(x) + c - log_pn_x - log_nu  # logit of "this is data"
        gy = f(y) + c - log_pn_y - log_nu
        # J = E_data[log h] + ν E_noise[log(1 - h)], per data point (Gutmann & Hyvärinen's objective)
        j = nn.functional.logsigmoid(gx).mean() + (n_noise / len(x)) * nn.functional.logsigmoid(-gy).mean()
        opt.zero_grad()
        (-j).backward()
        history.append(float(j.detach()))
        return -j

    opt.step(closure)
    with torch.no_grad():
        gx, gy = f(x) + c - log_pn_x - log_nu, f(y) + c - log_pn_y - log_nu
        acc = float((torch.cat([gx > 0, gy < 0])).double().mean())
    return NCEResult(f.eval(), float(c.detach()), n_noise / len(x), history, acc)


def integral(fn: Callable[[float], float], lo: float, hi: float) -> float:
    """∫ fn over [lo, hi] by adaptive quadrature (for normalisers and total-variation distances)."""
    return float(integrate.quad(fn, lo, hi, limit=500, epsabs=1e-10, epsrel=1e-9)[0])


def normaliser_check(res: NCEResult, lo: float, hi: float) -> dict[str, float]:
    """The normaliser Z = ∫ exp(f) du by quadrature, against NCE's estimate exp(-c)."""
    z = integral(res.unnormalised(), lo, hi)
    return {"Z_quadrature": z, "Z_nce": math.exp(-res.c), "log_Z_quadrature": math.log(z), "minus_c": -res.c,
            "integral_of_model": z * math.exp(res.c)}


# --- the notebook's fits and figure ---------------------------------------------------------------------------------


def fit_and_check(x: np.ndarray, p_data: Density1D, p_noise: Density1D, nus: Sequence[int], *, hidden: int,
                  steps: int, seed: int = 0) -> tuple[dict[int, NCEResult], list[dict[str, float]]]:
    """An MLP model fitted by NCE for every noise ratio ν, each checked by quadrature: NCE's log-normaliser -c
    against log ∫ exp f, the fitted density's integral, its total-variation distance from the true density, the
    classifier's accuracy, and the Bayes-optimal classifier's largest P(data | u) (below 1/2 it never says
    "data", and its accuracy is the chance level ν / (1 + ν))."""
    lo, hi = bounds(p_data, p_noise)
    grid = np.linspace(lo, hi, 4001)
    fits, rows = {}, []
    for nu in nus:
        r = fit_nce(x, p_noise, model="mlp", nu=nu, hidden=hidden, steps=steps, seed=seed)
        chk = normaliser_check(r, lo, hi)
        tv = 0.5 * integral(lambda u: abs(math.exp(r.log_density(np.array([u]))[0]) - float(p_data.pdf(u))), lo, hi)
        fits[nu] = r
        rows.append({"nu": nu, "minus_c": chk["minus_c"], "log_Z_quadrature": chk["log_Z_quadrature"],
                     "integral_of_model": chk["integral_of_model"], "tv_to_truth": tv, "accuracy": r.accuracy,
                     "chance_accuracy": r.nu / (1 + r.nu), "evaluations": len(r.history),
                     "bayes_max_posterior": float(np.max(p_data.pdf(grid) / (p_data.pdf(grid) + r.nu * p_noise.pdf(grid))))})
    return fits, rows


def gaussian_check(x: np.ndarray, truth: Density1D, p_noise: Density1D, *, nu: int, steps: int,
                   seed: int = 0) -> dict[str, float]:
    """An unnormalised Gaussian fitted by NCE to samples `x` of the normal `truth`: its mean, scale and
    log-normaliser against the true ones (the normaliser is √(2π) s in closed form), and the maximum-likelihood
    scale of the same samples for comparison."""
    r = fit_nce(x, p_noise, model="gaussian", nu=nu, steps=steps, seed=seed)
    sigma = float(truth.components[0].std())
    return {"m_true": float(truth.components[0].mean()), "m_hat": r.model.mean, "sigma_true": sigma, "s_hat": r.model.scale,
            "minus_c": -r.c, "log_Z_of_fit": math.log(math.sqrt(2 * math.pi) * r.model.scale),
            "log_Z_true": math.log(math.sqrt(2 * math.pi) * sigma), "s_mle": float(np.std(x))}


def plot_fit(x: np.ndarray, p_data: Density1D, p_noise: Density1D, fits: dict[int, NCEResult], path: str | Path) -> str:
    """Top: the data's histogram, the true density, the noise density and the NCE fits. Bottom: the NCE
    classifier's probability that a point is data, h(u) = σ(log p_m - log p_n - log ν), against the
    Bayes-optimal p_data / (p_data + ν p_n) (dotted). Returns the width for `gan.report.figure`."""
    from gan.demos import figures

    lo, hi = bounds(p_data, p_noise)
    us = np.linspace(max(lo, -8), min(hi, 8), 801)
    cols = plt.cm.viridis(np.linspace(0.15, 0.85, len(fits)))
    with figures.column_style():
        fig, (a, b) = plt.subplots(2, 1, figsize=(figures.COLUMN_IN, 5.4), sharex=True)
        a.hist(x, bins=60, density=True, color="0.85", label=f"data ({len(x)} samples)")
        a.plot(us, p_data.pdf(us), ":", color="k", lw=2, label="true p_data")
        a.plot(us, p_noise.pdf(us), color="grey", lw=1, label=f"noise p_n = {p_noise.name}")
        for (nu, r), c in zip(fits.items(), cols):
            a.plot(us, np.exp(r.log_density(us)), color=c, label=f"NCE fit, ν = {nu}")
            b.plot(us, special.expit(r.log_density(us) - p_noise.logpdf(us) - math.log(r.nu)), color=c, label=f"h(u), ν = {nu}")
            b.plot(us, p_data.pdf(us) / (p_data.pdf(us) + r.nu * p_noise.pdf(us)), ":", color=c, lw=2)
        b.plot([], [], ":", color="k", lw=2, label="Bayes optimum")
        a.set_ylabel("density")
        a.legend(loc="upper left", fontsize=9)
        b.set_xlabel("u")
        b.set_ylabel("P(data | u)")
        b.legend(loc="upper left", ncol=2)
        fig.tight_layout()
        return figures.save(fig, path)
