"""Collecting an experiment's runs: one table row per run, summaries per group, published anchors beside them, and
the files an experiment writes for the book. Notebooks call these; the runs' own folders stay untouched. The
figures that compare groups (FID per seed, sample montages) are in `gan.plots`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

from gan.config import TrainConfig
from gan.provenance import atomic_write_csv, atomic_write_json, atomic_write_text, manifest
from gan.report import write_report
from gan.stats import fmt_ci, fmt_mean_std, summarize


def load_runs(exp_dir: str | Path, run_ids: Sequence[str]) -> pd.DataFrame:
    """One row per run: the run's cell coordinates (g_depth, seed, ...), its metrics (with its health: `status`
    ok or failed, `failure` the reasons, and `ok`), and its provenance."""
    rows = []
    for rid in run_ids:
        d = Path(exp_dir) / "runs" / rid
        m = json.loads((d / "metrics.json").read_text())
        man = json.loads((d / "manifest.json").read_text())
        rows.append({"run_id": rid, **man.get("cell", {}), **m, "git_commit": man.get("git_commit"),
                     "device": man.get("device"), "wall_time_s": man.get("wall_time_s"),
                     "dataset": (man.get("datasets") or [None])[0]})
    df = pd.DataFrame(rows)
    one_feature_network(df, exp_dir)
    df["fid"] = pd.to_numeric(df["fid"], errors="coerce")  # diverged runs have fid null -> NaN
    if "status" not in df:  # runs made before run health was assessed: only divergence is known
        df["status"] = ["failed" if d else "ok" for d in df["diverged"]]
        df["failure"] = ["diverged" if d else None for d in df["diverged"]]
    df["ok"] = df["status"] == "ok"
    return df


def one_feature_network(df: pd.DataFrame, where: str | Path = "") -> None:
    """Refuse runs scored in different feature networks. Each run records the FID of the same seeded uniform-noise
    images against its training set (`noise_fid`), so runs of one data set scored by one network report it to the
    last digit. LeNet-FID is trained on first use and cached per machine, and its weights are not bit-identical
    across processors: a partial rerun on another machine would mix two FID scales without this check."""
    if not {"noise_fid", "fid_features", "dataset"} <= set(df.columns):
        return
    for (features, data), g in df.dropna(subset=["noise_fid"]).groupby(["fid_features", "dataset"]):
        ref = g["noise_fid"].iloc[0]
        odd = g[(g["noise_fid"] - ref).abs() > 1e-6 * abs(ref)]
        if len(odd):
            raise ValueError(
                f"{where}: runs on {data} were scored in different {features} networks (the FID of uniform noise is "
                f"{ref:.2f} in {_name(g.iloc[0])} but {odd['noise_fid'].iloc[0]:.2f} in {', '.join(_name(r) for _, r in odd.iterrows())}). "
                f"The network is cached per machine and differs between processors: rerun these experiments' runs on "
                f"one machine (delete their folders under runs/ and run Snakemake again).")


def _name(row: pd.Series) -> str:
    return f"{row['experiment']}/{row['run_id']}" if isinstance(row.get("experiment"), str) else str(row["run_id"])


def ok_values(df: pd.DataFrame, column: str = "fid") -> list[float]:
    """The values of the runs that trained: failed runs are results to name, never data points."""
    return df.loc[df["ok"], column].tolist()


def runs_label(g: pd.DataFrame) -> str:
    """'3 of 3' or '2 of 3 (1 failed)': how many runs of a group enter its numbers."""
    ok, n = int(g["ok"].sum()), len(g)
    return f"{ok} of {n}" + (f" ({n - ok} failed)" if ok < n else "")


def failed_runs(df: pd.DataFrame, columns: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Rows for a table of the runs that failed, with why (gan.health)."""
    return [{"run": r["run_id"], **{c: r[c] for c in columns}, "why it failed": r["failure"]}
            for _, r in df[~df["ok"]].iterrows()]


