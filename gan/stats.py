"""Statistics behind every verdict in the book: mean ± std over seeds, and the test that decides a claim.

A claim such as "conv beats dense" is a one-sided comparison of FIDs (lower is better) between two groups of
runs. `compare` runs Welch's t-test (unequal variances; scipy), reports the effect size as Hedges' g, and turns
the result into one of three verdicts: the data support the claim, contradict it, or do not decide it at the
chosen level. With 3 seeds per group the test has little power: "inconclusive" is a real, reportable outcome.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
from scipy import stats as sps

ALPHA = 0.05


@dataclass(frozen=True)
class Summary:
    mean: float
    std: float  # sample standard deviation (ddof=1); nan for a single value
    n: int

    def __str__(self) -> str:
        return fmt_mean_std(self.mean, self.std, self.n)


def summarize(values: Sequence[float]) -> Summary:
    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=np.float64)
    if len(v) == 0:
        return Summary(float("nan"), float("nan"), 0)
    return Summary(float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else float("nan"), int(len(v)))


def fmt_mean_std(mean: float, std: float, n: int | None = None, digits: int = 1) -> str:
    if not math.isfinite(mean):
        return "n/a"
    s = f"{mean:.{digits}f}" + (f" ± {std:.{digits}f}" if math.isfinite(std) else "")
    return s + (f" (n={n})" if n is not None else "")


def hedges_g(a: Sequence[float], b: Sequence[float]) -> float:
    """Standardised mean difference (mean(a) - mean(b)) / pooled sd, with the small-sample correction."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    na, nb = len(a), len(b)
    if na < 2 or nb < 2:
        return float("nan")
    sp = math.sqrt(((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / (na + nb - 2))
    if sp == 0:
        return float("nan")
    return float((a.mean() - b.mean()) / sp * (1 - 3 / (4 * (na + nb) - 9)))


@dataclass(frozen=True)
class Comparison:
    claim: str  # e.g. "conv beats dense"
    better: str  # the group the claim says is better (lower FID)
    worse: str
    better_summary: Summary
    worse_summary: Summary
    test: str
    statistic: float
    p_value: float  # one-sided, in the claim's direction
    p_value_opposite: float  # one-sided, in the opposite direction (what decides "contradicted")
    effect_size: float  # Hedges' g of (worse - better): positive when the claim's direction holds
    alpha: float
    verdict: str  # "supported" | "contradicted" | "inconclusive"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["better_summary"], d["worse_summary"] = asdict(self.better_summary), asdict(self.worse_summary)
        return d

    def sentence(self) -> str:
        """One plain sentence for the book: what the data say about the claim, with the numbers."""
        what = {"supported": "The data **support** the claim",
                "contradicted": "The data **contradict** the claim",
                "inconclusive": "The data **do not decide** the claim"}[self.verdict]
        return (f"{what} that {self.claim}: FID {self.better} {self.better_summary} vs {self.worse} "
                f"{self.worse_summary}; {self.test}, one-sided p = {fmt_p(self.p_value)}"
                + (f" (opposite direction: p = {fmt_p(self.p_value_opposite)})" if self.verdict == "contradicted" else "")
                + ", "
                f"Hedges' g = {self.effect_size:.2f} (α = {self.alpha}).")


def fmt_p(p: float) -> str:
    if not math.isfinite(p):
        return "n/a"
    return f"{p:.2g}" if p >= 1e-3 else f"{p:.1e}"


def compare(claim: str, better: str, better_fids: Sequence[float], worse: str, worse_fids: Sequence[float],
            alpha: float = ALPHA) -> Comparison:
    """Test the claim that group `better` has lower FID than group `worse` (Welch's t-test, one-sided).

    "supported": p < alpha in the claim's direction. "contradicted": p < alpha in the opposite direction.
    Otherwise "inconclusive". Runs that diverged (FID None/NaN) are left out of both groups and counted as
    such by the caller."""
    a = np.asarray([x for x in better_fids if x is not None and math.isfinite(x)], np.float64)
    b = np.asarray([x for x in worse_fids if x is not None and math.isfinite(x)], np.float64)
    if len(a) >= 2 and len(b) >= 2 and (a.std() > 0 or b.std() > 0):
        res = sps.ttest_ind(b, a, equal_var=False, alternative="greater")
        p_claim = float(res.pvalue)
        p_opposite = float(sps.ttest_ind(b, a, equal_var=False, alternative="less").pvalue)
        stat = float(res.statistic)
    else:
        p_claim = p_opposite = stat = float("nan")
    if math.isfinite(p_claim) and p_claim < alpha:
        verdict = "supported"
    elif math.isfinite(p_opposite) and p_opposite < alpha:
        verdict = "contradicted"
    else:
        verdict = "inconclusive"
    return Comparison(claim, better, worse, summarize(a), summarize(b), "Welch's t-test", stat, p_claim, p_opposite,
                      hedges_g(b, a), alpha, verdict)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, for a family of comparisons (e.g. none vs each augmentation)."""
    p = np.asarray(p_values, np.float64)
    order = np.argsort(p)
    m = len(p)
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adj[i] = running
    return adj.tolist()
