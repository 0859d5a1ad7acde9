"""Recompute the book's verdicts on trained runs from the committed results, without the project's library.

An examiner's check: it reads only the runs' table of each experiment (`runs.csv`, one row per training run, with
its group and whether it entered the tests), each run's FID from the run's own `metrics.json`, the saturating-loss
chapter's runs of the 1-D GAN (the `runs` of its `metrics.json`), and the verdicts the book prints
(`verdict.json`), and recomputes every claim the book tests on them with pandas and SciPy alone: each chapter's
claims as its page decides them, and the thesis's headline claims as the one family the book stands by.
Usage, from the repository root:

    python book/appendix/recompute_verdicts.py results/mnist5k

What it recomputes, per claim (the claim is that group `better` has the lower FID):
- the groups: the runs with `enters` (or, without that column, `ok`) true; for the depth grid, the cell means of
  those runs, each (G depth, D depth) cell one unit;
- Welch's one-sided t-test and the exact permutation test of the mean difference (every split of the pooled
  values), in the claim's direction and the opposite one; the deciding p of a direction is the larger of the two;
- the 95 % Welch interval of the difference (worse minus better);
- for the saturating-loss chapter, whose design pairs its runs (the two runs of one optimiser and seed differ only
  in the generator loss), the paired t-test, the exact sign-flip test (every pattern of swapping a pair's two
  values) and the t interval of the mean difference, on G's gradient at the first step (one unit per seed, its
  values the means over the optimisers) and on the final JSD in millinats (each optimiser's pairs);
- Holm's adjustment where the book adjusts (a study's claims; the headline family), each direction adjusted on its
  own, and the verdict: supported if the claim's direction is at or under alpha, contradicted if the opposite one
  is, else not decided ("inconclusive" in verdict.json). A claim with a group of fewer than two units is not
  testable and takes no share of its family.
It prints one line per claim and exits with status 1 if any number or verdict differs from the book's.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from scipy import stats

# The experiments whose claims are tested on FID, and the runs.csv column that names each run's group (a study's
# model is named by its label up to a colon or bracket: "DCGAN 3: + spectral norm ..." is "DCGAN 3").
GROUP_COLUMN = {"dense_conv": "arch", "augmentation": "augmentation", "accuracy_vs_quality": "setting",
                "cifar_study": "label", "face_preprocessing": "variant"}
# The depth grid's claims compare groups of cells: which (G depth, D depth) cells each group holds.
CELL_GROUPS = {
    "balanced": lambda g, d: g == d,
    "G deeper": lambda g, d: g > d,
    "D deeper": lambda g, d: g < d,
    "unbalanced": lambda g, d: g != d,
}
# the saturating-loss chapter: the book's name of each generator loss, and of each claim's metric, in the runs' table
LOSSES = {"log(1 − D)": "minimax", "−log D": "non_saturating"}
SATURATING_METRICS = {"G's gradient norm": ("g_grad_norm_first_step", 1.0), "final JSD (mnat)": ("jsd_end", 1000.0)}
WORDS = {"inconclusive": "not decided"}  # verdict.json's word -> the book's
EXACT_UP_TO = 5  # the exact permutation test is run beside Welch's where a group has at most this many units
TOLERANCE = 1e-9  # relative: the book's numbers are computed in float64 too, by other code


@functools.cache
def entering_runs(exp_dir: Path) -> pd.DataFrame:
    """An experiment's runs that entered its tests (`enters`, or without that column `ok`), with their FIDs."""
    runs = pd.read_csv(exp_dir / "runs.csv")
    runs = runs[runs["enters"] if "enters" in runs else runs["ok"]].copy()
    # runs.csv rounds to 6 significant digits: the FID itself, in full, is in each run's own metrics.json
    runs["fid"] = [json.loads((exp_dir / "runs" / r / "metrics.json").read_text())["fid"] for r in runs["run_id"]]
    return runs[np.isfinite(runs["fid"].astype(float))]  # a diverged run has no FID


def units(exp_dir: Path, experiment: str, group: str) -> np.ndarray:
    """The FIDs a claim's group is tested on: its runs' FIDs, or for the depth grid its cells' mean FIDs."""
    runs = entering_runs(exp_dir)
    if experiment == "depth_grid":
        cells = runs.groupby(["g_depth", "d_depth"])["fid"].mean()
        return np.array([fid for (g, d), fid in cells.items() if CELL_GROUPS[group](g, d)])
    names = runs[GROUP_COLUMN[experiment]].astype(str).str.split(":").str[0].str.split(" (", regex=False).str[0]
    return runs.loc[names == group, "fid"].to_numpy(float)


