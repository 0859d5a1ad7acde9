"""Statistics behind the book's verdicts, against hand computations and scipy itself."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats as sps

from gan.stats import Summary, compare, fmt_mean_std, fmt_p, hedges_g, holm, summarize


def test_summarize():
    s = summarize([1.0, 2.0, 3.0, None, float("nan"), float("inf")])  # diverged runs (None/NaN) are left out
    assert (s.mean, s.std, s.n) == (2.0, 1.0, 3)
    one = summarize([4.0])
    assert one.mean == 4.0 and math.isnan(one.std) and one.n == 1
    none = summarize([])
    assert none.n == 0 and math.isnan(none.mean)
    assert str(s) == "2.0 ± 1.0 (n=3)"
    assert str(one) == "4.0 (n=1)"
    assert fmt_mean_std(float("nan"), 1.0) == "n/a"
    assert fmt_mean_std(12.345, 0.5, digits=2) == "12.35 ± 0.50"


def test_hedges_g_by_hand():
    # pooled sd of [1,2,3] and [4,5,6] is 1; d = -3; small-sample factor J = 1 - 3/(4*6 - 9) = 0.8
    assert hedges_g([1, 2, 3], [4, 5, 6]) == pytest.approx(-2.4, rel=1e-12)
    a, b = [10.0, 12.0, 11.0, 15.0], [20.0, 18.0, 25.0]
    sp = math.sqrt((3 * np.var(a, ddof=1) + 2 * np.var(b, ddof=1)) / 5)
    assert hedges_g(b, a) == pytest.approx((np.mean(b) - np.mean(a)) / sp * (1 - 3 / (4 * 7 - 9)), rel=1e-12)
    assert math.isnan(hedges_g([1.0], [2.0, 3.0]))
    assert math.isnan(hedges_g([1.0, 1.0], [2.0, 2.0]))


def _welch(worse, better, alternative):
    return sps.ttest_ind(worse, better, equal_var=False, alternative=alternative)


def test_compare_supported():
    better, worse = [10.0, 11.0, 12.0, 10.5], [20.0, 21.0, 19.0, 22.0, None]
    c = compare("conv beats dense", "conv", better, "dense", worse)
    ref = _welch([20.0, 21.0, 19.0, 22.0], better, "greater")
    assert c.verdict == "supported"
    assert c.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    assert c.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert c.p_value < 0.05
    assert c.effect_size > 0 and c.effect_size == pytest.approx(hedges_g([20.0, 21.0, 19.0, 22.0], better))
    assert c.worse_summary.n == 4  # the diverged run is left out
    assert "**support**" in c.sentence() and "conv beats dense" in c.sentence()
    json.dumps(c.to_dict())


def test_compare_contradicted():
    better, worse = [20.0, 21.0, 19.0], [10.0, 11.0, 12.0]  # the claimed-better group is worse
    c = compare("augmentation helps", "rotation", better, "none", worse)
    assert c.verdict == "contradicted"
    assert c.p_value == pytest.approx(_welch(worse, better, "greater").pvalue, rel=1e-12)
    assert c.p_value_opposite == pytest.approx(_welch(worse, better, "less").pvalue, rel=1e-12)
    assert c.p_value > 0.95 and c.p_value_opposite < 0.05
    assert c.effect_size < 0
    assert "**contradict**" in c.sentence()


def test_compare_inconclusive():
    better, worse = [10.0, 14.0, 12.0], [11.0, 15.0, 13.0]
    c = compare("x beats y", "x", better, "y", worse)
    ref = _welch(worse, better, "greater")
    assert c.verdict == "inconclusive"
    assert c.p_value == pytest.approx(ref.pvalue, rel=1e-12) and 0.05 < c.p_value < 0.95
    assert "**do not decide**" in c.sentence()
    # too few finite runs: no test, and no verdict but "inconclusive"
    few = compare("x beats y", "x", [1.0, float("nan")], "y", [5.0, 6.0, 7.0])
    assert few.verdict == "inconclusive" and math.isnan(few.p_value)
    assert "p = n/a" in few.sentence()


def test_alpha_is_respected():
    better, worse = [10.0, 11.0, 12.0], [12.0, 13.0, 14.0]
    p = _welch(worse, better, "greater").pvalue
    assert 0.01 < p < 0.05
    assert compare("c", "a", better, "b", worse, alpha=0.05).verdict == "supported"
    assert compare("c", "a", better, "b", worse, alpha=0.01).verdict == "inconclusive"


def test_holm_by_hand():
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> raised to 0.06 (monotone)
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert holm([0.02]) == pytest.approx([0.02])
    assert holm([]) == []


def test_fmt_p():
    assert fmt_p(0.0312) == "0.031" and fmt_p(0.00012) == "1.2e-04" and fmt_p(float("nan")) == "n/a"
    assert isinstance(summarize([1.0, 2.0]), Summary)
