"""Statistics behind every verdict in the book: means with intervals, and the tests that decide a claim.

A claim such as "conv beats dense" is a one-sided comparison of FIDs (lower is better) between two groups of
units: runs (seeds) of one configuration each, or cell means where the design varies cells (the depth grid).
`compare` reports, for the claim's direction:

- the two means with 95 % t intervals, their difference with a 95 % Welch interval, Hedges' g;
- Welch's t-test (unequal variances; scipy), and beside it, where a group has at most 5 units, the exact
  permutation test of the difference in means (every split of the pooled values; no normality assumed);
- the smallest difference the design could have detected (one-sided, with 80 % power, for the observed
  spreads and sizes, at α alone or, in a family, at α/m, the level of Holm's first step): what a "not decided"
  means.

Where the design pairs its units (two runs that share everything but the thing compared, such as the seed, the
discriminator and the generator's start), `compare_paired` tests the pairs' differences instead: the paired
t-test beside the exact sign-flip test (every pattern of swapping the two values within pairs), with a t interval
of the mean difference and the detectable difference of a paired design. Its exact test's floor is 1/2^n for n
pairs: 5 pairs cannot reach 0.025, the level Holm's first step needs in a family of two.

The verdict: **supported** when every test reports p ≤ α in the claim's direction, **contradicted** when every
test does in the opposite direction, otherwise **not decided**; **not testable** when a group has fewer than two
units (failed runs are left out and counted). Each direction is a one-sided test at α: where nothing differs, a
claim is wrongly called supported with chance at most α, and wrongly called contradicted with chance at most α.
`holm_family` adjusts a family of claims (Holm 1979) in each direction on the deciding p of each: the largest of
its tests' p-values in that direction.

With 3 units per group the exact permutation test cannot go below p = 1/20 = 0.05, and no claim survives a
correction for several claims: the design, not the data, then decides. `decidable` says whether a claim could
have been decided had every test of its family reached its floor; where it could not, the book says so in place of
a detectable difference, since no difference, however large, would have been.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, replace
from typing import Sequence

import numpy as np
from scipy import stats as sps

ALPHA = 0.05
POWER = 0.8
EXACT_MAX_SPLITS = 200_000  # beyond this many splits the permutation test samples them (seeded)
EXACT_MAX_FLIPS = 2**20  # the sign-flip test enumerates every pattern up to 20 pairs, and samples beyond
WORDS = {"supported": "The data **support** the claim",
         "contradicted": "The data **contradict** the claim",
         "inconclusive": "The data **do not decide** the claim",
         "not testable": "The claim is **not testable** here"}
SHORT = {"supported": "supported", "contradicted": "contradicted", "inconclusive": "not decided", "not testable": "not testable"}


@dataclass(frozen=True)
class Summary:
    mean: float
    std: float  # sample standard deviation (ddof=1); nan for a single value
    n: int
    ci_low: float = float("nan")  # 95 % t interval of the mean
    ci_high: float = float("nan")

    def __str__(self) -> str:
        return fmt_mean_std(self.mean, self.std, self.n)

    def ci(self, digits: int = 1) -> str:
        return fmt_ci(self.mean, self.ci_low, self.ci_high, digits)


def _finite(values: Sequence[float | None]) -> np.ndarray:
    return np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=np.float64)


def summarize(values: Sequence[float | None], level: float = 0.95) -> Summary:
    v = _finite(values)
    if len(v) == 0:
        return Summary(float("nan"), float("nan"), 0)
    if len(v) == 1:
        return Summary(float(v[0]), float("nan"), 1)
    sd = float(v.std(ddof=1))
    half = float(sps.t.ppf(0.5 + level / 2, len(v) - 1)) * sd / math.sqrt(len(v))
    return Summary(float(v.mean()), sd, int(len(v)), float(v.mean()) - half, float(v.mean()) + half)


def fmt_mean_std(mean: float, std: float, n: int | None = None, digits: int = 1) -> str:
    if not math.isfinite(mean):
        return "n/a"
    s = f"{mean:.{digits}f}" + (f" ± {std:.{digits}f}" if math.isfinite(std) else "")
    return s + (f" (n={n})" if n is not None else "")


def fmt_ci(mean: float, low: float, high: float, digits: int = 1) -> str:
    """'12.3 [10.1, 14.5]': a value and its 95 % interval (the value alone where there is no interval)."""
    if not math.isfinite(mean):
        return "n/a"
    return f"{mean:.{digits}f}" + (f" [{low:.{digits}f}, {high:.{digits}f}]" if math.isfinite(low) else "")


def fmt_p(p: float) -> str:
    if not math.isfinite(p):
        return "n/a"
    return f"{p:.2g}" if p >= 1e-3 else f"{p:.1e}"


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


def welch_df(a: np.ndarray, b: np.ndarray) -> float:
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    if va + vb == 0:
        return float("nan")
    return (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))


def welch_interval(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """mean(a) - mean(b) and its Welch t interval."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = float(a.mean() - b.mean())
    se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    df = welch_df(a, b)
    if not math.isfinite(df) or se == 0:
        return d, float("nan"), float("nan")
    half = float(sps.t.ppf(0.5 + level / 2, df)) * se
    return d, d - half, d + half