def group_table(df: pd.DataFrame, by: str | list[str], order: Sequence | None = None, *,
                digits: bool | None = None) -> list[dict[str, Any]]:
    """Rows for a markdown table, one per group, over the runs that trained: FID mean [95 % CI], the digit metrics
    where a classifier read the samples (confident share, classes covered), how many runs entered, time per
    step, parameter counts."""
    rows = []
    groups = df.groupby(by, sort=False)
    keys = list(order) if order is not None else list(groups.groups)
    digits = ("confident_share" in df and df["confident_share"].notna().any()) if digits is None else digits
    for key in keys:
        g = groups.get_group(key if isinstance(key, tuple) or isinstance(by, str) else (key,))
        ok = g[g["ok"]]
        fid = summarize(ok["fid"].tolist())
        t = summarize(g["time_per_step_ms"].tolist())
        label = dict(zip([by] if isinstance(by, str) else by, key if isinstance(key, tuple) else (key,)))
        row = {**label, "FID mean [95 % CI]": fmt_ci(fid.mean, fid.ci_low, fid.ci_high), "runs that trained": runs_label(g)}
        if digits:
            conf = summarize(ok["confident_share"].tolist())
            cov = ok["classes_covered"].dropna()
            row["confident share"] = fmt_ci(conf.mean, conf.ci_low, conf.ci_high, 2)
            row["classes covered"] = (f"{int(cov.min())}" if cov.min() == cov.max() else f"{int(cov.min())}–{int(cov.max())}") if len(cov) else "n/a"
        row.update({"ms / step": fmt_mean_std(t.mean, t.std, digits=1),
                    "G params": f"{int(g['params_g'].iloc[0]):,}", "D params": f"{int(g['params_d'].iloc[0]):,}"})
        rows.append(row)
    return rows


# The quality an examiner recognises as digits, for the best configuration of each MNIST experiment (issue 12):
# LeNet-FID below the calibration's real digits with pixel noise σ = 0.1, most samples confidently a digit, every
# class present.
TARGETS = {"fid_below": "noise_0.1", "confident_share": 0.8, "classes_covered": 10}


def target_rows(label: str, g: pd.DataFrame, calibration: dict[str, Any] | None) -> tuple[list[dict[str, Any]], bool]:
    """The MNIST quality targets against the runs that trained in group `g` (the experiment's best), as table rows,
    and whether all are met. Without the feature_net calibration the FID target cannot be read."""
    ok = g[g["ok"]]
    fid, conf = summarize(ok["fid"].tolist()), summarize(ok["confident_share"].tolist())
    cov = ok["classes_covered"].dropna()
    limit = (calibration or {}).get("calibration_ids", {}).get(TARGETS["fid_below"])
    rows = [{"target (best configuration: " + label + ")": "LeNet-FID below real digits with pixel noise σ = 0.1",
             "required": f"< {limit:.1f}" if limit else "n/a (no calibration)", "reached": fmt_ci(fid.mean, fid.ci_low, fid.ci_high),
             "met": ("yes" if fid.mean < limit else "no") if limit and fid.n else "n/a"},
            {"target (best configuration: " + label + ")": "share of samples classified with confidence ≥ 0.9",
             "required": f"≥ {TARGETS['confident_share']}", "reached": fmt_ci(conf.mean, conf.ci_low, conf.ci_high, 2),
             "met": ("yes" if conf.mean >= TARGETS["confident_share"] else "no") if conf.n else "n/a"},
            {"target (best configuration: " + label + ")": "classes with ≥ 5 % of the samples",
             "required": f"{TARGETS['classes_covered']} of 10", "reached": f"{int(cov.min())} (fewest over the runs)" if len(cov) else "n/a",
             "met": ("yes" if len(cov) and cov.min() >= TARGETS["classes_covered"] else "no") if len(cov) else "n/a"}]
    return rows, all(r["met"] == "yes" for r in rows)


def best_group(df: pd.DataFrame, by: str | Sequence[str], groups: Sequence[Any], skip: Sequence[Any] = ()) -> Any | None:
    """The group (a value of column `by`, or a tuple of values of columns `by`) with the lowest mean FID over its
    runs that trained; None if none trained. `skip`: groups not meant to train (an experiment's intended failure)."""
    means = df[df["ok"]].groupby(by)["fid"].mean()
    trained = [g for g in groups if g not in skip and g in means.index]
    return min(trained, key=means.__getitem__) if trained else None


def best_targets(df: pd.DataFrame, by: str | Sequence[str], groups: Sequence[Any], calibration: dict[str, Any] | None,
                 skip: Sequence[Any] = (), label: Callable[[Any], str] = str) -> tuple[Any | None, list[dict[str, Any]], bool]:
    """An MNIST experiment's best group (`best_group`), its target table (`target_rows`, labelled by `label`) and
    whether every target is met. With no group that trained, the table says "none" and reads n/a."""
    best = best_group(df, by, groups, skip)
    rows, met = target_rows("none" if best is None else label(best),
                            df.iloc[:0] if best is None else df.groupby(by).get_group(best), calibration)
    return best, rows, met


# why a scale's runs are as long as they are: the reason a missed target gives
SCALE_BUDGETS = {"demo": "a notebook's demo of seconds on a CPU, not a result",
                 "smoke": "a pipeline check of a few steps, not a result",
                 "mnist5k": "the budget that lets the whole committed scale be rebuilt in about three hours on 2 CPU cores (README)",
                 "full": "the thesis's own setting"}


