"""Collecting an experiment's runs: one table row per run, summaries per group, and the figures that compare
groups (FID per seed, sample montages). Aggregate notebooks call these; the runs' own folders stay untouched."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from PIL import Image

from gan.stats import fmt_mean_std, summarize


def load_runs(exp_dir: str | Path, run_ids: Sequence[str]) -> pd.DataFrame:
    """One row per run: the run's cell coordinates (g_depth, seed, ...), its metrics, and its provenance."""
    rows = []
    for rid in run_ids:
        d = Path(exp_dir) / "runs" / rid
        m = json.loads((d / "metrics.json").read_text())
        man = json.loads((d / "manifest.json").read_text())
        rows.append({"run_id": rid, **man.get("cell", {}), **m, "git_commit": man.get("git_commit"),
                     "device": man.get("device"), "wall_time_s": man.get("wall_time_s"),
                     "dataset": (man.get("datasets") or [None])[0]})
    df = pd.DataFrame(rows)
    df["fid"] = pd.to_numeric(df["fid"], errors="coerce")  # diverged runs have fid null -> NaN
    return df


def group_table(df: pd.DataFrame, by: str | list[str], order: Sequence | None = None) -> list[dict[str, Any]]:
    """Rows for a markdown table: FID mean ± std (n), time per step, diverged runs, parameter counts."""
    rows = []
    groups = df.groupby(by, sort=False)
    keys = list(order) if order is not None else list(groups.groups)
    for key in keys:
        g = groups.get_group(key if isinstance(key, tuple) or isinstance(by, str) else (key,))
        fid = summarize(g["fid"].tolist())
        t = summarize(g["time_per_step_ms"].tolist())
        label = dict(zip([by] if isinstance(by, str) else by, key if isinstance(key, tuple) else (key,)))
        rows.append({**label, "FID (mean ± std)": fmt_mean_std(fid.mean, fid.std, digits=1), "seeds": fid.n,
                     "diverged": int(g["diverged"].sum()), "ms / step": fmt_mean_std(t.mean, t.std, digits=1),
                     "G params": f"{int(g['params_g'].iloc[0]):,}", "D params": f"{int(g['params_d'].iloc[0]):,}"})
    return rows


def fid_strip(df: pd.DataFrame, by: str, order: Sequence, title: str, anchor: tuple[str, float] | None = None):
    """FID of every run as a dot, per group, with the group mean ± std as a bar: the spread is visible."""
    fig, ax = plt.subplots(figsize=(1.6 * len(order) + 2, 3.4))
    for i, key in enumerate(order):
        v = df.loc[df[by] == key, "fid"].dropna().to_numpy()
        if len(v):
            ax.errorbar(i, v.mean(), yerr=v.std(ddof=1) if len(v) > 1 else 0, fmt="_", ms=30, capsize=8, color="k", zorder=3)
            ax.scatter(np.full(len(v), i) + np.linspace(-0.12, 0.12, len(v)), v, s=30, zorder=4)
    if anchor is not None:
        ax.axhline(anchor[1], ls="--", color="grey")
        ax.text(len(order) - 0.5, anchor[1], anchor[0], ha="right", va="bottom", fontsize=8, color="grey")
    ax.set_xticks(range(len(order)), [str(o) for o in order])
    ax.set_ylabel("FID (lower is better)")
    ax.set_title(title)
    ax.set_xlim(-0.6, len(order) - 0.4)
    fig.tight_layout()
    return fig


def sample_montage(exp_dir: str | Path, run_ids: Sequence[str], titles: Sequence[str], ncols: int | None = None,
                   crop: int | None = None):
    """The runs' sample grids side by side, each titled: compare generators at a glance."""
    n = len(run_ids)
    ncols = ncols or n
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.4 * ncols, 2.6 * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, rid, t in zip(axes.flat, run_ids, titles):
        im = np.asarray(Image.open(Path(exp_dir) / "runs" / rid / "samples.png"))
        if crop:
            im = im[:crop, :crop]
        ax.imshow(im, cmap="gray" if im.ndim == 2 else None, interpolation="nearest")
        ax.set_title(t, fontsize=9)
    fig.tight_layout()
    return fig


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
    """Write an experiment's outputs for the book: report.md (body), provenance.md, manifest.json, verdict.json
    (the claims tested, if any) and, if given, verdict.md (the verdict in a sentence or two, for the
    discussion). Returns the manifest."""
    from gan.report import write_report
    from gan.runs import atomic_write_json, manifest

    out = Path(out_dir)
    prov = provenance_of_runs(df) if df is not None and len(df) else {}
    man = manifest(experiment=experiment, scale=scale, config=params, wall_time_s=wall_time_s,
                   seeds=params.get("seeds"), **prov, **extra)
    atomic_write_json(out / "manifest.json", man)
    atomic_write_json(out / "verdict.json", [v.to_dict() if hasattr(v, "to_dict") else v for v in verdicts])
    if df is not None and len(df):
        cols = [c for c in df.columns if c not in ("git_commit", "device")]
        from gan.runs import atomic_write_csv

        atomic_write_csv(out / "runs.csv", df[cols].to_dict("records"), cols)
    write_report(out, body, man, f"{experiment}.ipynb", runs=prov.get("runs"))
    if verdict_md is not None:
        from gan.runs import atomic_write_text

        atomic_write_text(out / "verdict.md", verdict_md.strip() + "\n")
    return man