def permutation_test(a: Sequence[float], b: Sequence[float], seed: int = 0) -> tuple[float, int, bool]:
    """One-sided p-value that mean(a) - mean(b) is as large as observed when the group labels carry no
    information: the share of all splits of the pooled values (exact; sampled, seeded, beyond EXACT_MAX_SPLITS)
    whose difference is at least the observed one. Returns (p, splits, exact)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    pooled, na = np.concatenate([a, b]), len(a)
    observed = a.mean() - b.mean()
    total, n = pooled.sum(), len(pooled)
    splits = math.comb(n, na)
    tol = 1e-12 * max(1.0, abs(observed))
    if splits <= EXACT_MAX_SPLITS:
        sums = np.fromiter((pooled[list(c)].sum() for c in itertools.combinations(range(n), na)), np.float64, splits)
        exact = True
    else:
        rng = np.random.default_rng(seed)
        idx = np.array([rng.permutation(n)[:na] for _ in range(EXACT_MAX_SPLITS)])
        sums, splits, exact = pooled[idx].sum(1), EXACT_MAX_SPLITS, False
    diffs = sums / na - (total - sums) / (n - na)
    return float(np.mean(diffs >= observed - tol)), splits, exact


def sign_flip_test(d: Sequence[float], seed: int = 0) -> tuple[float, int, bool]:
    """One-sided p that the mean of the paired differences `d` is as large as observed when the two values of each
    pair are exchangeable (which of them is which carries no information): the share of all 2^n patterns of signs
    (exact; sampled, seeded, beyond EXACT_MAX_FLIPS) whose mean difference is at least the observed one.
    Returns (p, patterns, exact)."""
    d = np.asarray(d, np.float64)
    n = len(d)
    observed = d.mean()
    tol = 1e-12 * max(1.0, abs(observed))
    if 2**n > EXACT_MAX_FLIPS:
        signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=(EXACT_MAX_SPLITS, n))
        return float(np.mean(signs @ d / n >= observed - tol)), EXACT_MAX_SPLITS, False
    hits, bits = 0, np.arange(n)
    for start in range(0, 2**n, 2**16):  # in chunks: 20 pairs are a million patterns
        codes = np.arange(start, min(start + 2**16, 2**n))
        signs = 1.0 - 2.0 * ((codes[:, None] >> bits) & 1)
        hits += int(np.sum(signs @ d / n >= observed - tol))
    return hits / 2**n, 2**n, True


def min_detectable_effect(sd_a: float, n_a: int, sd_b: float, n_b: int, alpha: float = ALPHA,
                          power: float = POWER) -> float:
    """The smallest true difference in means a one-sided Welch test at `alpha` detects with probability `power`,
    for groups of these sizes and spreads (normal approximation with Welch's degrees of freedom)."""
    if n_a < 2 or n_b < 2 or not (math.isfinite(sd_a) and math.isfinite(sd_b)):
        return float("nan")
    va, vb = sd_a**2 / n_a, sd_b**2 / n_b
    if va + vb == 0:
        return 0.0
    df = (va + vb) ** 2 / (va**2 / (n_a - 1) + vb**2 / (n_b - 1))
    return float((sps.t.ppf(1 - alpha, df) + sps.t.ppf(power, df)) * math.sqrt(va + vb))


def min_detectable_paired(sd_d: float, n: int, alpha: float = ALPHA, power: float = POWER) -> float:
    """The smallest true mean difference a one-sided paired t-test at `alpha` detects with probability `power`,
    for n pairs whose differences spread sd_d (normal approximation with n - 1 degrees of freedom)."""
    if n < 2 or not math.isfinite(sd_d):
        return float("nan")
    return float((sps.t.ppf(1 - alpha, n - 1) + sps.t.ppf(power, n - 1)) * sd_d / math.sqrt(n))


@dataclass(frozen=True)
class Comparison:
    claim: str  # completes "the data support the claim that ..."
    better: str  # the group the claim says is better (lower value)
    worse: str
    better_summary: Summary
    worse_summary: Summary
    test: str  # the tests that decided, in words
    statistic: float  # Welch's t (worse - better); paired: the paired t
    p_value: float  # deciding p in the claim's direction (the largest of the tests'), Holm-adjusted in a family
    p_value_opposite: float  # the same in the opposite direction
    effect_size: float  # Hedges' g of (worse - better): positive when the claim's direction holds
    alpha: float
    verdict: str  # "supported" | "contradicted" | "inconclusive" | "not testable"
    welch_p: float = float("nan")  # one-sided, claim direction, unadjusted (paired: the paired t-test's)
    welch_p_opposite: float = float("nan")
    permutation_p: float = float("nan")  # exact permutation test, claim direction, unadjusted (nan when n > 5;
    permutation_p_opposite: float = float("nan")  # paired: the exact sign-flip test's, always run)
    permutation_splits: int = 0  # the splits (paired: sign patterns) the exact test counted
    difference: float = float("nan")  # mean(worse) - mean(better): positive when the claim's direction holds
    difference_ci: tuple[float, float] = (float("nan"), float("nan"))  # 95 % Welch (paired: t) interval
    min_detectable: float = float("nan")  # smallest difference detectable at min_detectable_alpha with 80 % power
    min_detectable_alpha: float = ALPHA  # the level it is computed at: alpha, or alpha / m in a family of m
    decidable: bool = True  # whether the exact tests' floors let any difference be decided (in its family)
    unit: str = "runs"  # what the values are: "runs", "cell means"
    metric: str = "FID"
    failed: int = 0  # runs that failed and were left out
    total: int = 0  # runs there were
    adjusted_in: int = 1  # the size of the family p_value is adjusted in (1: unadjusted)
    digits: int = 1  # decimals the means and intervals are printed with
    paired: bool = False  # tested on the differences of pairs (compare_paired); `unit` then names the pairs
    difference_sd: float = float("nan")  # paired: the sd of the pairs' differences (for the detectable difference)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["better_summary"], d["worse_summary"] = asdict(self.better_summary), asdict(self.worse_summary)
        d["difference_ci"] = list(self.difference_ci)
        return d

    @staticmethod
    def from_dict(d: dict) -> "Comparison":
        """The inverse of `to_dict` (extra keys, such as a claim's source, are ignored)."""
        names = set(Comparison.__dataclass_fields__)
        kw = {k: v for k, v in d.items() if k in names}
        kw["better_summary"], kw["worse_summary"] = Summary(**d["better_summary"]), Summary(**d["worse_summary"])
        kw["difference_ci"] = tuple(kw.get("difference_ci", (float("nan"),) * 2))
        return Comparison(**{k: (float("nan") if v is None and k not in ("claim", "better", "worse", "test", "verdict", "unit", "metric") else v)
                             for k, v in kw.items()})

    @property
    def short(self) -> str:
        return SHORT[self.verdict]

    @property
    def deciding_p(self) -> float:
        """The p that decided the verdict: the opposite direction's for a contradicted claim."""
        return self.p_value_opposite if self.verdict == "contradicted" else self.p_value

    def numbers(self) -> str:
        """The means with intervals, the difference with its interval, the tests: one clause, no verdict."""
        b, w = self.better_summary, self.worse_summary
        if self.verdict == "not testable":
            return f"{self.metric} {self.better} n={b.n}, {self.worse} n={w.n}"
        lo, hi = self.difference_ci
        d = self.digits
        t, exact, splits = (("paired t", "exact sign-flip", "sign patterns") if self.paired else
                            ("Welch", "exact permutation", "splits"))
        sizes = f"n={b.n} {self.unit}" if self.paired else f"n={b.n} and {w.n} {self.unit}"
        parts = [f"{self.metric} {self.better} {b.ci(d)} vs {self.worse} {w.ci(d)} (mean [95 % CI], {sizes})",
                 f"{'mean paired difference' if self.paired else 'difference'} {fmt_ci(self.difference, lo, hi, d)}"]
        tests = f"{t} one-sided p = {fmt_p(self.welch_p)}"
        if self.permutation_splits:
            tests += f", {exact} p = {fmt_p(self.permutation_p)} ({self.permutation_splits} {splits})"
        if self.verdict == "contradicted":  # the evidence that decided it: the tests in the opposite direction
            tests += (f"; in the opposite direction, {t} p = {fmt_p(self.welch_p_opposite)}"
                      + (f", {exact} p = {fmt_p(self.permutation_p_opposite)}" if self.permutation_splits else ""))
        if self.adjusted_in > 1:
            tests += f"; Holm-adjusted over {self.adjusted_in} claims: p = {fmt_p(self.deciding_p)}" + (" (opposite direction)" if self.verdict == "contradicted" else "")
        parts.append(tests)
        parts.append(f"Hedges' g = {self.effect_size:.2f}")
        return "; ".join(parts)

    def sentence(self) -> str:
        """One or two plain sentences for the book: what the data say about the claim, with the numbers."""
        failed = f" {self.failed} of {self.total} runs failed and are left out." if self.failed else ""
        if self.verdict == "not testable":
            return (f"{WORDS[self.verdict]} that {self.claim}: a group has fewer than two valid units "
                    f"({self.numbers()}).{failed}")
        s = f"{WORDS[self.verdict]} that {self.claim} (α = {self.alpha}): {self.numbers()}."
        b, w = self.better_summary.n, self.worse_summary.n
        if self.verdict == "inconclusive" and not self.decidable:
            s += ((f" With {b} {self.unit} no exact sign-flip test" if self.paired else
                   f" With {b} and {w} {self.unit} no exact permutation test")
                  + f" can reach p ≤ {self.alpha / self.adjusted_in:.3g}"
                  + (f", the level Holm's first step requires over {self.adjusted_in} claims" if self.adjusted_in > 1 else "")
                  + ": no difference, however large, could have been decided here; more units, not more precise ones, would decide it.")
        elif self.verdict == "inconclusive" and math.isfinite(self.min_detectable):
            level = (f"at α/{self.adjusted_in} = {self.min_detectable_alpha:.2g}, the level of Holm's first step"
                     if self.adjusted_in > 1 else f"at α = {self.min_detectable_alpha:g}")
            s += (f" With these {self.unit} the design could have detected a difference of about "
                  f"{self.min_detectable:.1f} {self.metric} or more (one-sided, 80 % power, {level}).")
        return s + failed


def min_permutation_p(n_a: int, n_b: int) -> float:
    return 1 / math.comb(n_a + n_b, n_a) if n_a and n_b else float("nan")


def _floor(c: Comparison) -> float:
    """The smallest deciding p a comparison's tests could give: the exact test's floor (the t-tests have none)."""
    if not c.permutation_splits:
        return 0.0
    return 0.5 ** c.better_summary.n if c.paired else min_permutation_p(c.better_summary.n, c.worse_summary.n)


def _decide(p: float, q: float, alpha: float) -> str:
    if math.isfinite(p) and p <= alpha:
        return "supported"
    if math.isfinite(q) and q <= alpha:
        return "contradicted"
    return "inconclusive"


def compare(claim: str, better: str, better_values: Sequence[float | None], worse: str,
            worse_values: Sequence[float | None], alpha: float = ALPHA, *, unit: str = "runs", metric: str = "FID",
            failed: int = 0, total: int | None = None, exact_up_to: int = 5, digits: int = 1) -> Comparison:
    """Test the claim that group `better` has a lower value than group `worse` (one-sided). None/NaN values
    (diverged runs) are left out; `failed`/`total` count the runs left out for failing, for the sentence."""
    a, b = _finite(better_values), _finite(worse_values)
    sa, sb = summarize(a), summarize(b)
    total = total if total is not None else len(a) + len(b) + failed
    if len(a) < 2 or len(b) < 2:
        return Comparison(claim, better, worse, sa, sb, "none", float("nan"), float("nan"), float("nan"), float("nan"),
                          alpha, "not testable", unit=unit, metric=metric, failed=failed, total=total, digits=digits)
    if a.std() > 0 or b.std() > 0:
        w = sps.ttest_ind(b, a, equal_var=False, alternative="greater")
        welch_p, stat = float(w.pvalue), float(w.statistic)
        welch_q = float(sps.ttest_ind(b, a, equal_var=False, alternative="less").pvalue)
    else:
        welch_p = welch_q = stat = float("nan")
    perm_p = perm_q = float("nan")
    splits = 0
    if min(len(a), len(b)) <= exact_up_to:
        perm_p, splits, _ = permutation_test(b, a)
        perm_q, _, _ = permutation_test(a, b)
    tests = "Welch's t-test" + (" and the exact permutation test" if splits else "")
    p = max(welch_p, perm_p) if splits else welch_p
    q = max(welch_q, perm_q) if splits else welch_q
    diff, lo, hi = welch_interval(b, a)
    mde = min_detectable_effect(sa.std, sa.n, sb.std, sb.n, alpha)
    floor = min_permutation_p(len(a), len(b)) if splits else 0.0
    return Comparison(claim, better, worse, sa, sb, tests, stat, p, q, hedges_g(b, a), alpha, _decide(p, q, alpha),
                      welch_p, welch_q, perm_p, perm_q, splits, diff, (lo, hi), mde, alpha, floor <= alpha, unit, metric,
                      failed, total, digits=digits)


def compare_paired(claim: str, better: str, better_values: Sequence[float | None], worse: str,
                   worse_values: Sequence[float | None], alpha: float = ALPHA, *, unit: str = "pairs",
                   metric: str = "FID", failed: int = 0, total: int | None = None, digits: int = 1) -> Comparison:
    """Test the claim that `better` has the lower value, on pairs: better_values[i] and worse_values[i] are one
    pair, two units that share everything but what the claim compares (`unit` names them for the sentence, e.g.
    "pairs of runs"). The decision needs the paired t-test and the exact sign-flip test of the mean difference; a
    pair with a None/NaN value is left out whole."""
    x, y = (np.array([np.nan if v is None else v for v in vals], np.float64) for vals in (better_values, worse_values))
    if len(x) != len(y):
        raise ValueError(f"paired comparison {claim!r}: {len(x)} values of {better!r} but {len(y)} of {worse!r}")
    keep = np.isfinite(x) & np.isfinite(y)
    a, b = x[keep], y[keep]
    sa, sb = summarize(a), summarize(b)
    total = total if total is not None else len(a) + len(b) + failed
    if len(a) < 2:
        return Comparison(claim, better, worse, sa, sb, "none", float("nan"), float("nan"), float("nan"), float("nan"),
                          alpha, "not testable", unit=unit, metric=metric, failed=failed, total=total, digits=digits,
                          paired=True)
    d = b - a  # positive where the claim's direction holds
    sd = float(d.std(ddof=1))
    if sd > 0:
        t = sps.ttest_rel(b, a, alternative="greater")
        t_p, stat = float(t.pvalue), float(t.statistic)
        t_q = float(sps.ttest_rel(b, a, alternative="less").pvalue)
        half = float(sps.t.ppf(0.975, len(d) - 1)) * sd / math.sqrt(len(d))
    else:
        t_p = t_q = stat = half = float("nan")
    flip_p, patterns, _ = sign_flip_test(d)
    flip_q, _, _ = sign_flip_test(-d)
    p, q, diff = max(t_p, flip_p), max(t_q, flip_q), float(d.mean())
    return Comparison(claim, better, worse, sa, sb, "the paired t-test and the exact sign-flip test", stat, p, q,
                      hedges_g(b, a), alpha, _decide(p, q, alpha), t_p, t_q, flip_p, flip_q, patterns, diff,
                      (diff - half, diff + half), min_detectable_paired(sd, len(d), alpha), alpha,
                      0.5 ** len(d) <= alpha, unit, metric, failed, total, digits=digits, paired=True, difference_sd=sd)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, for a family of comparisons (non-finite p-values count as 1)."""
    p = np.asarray([x if math.isfinite(x) else 1.0 for x in p_values], np.float64)
    order = np.argsort(p, kind="stable")
    m = len(p)
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adj[i] = running
    return adj.tolist()


def holm_family(comparisons: Sequence[Comparison]) -> list[Comparison]:
    """The comparisons as one family: each claim's deciding p-values (either direction) Holm-adjusted over the
    family, and its verdict decided again on them. Untestable claims stay so and take no share of the family.
    Each claim's detectable difference is computed again at α/m, and it is `decidable` if Holm could reject it had
    every claim of the family reached its exact test's floor."""
    testable = [i for i, c in enumerate(comparisons) if c.verdict != "not testable"]
    m = len(testable)
    adj_p = holm([comparisons[i].p_value for i in testable])
    adj_q = holm([comparisons[i].p_value_opposite for i in testable])
    best = holm([_floor(comparisons[i]) for i in testable])  # the family at its floors: the best Holm could do
    out = list(comparisons)
    for k, i in enumerate(testable):
        c = comparisons[i]
        level = c.alpha / m
        mde = (min_detectable_paired(c.difference_sd, c.better_summary.n, level) if c.paired else
               min_detectable_effect(c.better_summary.std, c.better_summary.n, c.worse_summary.std, c.worse_summary.n, level))
        out[i] = replace(c, p_value=adj_p[k], p_value_opposite=adj_q[k], adjusted_in=m,
                         verdict=_decide(adj_p[k], adj_q[k], c.alpha), min_detectable=mde, min_detectable_alpha=level,
                         decidable=best[k] <= c.alpha)
    return out


@dataclass(frozen=True)
class Coefficient:
    name: str
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float  # two-sided, t-test of the coefficient being 0


def ols(X: np.ndarray, y: Sequence[float], names: Sequence[str], level: float = 0.95) -> list[Coefficient]:
    """Ordinary least squares of y on the columns of X (include a column of ones for an intercept), with t
    intervals and two-sided p-values: a linear model of cell means, for instance FID ~ G depth + D depth + gap."""
    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64)
    n, k = X.shape
    if n <= k:
        return [Coefficient(nm, float("nan"), float("nan"), float("nan"), float("nan")) for nm in names]
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    s2 = float(resid @ resid) / (n - k)
    se = np.sqrt(np.diag(s2 * np.linalg.inv(X.T @ X)))
    tq = float(sps.t.ppf(0.5 + level / 2, n - k))
    out = []
    for nm, b, e in zip(names, beta, se):
        p = float(2 * sps.t.sf(abs(b / e), n - k)) if e > 0 else float("nan")
        out.append(Coefficient(nm, float(b), float(b - tq * e), float(b + tq * e), p))
    return out
