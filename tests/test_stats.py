"""Statistics behind the book's verdicts, against hand computations, scipy itself and simulation."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from scipy import stats as sps

from gan.stats import (Comparison, Summary, compare, compare_paired, fmt_ci, fmt_mean_std, fmt_p, hedges_g, holm, holm_family,
                       min_detectable_effect, min_detectable_paired, min_permutation_p, permutation_test, sign_flip_test,
                       summarize, welch_interval)


def test_summarize_with_a_t_interval():
    s = summarize([1.0, 2.0, 3.0, None, float("nan"), float("inf")])  # diverged runs (None/NaN) are left out
    assert (s.mean, s.std, s.n) == (2.0, 1.0, 3)
    half = sps.t.ppf(0.975, 2) * 1.0 / math.sqrt(3)
    assert (s.ci_low, s.ci_high) == pytest.approx((2 - half, 2 + half))
    lo, hi = sps.t.interval(0.95, 2, loc=2.0, scale=sps.sem([1.0, 2.0, 3.0]))
    assert (s.ci_low, s.ci_high) == pytest.approx((lo, hi))
    one = summarize([4.0])
    assert one.mean == 4.0 and math.isnan(one.std) and one.n == 1 and math.isnan(one.ci_low)
    assert summarize([]).n == 0
    assert str(s) == "2.0 ± 1.0 (n=3)" and s.ci() == "2.0 [-0.5, 4.5]"
    assert fmt_mean_std(float("nan"), 1.0) == "n/a" and fmt_mean_std(12.345, 0.5, digits=2) == "12.35 ± 0.50"
    assert fmt_ci(3.0, float("nan"), float("nan")) == "3.0"


def test_hedges_g_by_hand():
    # pooled sd of [1,2,3] and [4,5,6] is 1; d = -3; small-sample factor J = 1 - 3/(4*6 - 9) = 0.8
    assert hedges_g([1, 2, 3], [4, 5, 6]) == pytest.approx(-2.4, rel=1e-12)
    assert math.isnan(hedges_g([1.0], [2.0, 3.0])) and math.isnan(hedges_g([1.0, 1.0], [2.0, 2.0]))


def test_welch_interval_matches_scipy():
    a, b = [20.0, 21.0, 19.0, 22.0, 25.0], [10.0, 11.0, 12.0, 10.5]
    d, lo, hi = welch_interval(a, b)
    ref = sps.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert d == pytest.approx(np.mean(a) - np.mean(b)) and (lo, hi) == pytest.approx((ref.low, ref.high), rel=1e-10)


def test_permutation_test_is_exact():
    a, b = [3.0, 5.0, 4.0], [1.0, 2.0, 2.5]
    p, splits, exact = permutation_test(a, b)
    assert exact and splits == 20
    # by hand: the observed split is the most extreme of the 20 (the three largest values together)
    assert p == pytest.approx(1 / 20)
    ref = sps.permutation_test((a, b), lambda x, y: np.mean(x) - np.mean(y), permutation_type="independent",
                               alternative="greater", n_resamples=10**6)
    assert p == pytest.approx(ref.pvalue)
    # every split's difference counted, ties included
    x, y = [1.0, 2.0, 3.0, 4.0], [2.0, 3.0, 4.0]
    pooled = x + y
    diffs = [np.mean([pooled[i] for i in c]) - np.mean([pooled[i] for i in range(7) if i not in c])
             for c in itertools.combinations(range(7), 4)]
    obs = np.mean(x) - np.mean(y)
    assert permutation_test(x, y)[0] == pytest.approx(np.mean([d >= obs - 1e-12 for d in diffs]))
    assert min_permutation_p(3, 3) == 1 / 20 and min_permutation_p(5, 5) == 1 / 252


def test_min_detectable_effect_has_its_power():
    """At a true difference equal to the MDE, a one-sided Welch test at 0.05 rejects about 80 % of the time."""
    sd, n = 10.0, 8
    mde = min_detectable_effect(sd, n, sd, n)
    rng = np.random.default_rng(0)
    hits = [sps.ttest_ind(rng.normal(mde, sd, n), rng.normal(0, sd, n), equal_var=False, alternative="greater").pvalue < 0.05
            for _ in range(4000)]
    assert np.mean(hits) == pytest.approx(0.8, abs=0.03)
    assert math.isnan(min_detectable_effect(1.0, 1, 1.0, 3))


def test_compare_supported_needs_welch_and_the_exact_test():
    better, worse = [10.0, 11.0, 12.0, 10.5, 11.5], [20.0, 21.0, 19.0, 22.0, 20.5, None]
    c = compare("conv beats dense", "conv", better, "dense", worse)
    w = sps.ttest_ind([20.0, 21.0, 19.0, 22.0, 20.5], better, equal_var=False, alternative="greater")
    assert c.welch_p == pytest.approx(w.pvalue, rel=1e-12) and c.statistic == pytest.approx(w.statistic, rel=1e-12)
    assert c.permutation_splits == 252 and c.permutation_p == pytest.approx(1 / 252)
    assert c.p_value == max(c.welch_p, c.permutation_p) and c.verdict == "supported"
    assert c.effect_size == pytest.approx(hedges_g([20.0, 21.0, 19.0, 22.0, 20.5], better))
    assert c.worse_summary.n == 5 and c.difference == pytest.approx(9.5)
    s = c.sentence()
    assert "**support**" in s and "exact permutation p = 0.004 (252 splits)" in s and "difference 9.5 [" in s
    json.dumps(c.to_dict())


def test_three_seeds_cannot_decide_an_exact_test_and_the_sentence_says_so():
    c = compare("x beats y", "x", [10.0, 11.0, 12.0], "y", [20.0, 21.0, 22.0])
    assert c.welch_p < 0.001 and c.permutation_p == pytest.approx(0.05) and c.verdict == "supported"
    fam = holm_family([c, c])
    assert fam[0].verdict == "inconclusive" and fam[0].adjusted_in == 2
    assert "no exact permutation test can reach p ≤ 0.025" in fam[0].sentence()


def test_compare_contradicted_and_not_decided_with_its_power():
    c = compare("augmentation helps", "rotation", [20.0, 21.0, 19.0, 20.5, 21.5, 20.2],
                "none", [10.0, 11.0, 12.0, 10.4, 11.2, 10.9])
    assert c.verdict == "contradicted" and c.permutation_splits == 0  # 6 per group: Welch alone
    assert "**contradict**" in c.sentence() and c.effect_size < 0
    # the p that decided a contradiction is the opposite direction's (the claim's own is near 1)
    assert c.deciding_p == c.p_value_opposite <= 0.05 < c.p_value
    n = compare("x beats y", "x", [10.0, 14.0, 12.0, 11.0], "y", [11.0, 15.0, 13.0, 12.5])
    assert n.verdict == "inconclusive" and "**do not decide**" in n.sentence()
    assert math.isfinite(n.min_detectable) and "could have detected a difference of about" in n.sentence()
    assert n.deciding_p == n.p_value


def test_a_contradiction_prints_the_evidence_that_decided_it():
    c = compare("x beats y", "x", [20.0, 21.0, 19.0, 20.5, 21.5], "y", [10.0, 11.0, 12.0, 10.4, 11.2])
    assert c.verdict == "contradicted" and c.permutation_p_opposite == pytest.approx(1 / 252)
    assert (f"in the opposite direction, Welch p = {fmt_p(c.welch_p_opposite)}, exact permutation p = 0.004"
            in c.sentence())


def test_in_a_family_the_detectable_difference_is_at_holms_first_level():
    a, b = [10.0, 14.0, 12.0, 11.0, 13.0, 12.5], [11.0, 15.0, 13.0, 12.5, 14.0, 12.0]
    c = compare("x beats y", "x", a, "y", b)
    assert c.min_detectable_alpha == 0.05 and "(one-sided, 80 % power, at α = 0.05)" in c.sentence()
    fam = holm_family([c, c, c])
    sd_a, sd_b = float(np.std(a, ddof=1)), float(np.std(b, ddof=1))
    assert fam[0].min_detectable == pytest.approx(min_detectable_effect(sd_a, 6, sd_b, 6, 0.05 / 3))
    assert fam[0].min_detectable > c.min_detectable and fam[0].min_detectable_alpha == pytest.approx(0.05 / 3)
    assert "at α/3 = 0.017, the level of Holm's first step" in fam[0].sentence()


def test_a_claim_is_undecidable_only_if_holm_could_not_reject_it_at_the_floors():
    three = compare("x beats y", "x", [10.0, 13.0, 12.0], "y", [11.0, 12.5, 13.5])  # floor 1/20
    many = compare("u beats v", "u", list(range(10, 20)), "v", list(range(30, 40)))  # Welch alone: no floor
    assert three.decidable and three.verdict == "inconclusive"
    assert not holm_family([three, three])[0].decidable  # 2 x 0.05 > 0.05 at Holm's first step
    fam = holm_family([many, three])  # ranked second, the 3-vs-3 claim meets α itself
    assert fam[1].decidable and "could have detected" in fam[1].sentence()
    s = holm_family([three, three])[0].sentence()
    assert "no difference, however large, could have been decided here" in s and "could have detected" not in s


def test_a_group_without_two_valid_runs_is_not_testable():
    few = compare("x beats y", "x", [1.0, float("nan")], "y", [5.0, 6.0, 7.0], failed=1, total=5)
    assert few.verdict == "not testable" and math.isnan(few.p_value)
    assert "**not testable**" in few.sentence() and "1 of 5 runs failed and are left out" in few.sentence()
    assert holm_family([few])[0].verdict == "not testable"


def test_holm_by_hand_and_as_a_family():
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> raised to 0.06 (monotone)
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0]) and holm([]) == [] and holm([float("nan")]) == [1.0]
    strong = compare("a", "x", list(range(10, 20)), "y", list(range(30, 40)))
    weak = compare("b", "x", [10.0, 11.0, 12.5, 11.3, 10.8, 12.1], "y", [11.2, 12.6, 13.1, 11.9, 12.3, 12.9])
    assert weak.verdict == "supported" and 0.025 < weak.p_value < 0.05
    fam = holm_family([strong, weak])  # the weak one ranks second: compared with alpha itself
    assert [c.verdict for c in fam] == ["supported", "supported"] and fam[1].p_value == pytest.approx(weak.p_value)
    fam = holm_family([strong, weak, weak])  # two weak ones: 2 x p > 0.05
    assert [c.verdict for c in fam] == ["supported", "inconclusive", "inconclusive"]
    assert fam[1].p_value == pytest.approx(2 * weak.p_value) and fam[1].adjusted_in == 3


def test_sign_flip_test_is_exact():
    # by hand: of the 8 sign patterns of (1, 2, 3) only (+, +, +) reaches the observed mean 2; (-1, +2, +3) has 4/3
    assert sign_flip_test([1.0, 2.0, 3.0]) == (pytest.approx(1 / 8), 8, True)
    d = [0.5, -1.0, 2.0, 3.5, 1.5, -0.25, 2.5]
    ref = sps.permutation_test((d,), np.mean, permutation_type="samples", alternative="greater", n_resamples=np.inf)
    p, patterns, exact = sign_flip_test(d)
    assert exact and patterns == 2**7 and p == pytest.approx(ref.pvalue, rel=1e-12)
    # 20 pairs are still enumerated (a million patterns, in chunks); ties at the observed mean count
    d20 = np.r_[np.ones(19), -1.0]
    p20, patterns20, exact20 = sign_flip_test(d20)
    assert exact20 and patterns20 == 2**20 and p20 == pytest.approx((1 + 20) / 2**20)


def test_compare_paired_matches_scipys_paired_t_test():
    better, worse = [1.0, 2.2, 0.4, 3.1, 1.9, 0.7], [1.6, 2.9, 0.8, 3.3, 2.8, 1.1]
    c = compare_paired("x is lower", "x", better, "y", worse, unit="pairs of runs that share a seed")
    t = sps.ttest_rel(worse, better, alternative="greater")
    ci = sps.ttest_rel(worse, better).confidence_interval(0.95)
    assert c.paired and c.welch_p == pytest.approx(t.pvalue, rel=1e-12) and c.statistic == pytest.approx(t.statistic)
    assert c.difference_ci == pytest.approx((ci.low, ci.high), rel=1e-12)
    assert c.permutation_splits == 64 and c.permutation_p == pytest.approx(1 / 64)  # every difference is positive
    assert c.p_value == max(c.welch_p, c.permutation_p) and c.verdict == "supported"
    s = c.sentence()
    assert "n=6 pairs of runs that share a seed" in s and "mean paired difference 0.5 [" in s
    assert "paired t one-sided p = " in s and "exact sign-flip p = 0.016 (64 sign patterns)" in s
    # unpaired, the same values are far from decided: the pairs' shared part is what the pairing removes
    assert compare("x is lower", "x", better, "y", worse).verdict == "inconclusive"
    # a pair with a missing value is left out whole; unequal lengths are an error
    assert compare_paired("c", "x", [*better, None], "y", [*worse, 9.0]).better_summary.n == 6
    with pytest.raises(ValueError, match="7 values of 'x' but 6 of 'y'"):
        compare_paired("c", "x", [*better, 1.0], "y", worse)
    assert compare_paired("c", "x", [1.0], "y", [2.0]).verdict == "not testable"


def test_min_detectable_paired_has_its_power():
    sd, n = 2.0, 10
    mde = min_detectable_paired(sd, n)
    rng = np.random.default_rng(1)
    hits = [sps.ttest_1samp(rng.normal(mde, sd, n), 0.0, alternative="greater").pvalue < 0.05 for _ in range(4000)]
    assert np.mean(hits) == pytest.approx(0.8, abs=0.03)
    assert math.isnan(min_detectable_paired(1.0, 1))


def test_five_pairs_cannot_decide_a_family_of_two_and_ten_can():
    five = compare_paired("x beats y", "x", [1.0, 2.0, 3.0, 4.0, 5.0], "y", [2.0, 3.5, 3.2, 6.0, 5.9])
    assert five.permutation_p == pytest.approx(1 / 32) and five.decidable
    fam = holm_family([five, five])
    assert not fam[0].decidable and "no exact sign-flip test can reach p ≤ 0.025" in fam[0].sentence()
    ten = compare_paired("x beats y", "x", list(range(10)), "y", [v + 1 + 0.1 * (v % 3) for v in range(10)])
    fam = holm_family([ten, ten])
    assert fam[0].decidable and fam[0].verdict == "supported" and fam[0].adjusted_in == 2
    sd = float(np.std([1 + 0.1 * (v % 3) for v in range(10)], ddof=1))
    weak = compare_paired("x beats y", "x", [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
                          "y", [0.5, 0.4, 2.6, 2.9, 4.8, 4.7, 6.5, 7.2, 7.7, 9.3])
    fam = holm_family([weak, ten, ten])
    assert fam[0].verdict == "inconclusive"
    assert fam[0].min_detectable == pytest.approx(min_detectable_paired(weak.difference_sd, 10, 0.05 / 3))
    assert fam[1].min_detectable == pytest.approx(min_detectable_paired(sd, 10, 0.05 / 3))
    # a paired comparison goes through verdict.json and back
    assert Comparison.from_dict(json.loads(json.dumps(ten.to_dict()))) == ten


def test_fmt_p():
    assert fmt_p(0.0312) == "0.031" and fmt_p(0.00012) == "1.2e-04" and fmt_p(float("nan")) == "n/a"
    assert isinstance(summarize([1.0, 2.0]), Summary)


def test_ols_matches_scipy_linregress():
    from gan.stats import ols

    x = np.array([3.0, 4, 5, 6, 3, 4, 5, 6])
    y = np.array([10.0, 12, 15, 15, 9, 13, 14, 17])
    coef = ols(np.column_stack([np.ones_like(x), x]), y, ["intercept", "x"])
    ref = sps.linregress(x, y)
    assert coef[1].estimate == pytest.approx(ref.slope) and coef[1].p_value == pytest.approx(ref.pvalue)
    half = sps.t.ppf(0.975, len(x) - 2) * ref.stderr
    assert (coef[1].ci_low, coef[1].ci_high) == pytest.approx((ref.slope - half, ref.slope + half))
