"""The min-max objective of Goodfellow et al. 2014, checked numerically on 1-D densities.

    V(D, G) = E_{x~p_data}[log D(x)] + E_{x~p_g}[log(1 - D(x))] = ∫ p_data log D + p_g log(1 - D) dx

For a fixed G the integrand is maximised pointwise by D*(x) = p_data(x) / (p_data(x) + p_g(x)), and then
C(G) = V(D*, G) = -log 4 + 2 JSD(p_data || p_g), which is smallest (-log 4) exactly when p_g = p_data.

Why this module exists: the book derives these identities; here every one of them is computed by adaptive
quadrature (scipy.integrate.quad), independently of the derivation, so that the book's table checks the algebra.
Discriminators are given by their *logit* l(x) (D = sigmoid(l)), as in `gan.losses`: log D = log_expit(l) and
log(1 - D) = log_expit(-l) stay finite where D rounds to 0 or 1, and D* has the logit log p_data - log p_g.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch
from scipy import integrate, special, stats

from gan.demos.configs import DensitySpec

Logit = Callable[[np.ndarray], np.ndarray]  # x -> logit of D(x)
LOG4 = math.log(4.0)


@dataclass(frozen=True)
class Density1D:
    """A finite mixture of scipy.stats continuous distributions, with a name for tables and legends."""

    name: str
    weights: tuple[float, ...]
    components: tuple[stats.rv_continuous, ...]  # frozen distributions

    def logpdf(self, x: np.ndarray | float) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        terms = [math.log(w) + c.logpdf(x) for w, c in zip(self.weights, self.components)]
        return special.logsumexp(np.stack(terms), axis=0)

    def pdf(self, x: np.ndarray | float) -> np.ndarray:
        return np.exp(self.logpdf(x))

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        rng = np.random.default_rng(seed)
        which = rng.choice(len(self.weights), size=n, p=np.asarray(self.weights) / sum(self.weights))
        out = np.empty(n)
        for k, c in enumerate(self.components):
            m = which == k
            out[m] = c.rvs(size=int(m.sum()), random_state=rng)
        return out

    def interval(self, tail: float = 1e-13) -> tuple[float, float]:
        """An interval that holds all but about `tail` of the mass (quadrature needs finite, tight bounds)."""
        return (min(float(c.ppf(tail)) for c in self.components), max(float(c.isf(tail)) for c in self.components))

    def modes(self) -> list[float]:
        return [float(c.median()) for c in self.components]


def normal(mu: float, sigma: float, name: str | None = None) -> Density1D:
    return Density1D(name or f"N({mu:g}, {sigma:g}²)", (1.0,), (stats.norm(mu, sigma),))


def mixture(parts: Sequence[tuple[float, stats.rv_continuous]], name: str) -> Density1D:
    w = np.asarray([p[0] for p in parts], dtype=np.float64)
    return Density1D(name, tuple((w / w.sum()).tolist()), tuple(p[1] for p in parts))


def density_from_spec(spec: "dict | DensitySpec") -> Density1D:
    """Build a density from its config (`gan.demos.configs.DensitySpec`, or the mapping it is parsed from)."""
    s = DensitySpec.from_dict(spec)
    if s.normal is not None:
        return normal(*s.normal, name=s.name)
    if s.laplace is not None:
        loc, scale = s.laplace
        return Density1D(s.name or f"Laplace({loc:g}, {scale:g})", (1.0,), (stats.laplace(loc, scale),))
    parts = [(w, stats.norm(m, sd)) for w, m, sd in s.mixture]
    return mixture(parts, s.name or " + ".join(f"{w:g}·N({m:g}, {sd:g}²)" for w, m, sd in s.mixture))


# --- the integrals ------------------------------------------------------------------------------------------------


def bounds(p: Density1D, q: Density1D) -> tuple[float, float]:
    (a1, b1), (a2, b2) = p.interval(), q.interval()
    return min(a1, a2), max(b1, b2)


def _quad(f: Callable[[float], float], p: Density1D, q: Density1D) -> float:
    lo, hi = bounds(p, q)
    pts = sorted({m for m in p.modes() + q.modes() if lo < m < hi})
    val, _ = integrate.quad(f, lo, hi, points=pts or None, limit=1000, epsabs=1e-13, epsrel=1e-12)
    return float(val)


def optimal_logit(p_data: Density1D, p_g: Density1D) -> Logit:
    """The logit of D*(x) = p_data / (p_data + p_g): log p_data(x) - log p_g(x)."""
    return lambda x: p_data.logpdf(x) - p_g.logpdf(x)


def optimal_d(p_data: Density1D, p_g: Density1D, x: np.ndarray) -> np.ndarray:
    return special.expit(optimal_logit(p_data, p_g)(x))


def value(logit: Logit, p_data: Density1D, p_g: Density1D) -> float:
    """V(D, G) = ∫ p_data log D + p_g log(1 - D) dx, for D = sigmoid(logit), by adaptive quadrature."""

    def f(x: float) -> float:
        lp, lq, l = p_data.logpdf(x), p_g.logpdf(x), logit(np.asarray(x))
        return float(np.exp(lp) * special.log_expit(l) + np.exp(lq) * special.log_expit(-l))

    return _quad(f, p_data, p_g)


def kl(p: Density1D, q: Density1D) -> float:
    """KL(p || q) = ∫ p log(p / q) dx by quadrature."""
    return _quad(lambda x: float(np.exp(p.logpdf(x)) * (p.logpdf(x) - q.logpdf(x))), p, q)


def jsd(p: Density1D, q: Density1D) -> float:
    """Jensen-Shannon divergence in nats: KL(p||m)/2 + KL(q||m)/2 with m = (p + q)/2; 0 <= JSD <= log 2."""

    def f(x: float) -> float:
        lp, lq = p.logpdf(x), q.logpdf(x)
        lm = np.logaddexp(lp, lq) - math.log(2.0)
        return float(0.5 * np.exp(lp) * (lp - lm) + 0.5 * np.exp(lq) * (lq - lm))

    return _quad(f, p, q)


def c_of_g(p_data: Density1D, p_g: Density1D) -> float:
    """C(G) = max_D V(D, G) = V(D*, G), by quadrature of V with the analytic D* plugged in."""
    return value(optimal_logit(p_data, p_g), p_data, p_g)


def perturbed_logits(p_data: Density1D, p_g: Density1D) -> dict[str, Logit]:
    """Discriminators other than D*, to show that none of them reaches V(D*, G)."""
    opt = optimal_logit(p_data, p_g)
    return {
        "D = 1/2 (a D that cannot tell)": lambda x: np.zeros_like(np.asarray(x, dtype=np.float64)),
        "logit(D*) + 0.5": lambda x: opt(x) + 0.5,
        "logit(D*) - 0.5": lambda x: opt(x) - 0.5,
        "logit(D*) + 0.3 sin(3x)": lambda x: opt(x) + 0.3 * np.sin(3.0 * np.asarray(x)),
        "1.5 logit(D*) (overconfident)": lambda x: 1.5 * opt(x),
        "0.5 logit(D*) (underconfident)": lambda x: 0.5 * opt(x),
    }


# --- a discriminator found by gradient ascent ---------------------------------------------------------------------


@dataclass
class AscentResult:
    logit: Logit  # the trained D's logit, as a numpy function
    history: list[float]  # V(D, G) on the quadrature grid, per step
    value_grid: float  # final V on the grid


def ascend_d(p_data: Density1D, p_g: Density1D, *, steps: int = 1500, hidden: int = 64, lr: float = 3e-3,
             nodes: int = 2000, seed: int = 0) -> AscentResult:
    """Train an MLP discriminator by gradient ascent on V(D, G), with the expectations computed by Gauss-Legendre
    quadrature (no sampling noise): the D that an ideal inner loop of GAN training would find for this G."""
    lo, hi = bounds(p_data, p_g)
    t, w = np.polynomial.legendre.leggauss(nodes)
    x = 0.5 * (hi - lo) * t + 0.5 * (hi + lo)
    w = 0.5 * (hi - lo) * w
    pw = torch.from_numpy(w * p_data.pdf(x))
    qw = torch.from_numpy(w * p_g.pdf(x))
    centre, half = 0.5 * (hi + lo), 0.5 * (hi - lo)
    xt = torch.from_numpy((x - centre) / half).unsqueeze(1)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = torch.nn.Sequential(torch.nn.Linear(1, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, hidden),
                                  torch.nn.Tanh(), torch.nn.Linear(hidden, 1)).double()
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    history = []
    for _ in range(steps):
        l = net(xt).squeeze(1)
        v = (pw * torch.nn.functional.logsigmoid(l) + qw * torch.nn.functional.logsigmoid(-l)).sum()
        opt.zero_grad()
        (-v).backward()
        opt.step()
        history.append(float(v.detach()))
    net.eval()

    def logit(xs: np.ndarray) -> np.ndarray:
        xs = np.asarray(xs, dtype=np.float64)
        with torch.no_grad():
            z = torch.from_numpy(np.atleast_1d((xs - centre) / half)).unsqueeze(1)
            return net(z).squeeze(1).numpy().reshape(xs.shape)

    return AscentResult(logit, history, history[-1])