def target_sentence(met: bool, scale: str, train: dict[str, Any]) -> str:
    """What the target table means: met, or missed by the margins it shows, and why the runs were that long."""
    if met:
        return "The best configuration meets every target."
    why = SCALE_BUDGETS.get(scale, f"the `{scale}` scale's budget")
    t = TrainConfig.from_dict(train)
    return (f"The best configuration misses the targets marked *no*, by the margins the table shows. Its runs trained "
            f"{t.steps:,} generator steps of batch {t.batch_size}, {why}; `pilots/README.md` records "
            f"what longer runs and other settings gave.")


def claim_entry(c: Any, *, source: str, quote: str, headline: bool, data: str) -> dict[str, Any]:
    """A tested claim as verdict.json keeps it for the book's synthesis: the comparison (gan.stats.Comparison),
    whose claim it is (`source`), in its words (`quote`), whether it is one of the thesis's headline claims (they
    are corrected together, Holm over the book), and what data it was tested on."""
    return {**c.to_dict(), "source": source, "quote": quote, "headline": headline, "data": data}


def corrected_verdicts_md(claims: Sequence[tuple[str, Any]], family_size: int, alpha: float) -> str:
    """A chapter's headline claims as the book decides them: (quote, the Holm-adjusted gan.stats.Comparison)
    pairs, written by the synthesis for the chapter's page to include under its own, per-claim verdicts."""
    lines = "\n".join(f"- *\"{q}\"* — {c.sentence()}" for q, c in claims)
    return (f"Tested together with the thesis's other headline claims ({family_size} in all, p-values Holm-adjusted, "
            f"α = {alpha}; see {{doc}}`/synthesis`):\n\n{lines}\n")


def provenance_of_runs(df: pd.DataFrame) -> dict[str, Any]:
    """What made the runs: for the aggregate's manifest (and the book's provenance box)."""
    return {"run_commits": sorted(set(df["git_commit"].dropna())), "run_devices": sorted(set(df["device"].dropna())),
            "runs_wall_time_s": float(df["wall_time_s"].fillna(0).sum()), "runs": int(len(df)),
            "datasets": sorted(set(df["dataset"].dropna())), "fid_features": sorted(set(df["fid_features"].dropna()))}


def anchor_rows(anchors: dict[str, dict], keys: Sequence[str], our_features: Sequence[str]) -> list[dict[str, Any]]:
    """Published numbers for the FID table, labelled, with whether they are on our feature network's scale."""
    ours = ", ".join(our_features)
    comparable = all(f.startswith("Inception") for f in our_features)
    rows = []
    for k in keys:
        a = anchors[k]
        v = f"{a['value']}" + (f" ± {a['std']}" if a.get("std") is not None else "")
        rows.append({"published anchor": a["label"], "FID": v,
                     "comparable with ours": "yes (same feature network)" if comparable else f"no: ours is {ours}"})
    return rows


def write_experiment(out_dir: str | Path, *, experiment: str, scale: str, params: dict[str, Any], body: str,
                     df: pd.DataFrame | None = None, verdicts: Sequence[Any] = (), verdict_md: str | None = None,
                     wall_time_s: float | None = None, **extra: Any) -> dict[str, Any]:
    """Write an experiment's outputs for the book: manifest.json, verdict.json (the claims tested, if any), runs.csv,
    report.md (the body, downloads and provenance) and, if given, verdict.md (the verdict in a sentence or two, for
    the discussion). Returns the manifest."""
    out = Path(out_dir)
    prov = provenance_of_runs(df) if df is not None and len(df) else {}
    man = manifest(experiment=experiment, scale=scale, config=params, wall_time_s=wall_time_s,
                   seeds=params.get("seeds"), **prov, **extra)
    atomic_write_json(out / "manifest.json", man)
    atomic_write_json(out / "verdict.json", [v.to_dict() if hasattr(v, "to_dict") else v for v in verdicts])
    if df is not None and len(df):  # plain columns only (class_shares, a list, stays in each run's metrics.json)
        cols = [c for c in df.columns if c not in ("git_commit", "device")
                and not df[c].map(lambda v: isinstance(v, (list, dict))).any()]
        atomic_write_csv(out / "runs.csv", df[cols].to_dict("records"), cols)
    write_report(out, body, man, f"{experiment}.ipynb", runs=prov.get("runs"))
    if verdict_md is not None:
        atomic_write_text(out / "verdict.md", verdict_md.strip() + "\n")
    return man