@functools.cache
def saturating_runs(exp_dir: Path) -> pd.DataFrame:
    """The saturating-loss chapter's runs of the 1-D GAN in full precision (`metrics.json`; training.csv rounds)."""
    return pd.DataFrame(json.loads((exp_dir / "metrics.json").read_text())["runs"])


def saturating_pairs(exp_dir: Path, claim: dict) -> tuple[np.ndarray, np.ndarray]:
    """A saturating-loss claim's pairs, aligned: (the better loss's values, the worse one's). A final-JSD claim
    names its optimiser ("with SGD ...") and has one pair per seed; the gradient claim spans both optimisers, one
    pair per seed of its means over them (a seed's runs share G's start under both)."""
    runs = saturating_runs(exp_dir)
    column, scale = SATURATING_METRICS[claim["metric"]]
    if column == "jsd_end":
        runs = runs[[f"with {o} " in claim["claim"].lower() for o in runs["optimizer"]]]
    wide = runs.pivot_table(index="seed", columns="loss", values=column, aggfunc="mean")
    return (scale * wide[LOSSES[claim["better"]]].to_numpy(float), scale * wide[LOSSES[claim["worse"]]].to_numpy(float))


def exact_permutation_p(worse: np.ndarray, better: np.ndarray) -> float:
    """One-sided exact p that mean(worse) - mean(better) is this large when the labels carry no information."""
    res = stats.permutation_test((worse, better), lambda x, y: np.mean(x) - np.mean(y), alternative="greater",
                                 permutation_type="independent", n_resamples=np.inf)
    return float(res.pvalue)


def one_claim(better: np.ndarray, worse: np.ndarray) -> dict[str, float]:
    """The tests of one claim, unadjusted, in both directions."""
    welch = stats.ttest_ind(worse, better, equal_var=False, alternative="greater")
    welch_opposite = stats.ttest_ind(worse, better, equal_var=False, alternative="less").pvalue
    ci = stats.ttest_ind(worse, better, equal_var=False).confidence_interval(0.95)
    out = {"welch_p": welch.pvalue, "welch_p_opposite": welch_opposite, "p": welch.pvalue, "q": welch_opposite,
           "difference": worse.mean() - better.mean(), "ci_low": ci.low, "ci_high": ci.high}
    if min(len(better), len(worse)) <= EXACT_UP_TO:
        out["permutation_p"] = exact_permutation_p(worse, better)
        out["permutation_p_opposite"] = exact_permutation_p(better, worse)
        out["p"] = max(out["p"], out["permutation_p"])
        out["q"] = max(out["q"], out["permutation_p_opposite"])
    return {k: float(v) for k, v in out.items()}


def paired_claim(better: np.ndarray, worse: np.ndarray) -> dict[str, float]:
    """The tests of one paired claim, unadjusted, in both directions: the paired t-test and the exact sign-flip
    test of the mean difference, each direction's deciding p the larger of the two."""
    d = worse - better
    flip = [stats.permutation_test((x,), np.mean, permutation_type="samples", alternative="greater",
                                   n_resamples=np.inf, batch=2**16).pvalue for x in (d, -d)]
    t, t_opposite = (stats.ttest_rel(worse, better, alternative=a).pvalue for a in ("greater", "less"))
    ci = stats.ttest_rel(worse, better).confidence_interval(0.95)
    out = {"welch_p": t, "welch_p_opposite": t_opposite, "permutation_p": flip[0], "permutation_p_opposite": flip[1],
           "p": max(t, flip[0]), "q": max(t_opposite, flip[1]), "difference": d.mean(), "ci_low": ci.low,
           "ci_high": ci.high}
    return {k: float(v) for k, v in out.items()}


