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

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from scipy import integrate, special, stats

from gan.demos.configs import DensitySpec
from gan.demos.figures import plt

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


# --- the notebook's checks, tables and figures ----------------------------------------------------------------------


@dataclass
class PairCheck:
    """Every quantity the notebook checks for one pair (p_data, p_g)."""

    p_data: Density1D
    p_g: Density1D
    jsd: float
    c_of_g: float  # V(D*, G) by quadrature
    formula: float  # -log 4 + 2 JSD
    perturbed: dict[str, float]  # V of each perturbed discriminator
    ascent: AscentResult
    v_ascent: float  # V of the gradient-ascent D, by adaptive quadrature
    d_gap: float  # max |D_ascent - D*| where p_data + p_g > 1e-3

    @property
    def best_perturbed(self) -> float:
        return max(self.perturbed.values())

    def row(self) -> dict[str, float | str]:
        """The plain numbers, for pairs.csv and metrics.json."""
        return {"p_data": self.p_data.name, "p_g": self.p_g.name, "jsd": self.jsd, "c_of_g": self.c_of_g,
                "formula": self.formula, "abs_diff": abs(self.c_of_g - self.formula), "best_perturbed": self.best_perturbed,
                "best_perturbed_name": max(self.perturbed, key=self.perturbed.get), "v_ascent": self.v_ascent,
                "max_abs_d_ascent_minus_dstar": self.d_gap}


def check_pair(data: "dict | DensitySpec", g: "dict | DensitySpec", ascent: Any, seed: int = 0) -> PairCheck:
    """JSD, C(G) = V(D*, G) and -log 4 + 2 JSD by quadrature; V of the perturbed discriminators; and an MLP
    discriminator trained by gradient ascent on V (`ascend_d` with the keys of `ascent`, a mapping or a
    dataclass), with its largest distance to D* where either density has mass."""
    p, q = density_from_spec(data), density_from_spec(g)
    asc_kw = ascent if isinstance(ascent, dict) else dataclasses.asdict(ascent)
    j = jsd(p, q)
    perturbed = {name: value(l, p, q) for name, l in perturbed_logits(p, q).items()}
    asc = ascend_d(p, q, seed=seed, **asc_kw)
    xs = np.linspace(*bounds(p, q), 2001)
    mass = p.pdf(xs) + q.pdf(xs) > 1e-3
    gap = float(np.abs(special.expit(asc.logit(xs[mass])) - optimal_d(p, q, xs[mass])).max())
    return PairCheck(p, q, j, c_of_g(p, q), -LOG4 + 2 * j, perturbed, asc, value(asc.logit, p, q), gap)


def verdict_checks(checks: Sequence[PairCheck], tol: float) -> dict[str, bool]:
    """The identities the notebook's verdicts rest on. D* must beat every perturbed D strictly wherever p_g differs
    from p_data; for identical densities D* = 1/2, and the perturbations that scale its logit (zero) equal it."""
    return {"identity": max(abs(c.c_of_g - c.formula) for c in checks) < tol,
            "dstar_beats_perturbed": all(c.c_of_g > c.best_perturbed if c.jsd > 1e-9 else c.c_of_g >= c.best_perturbed - 1e-12
                                         for c in checks),
            "dstar_beats_ascent": all(c.c_of_g >= c.v_ascent - 1e-9 for c in checks),
            "jsd_range": all(-1e-12 <= c.jsd <= math.log(2) + 1e-12 for c in checks)}


def perturbation_tables(checks: Sequence[PairCheck], per_table: int = 3) -> list[list[dict[str, str]]]:
    """V of every perturbed discriminator and of D* (bold) per pair, as tables of at most `per_table` pairs each
    (a table as wide as the pairs overflows the book's column)."""
    names = list(checks[0].perturbed) + ["**D* (analytic)**"]
    tables = []
    for k0 in range(0, len(checks), per_table):
        part = list(enumerate(checks))[k0 : k0 + per_table]
        tables.append([{"discriminator": n, **{f"V, pair {k + 1}": (f"**{c.c_of_g:.7g}**" if n.startswith("**") else f"{c.perturbed[n]:.7g}")
                                               for k, c in part}} for n in names])
    return tables


def plot_optimal_d(checks: Sequence[PairCheck], path: str | Path) -> str:
    """One panel per pair, two columns: the densities, the analytic D* and the gradient-ascent D, with one legend
    above. Returns the width for `gan.report.figure`."""
    from gan.demos import figures

    with figures.column_style():
        fig, axes, height = figures.panels(len(checks), 2, 2.1, 0.5)
        for k, (ax, c) in enumerate(zip(axes, checks)):
            (a1, b1), (a2, b2) = c.p_data.interval(1e-4), c.p_g.interval(1e-4)
            xs = np.linspace(min(a1, a2), max(b1, b2), 801)
            ax.plot(xs, c.p_data.pdf(xs), ":", color="k", lw=2, label="p_data")
            ax.plot(xs, c.p_g.pdf(xs), color="tab:green", label="p_g")
            ax.plot(xs, optimal_d(c.p_data, c.p_g, xs), color="tab:orange", lw=2.5, alpha=0.6, label="D* = p_data / (p_data + p_g)")
            ax.plot(xs, special.expit(c.ascent.logit(xs)), "--", color="tab:blue", label="D by gradient ascent on V")
            ax.set_title(f"pair {k + 1}: {c.p_data.name} vs {c.p_g.name}", fontsize=9)
            ax.set_ylim(-0.02, 1.05)
        fig.legend(*axes[0].get_legend_handles_labels(), loc="upper center", ncol=2)
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.5 / height))
        return figures.save(fig, path)


def shift_curve(data: "dict | DensitySpec", sigma_g: float, mus: Sequence[float]) -> tuple[Density1D, list[dict[str, float]]]:
    """C(G) and the JSD by quadrature for p_g = N(mu, sigma_g²) sliding across p_data."""
    p = density_from_spec(data)
    rows = []
    for mu in mus:
        q = normal(float(mu), sigma_g)
        rows.append({"mu": float(mu), "c_of_g": c_of_g(p, q), "jsd": jsd(p, q)})
    return p, rows


def plot_c_of_g(p: Density1D, sigma_g: float, curve: Sequence[dict[str, float]], path: str | Path) -> str:
    """C(G) by quadrature (circles) and -log 4 + 2 JSD (crosses) against the mean of p_g, with -log 4 marked."""
    from gan.demos import figures

    mus = [r["mu"] for r in curve]
    with figures.column_style():
        fig, ax = plt.subplots(figsize=(5.0, 2.8))
        ax.plot(mus, [r["c_of_g"] for r in curve], "o-", label="C(G) = V(D*, G) by quadrature")
        ax.plot(mus, [-LOG4 + 2 * r["jsd"] for r in curve], "k+", ms=12, label="−log 4 + 2 JSD")
        ax.axhline(-LOG4, color="grey", ls="--", lw=0.8)
        ax.text(mus[0], -LOG4, " −log 4", va="bottom", color="grey")
        ax.set_xlabel(f"mean μ of p_g = N(μ, {sigma_g:g}²); p_data = {p.name}")
        ax.set_ylabel("C(G)")
        ax.legend(loc="upper center")
        fig.tight_layout()
        return figures.save(fig, path)