def holm(p: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values."""
    order, m, running, adjusted = np.argsort(p, kind="stable"), len(p), 0.0, [0.0] * len(p)
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted


def groups(results: Path, experiment: str, claim: dict) -> tuple[np.ndarray, np.ndarray, Callable]:
    """A claim's two groups of units, (better, worse), and the tests that compare them: the saturating chapter's
    pairs with the paired tests, every other chapter's FIDs with the tests of independent groups."""
    if experiment == "saturating":
        return (*saturating_pairs(results / experiment, claim), paired_claim)
    return (*(units(results / experiment, experiment, claim[k]) for k in ("better", "worse")), one_claim)


def check_family(title: str, claims: list[dict], experiments: list[str], results: Path) -> int:
    """Test a family's claims again (Holm over its testable ones, if the book adjusted them together) and print
    one line per claim; returns how many differ from the book."""
    print(f"\n{title}")
    tested, differ = [], 0
    for claim, experiment in zip(claims, experiments):
        better, worse, tests = groups(results, experiment, claim)
        if min(len(better), len(worse)) < 2:
            wrong = claim["verdict"] != "not testable"
            differ += wrong
            print(f"{'DIFFERS in verdict' if wrong else 'agrees':>12}  {experiment:<20} {claim['better']} < "
                  f"{claim['worse']}: not testable ({len(better)} and {len(worse)} runs entered)")
        else:
            tested.append((claim, experiment, tests(better, worse)))
    # the testable claims: Holm over them where the book adjusted them together, else each alone
    m = len(tested)
    holm_p, holm_q = holm([r["p"] for _, _, r in tested]), holm([r["q"] for _, _, r in tested])
    for (claim, experiment, r), p, q in zip(tested, holm_p, holm_q):
        if claim["adjusted_in"] == 1:  # decided alone
            p, q = r["p"], r["q"]
        elif claim["adjusted_in"] != m:
            print(f"{'DIFFERS':>12}  {experiment:<20} the book adjusted over {claim['adjusted_in']} claims, not {m}")
            differ += 1
        verdict = "supported" if p <= claim["alpha"] else "contradicted" if q <= claim["alpha"] else "inconclusive"
        mine = {"p_value": p, "p_value_opposite": q, "welch_p": r["welch_p"], "difference": r["difference"],
                "difference_ci": [r["ci_low"], r["ci_high"]], "verdict": verdict}
        if "permutation_p" in r:
            mine["permutation_p"] = r["permutation_p"]
        wrong = [k for k, v in mine.items() if not agrees(v, claim[k])]
        differ += bool(wrong)
        adjusted = f"Holm over {claim['adjusted_in']}: " if claim["adjusted_in"] > 1 else ""
        print(f"{'DIFFERS in ' + ', '.join(wrong) if wrong else 'agrees':>12}  {experiment:<20} "
              f"{claim['better']} < {claim['worse']}: {WORDS.get(verdict, verdict)} ({adjusted}p = {p:.3g}, "
              f"opposite {q:.3g}; difference {r['difference']:.1f} [{r['ci_low']:.1f}, {r['ci_high']:.1f}])")
    return differ


def main(results: Path) -> int:
    differ = 0
    verdicts = {e: json.loads((results / e / "verdict.json").read_text())
                for e in [*GROUP_COLUMN, "depth_grid", "saturating"] if (results / e / "verdict.json").is_file()}
    for experiment, claims in verdicts.items():  # each chapter's claims, as its page decides them
        claims = [c for c in claims if c.get("metric") == "FID" or experiment == "saturating"]
        for family in sorted({c["metric"] for c in claims}):  # the saturating chapter: one family per metric
            members = [c for c in claims if c["metric"] == family]
            title = f"{experiment}: {len(members)} claim{'s' * (len(members) != 1)} on {family}"
            differ += check_family(title, members, [experiment] * len(members), results)
    # the book's headline claims, Holm-adjusted as one family on the synthesis page: find the chapter that tested each
    family = [c for c in json.loads((results / "synthesis" / "verdict.json").read_text())
              if c.get("headline") and c.get("metric") == "FID"]
    sources = [next(e for e, claims in verdicts.items() if any(
        (c["claim"], c["better"], c["worse"]) == (claim["claim"], claim["better"], claim["worse"]) for c in claims))
        for claim in family]
    differ += check_family(f"the thesis's headline claims, one family: {len(family)} claims", family, sources, results)
    print(f"\n{differ} claims differ from the book" if differ else "\nevery verdict and number agrees with the book")
    return 1 if differ else 0


def agrees(mine, theirs) -> bool:
    if isinstance(mine, str):
        return mine == theirs
    if theirs is None:  # the book ran no such test (JSON writes NaN as null)
        return not np.isfinite(mine)
    if isinstance(mine, list):
        return all(agrees(a, b) for a, b in zip(mine, theirs))
    return bool(np.isclose(mine, theirs, rtol=TOLERANCE, atol=1e-12))


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "results/mnist5k")))
