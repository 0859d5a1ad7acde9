"""The pilots' logs, read for the book: `pilots/pilot.py` trains one GAN through `gan.train` and writes one JSON line
per evaluation to pilots/results/<name>.jsonl (LeNet-FID, the digit metrics, D's accuracy, CPU seconds, its
config). The methods page shows some of them: what a longer budget, or another setting, gives against the budget
the committed runs trained and the book's MNIST targets (`pilots/README.md` tells the whole story).

A group is a list of pilots that differ only in their seed and budget; its label is read from their config, so
it cannot disagree with what ran. A study's page lists the pilots that tried to make one of its failed models train,
each by what it changed from the committed runs (`tried`). No torch here (the registry checks that the pilots exist).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

from gan.config import ConfigError, TrainConfig

ROOT = Path(__file__).resolve().parents[1]  # the repository
RESULTS = ROOT / "pilots" / "results"
# what may differ between the pilots of one group: the seed, the budget, and how it was logged and run
_FREE = {"seed", "steps", "checkpoint_every", "log_every", "threads", "device", "precision", "channels_last", "compile"}


def path(name: str, root: Path = RESULTS) -> Path:
    return root / f"{name}.jsonl"


def repo_path(name: str) -> str:
    """A pilot's log as the workflow names it, relative to the repository's root (a Snakemake input)."""
    return path(name).relative_to(ROOT).as_posix()


def check_logged(names: Sequence[str], where: str) -> None:
    """A config's pilots must have logs: a ConfigError naming the key `where`, the missing log and what to do."""
    for name in names:
        if not path(name).is_file():
            raise ConfigError(f"{where}: {name!r} has no log at {path(name)}; run `pilots/pilot.py {name} ...` "
                              "(pilots/README.md) or drop it")


def load(name: str, root: Path = RESULTS) -> list[dict[str, Any]]:
    """One pilot's evaluations, in order of steps."""
    p = path(name, root)
    if not p.is_file():
        raise FileNotFoundError(f"pilot {name!r}: {p} does not exist; `pilots/pilot.py {name} ...` writes it "
                                "(pilots/README.md)")
    rows = [json.loads(x) for x in p.read_text().splitlines() if x.strip()]
    if not rows:
        raise ValueError(f"pilot {name!r}: {p} holds no evaluation")
    return sorted(rows, key=lambda r: r["step"])


# TrainConfig's defaults as a log writes them: a pilot logged before an option existed (r1_gamma, d_augment,
# lr_half_life) ran with the option's default, which is what the option was added to leave unchanged
_DEFAULTS = TrainConfig().to_dict()


def _shared(row: dict[str, Any]) -> dict[str, Any]:
    """What the pilots of one group must share: the config but for `_FREE` (an option its log lacks read as its
    default), and the data variant `pilot.py` trained on, if any (`--class-colours`, `--without-colour`: not part
    of the config)."""
    cfg = {**{k: v for k, v in _DEFAULTS.items() if k not in row["config"]}, **row["config"]}
    return {**{k: v for k, v in cfg.items() if k not in _FREE}, "data_variant": row.get("data_variant")}


def label(cfg: dict[str, Any]) -> str:
    """A pilot's setting in words, from its config: model and depths, width and other model options, batch, rates,
    and every training option away from its default (pilots/summarize.py writes the same words)."""
    kw = dict(cfg.get("model_kwargs", {}))
    depth = f" G{kw.pop('g_depth')}/D{kw.pop('d_depth')}" if "g_depth" in kw and "d_depth" in kw else ""
    kw = {**({"width": kw.pop("width")} if "width" in kw else {}), **kw}
    model = f"{cfg['model']}{depth}" + "".join(f", {k} {v}" for k, v in kw.items())  # width first
    lr = f"{cfg['lr_g']:g}" if cfg["lr_g"] == cfg["lr_d"] else f"{cfg['lr_g']:g} (G) / {cfg['lr_d']:g} (D)"
    extra = [f"β₁ {cfg['betas'][0]:g}"] if cfg.get("betas", [0.5])[0] != 0.5 else []
    extra += [f"Adam ε {cfg['adam_eps']:g}"] if cfg.get("adam_eps", 1e-8) != 1e-8 else []
    extra += [f"{cfg['d_steps']} D steps per G step"] if cfg.get("d_steps", 1) > 1 else []
    extra += [f"R1 γ = {cfg['r1_gamma']:g}"] if cfg.get("r1_gamma") else []
    extra += [f"DiffAugment {cfg['d_augment']}"] if cfg.get("d_augment", "none") != "none" else []
    extra += [f"learning rates halve every {cfg['lr_half_life']:,} steps"] if cfg.get("lr_half_life") else []
    extra += [f"G's moving average {cfg['ema']:g}"] if cfg.get("ema") else []
    extra += [f"label smoothing {cfg['label_smoothing']:g}"] if cfg.get("label_smoothing") else []
    extra += [f"{cfg['loss'].replace('_', '-')} loss"] if cfg.get("loss", "non_saturating") != "non_saturating" else []
    return f"{model}, batch {cfg['batch_size']}, lr {lr}" + "".join(f", {e}" for e in extra)


def setting(row: dict[str, Any]) -> str:
    """A pilot's setting in words from one of its evaluations: the data (with the size and channels it was resized to,
    and the pilot-only variant it was recoloured to), then `label`."""
    c, d = row["config"], row["config"]["data"]
    shape = f" at {d['image_size']}×{d['image_size']}" if d.get("image_size") and "image_size" not in c.get("model_kwargs", {}) else ""
    shape += f", {d['channels']} channels" if d.get("channels") else ""
    variant = f", {row['data_variant']}" if row.get("data_variant") else ""
    return f"{d['name']}{shape}{variant}: {label(c)}"


def load_groups(groups: Sequence[Sequence[str]], root: Path = RESULTS) -> list[dict[str, Any]]:
    """Each group as {key (A, B, ...), label, pilots: {name: rows}, seeds}; a group whose pilots differ in more than their seed and
    budget is refused (its label would be wrong for some of them)."""
    out = []
    for names in groups:
        pilots = {n: load(n, root) for n in names}
        cfgs = {n: rows[-1]["config"] for n, rows in pilots.items()}
        first, theirs = cfgs[names[0]], _shared(pilots[names[0]][-1])
        for n in names:
            mine = _shared(pilots[n][-1])
            if mine != theirs:
                diff = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
                raise ValueError(f"pilots {names[0]!r} and {n!r} are in one group but differ in {', '.join(diff)}; "
                                 "a group's pilots may differ only in seed and budget")
        out.append({"key": chr(ord("A") + len(out)), "label": label(first), "pilots": pilots,
                    "seeds": sorted({c["seed"] for c in cfgs.values()})})
    return out


def rows(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per pilot: its last evaluation, its lowest LeNet-FID, and what it cost."""
    out = []
    for g in groups:
        for name, ev in g["pilots"].items():
            last = ev[-1]
            best = min((r for r in ev if r.get("fid") is not None), key=lambda r: r["fid"], default=None)
            out.append({"key": g["key"], "setting": g["label"], "pilot": name, "seed": last["config"]["seed"], "steps": last["step"],
                        "fid": last.get("fid"), "best_fid": best["fid"] if best else None,
                        "best_step": best["step"] if best else None, "confident": last.get("confident"),
                        "covered": last.get("covered"), "acc_fake": last["acc_fake"], "cpu_min": last["cpu_s"] / 60})
    return out


def _first(groups: list[dict[str, Any]]) -> dict[str, Any]:
    return next(iter(groups[0]["pilots"].values()))[-1]["config"]


def scored_alike(feature_net_manifest: dict[str, Any] | None, groups: list[dict[str, Any]]) -> bool:
    """Whether a scale's feature network (its feature_net manifest) is the kind that scored the pilots, LeNet-FID
    on the pilots' data set, so that its calibration (the FID target) applies to their numbers."""
    m = feature_net_manifest or {}
    return m.get("config", {}).get("dataset") == _first(groups)["data"]["name"] and "LeNet" in str(m.get("fid_features"))


def budgets(runs: dict[str, list[dict[str, Any]]], groups: list[dict[str, Any]]) -> dict[str, int]:
    """experiment -> the steps its committed runs of the pilots' model on the pilots' data trained, for the
    experiments whose such runs all trained one budget (`runs`: experiment -> its runs' train configs)."""
    model, data = _first(groups)["model"], _first(groups)["data"]["name"]
    out = {}
    for e, cs in runs.items():
        same = [c for c in cs if c["data"]["name"] == data and c["model"] == model]
        if same and len({c["steps"] for c in same}) == 1:
            out[e] = same[0]["steps"]
    return out


def findings(groups: list[dict[str, Any]], *, fid_target: float | None, confident_target: float,
             budgets: dict[str, int]) -> tuple[list[str], list[str]]:
    """Markdown: one bullet per group (its lowest LeNet-FID, how many of its pilots got below the FID target, its
    confident share at the last evaluation), then sentences on the confident-share target and on the committed
    budgets, each worded from what the pilots did."""
    prow = rows(groups)
    bullets = []
    for g in groups:
        mine = [r for r in prow if r["key"] == g["key"] and r["best_fid"] is not None]
        n = len(g["pilots"])
        line = f"- **{g['key']}: {g['label']}** ({n} pilot{'s' if n > 1 else ''}, seed{'s' if len(g['seeds']) > 1 else ''} {', '.join(map(str, g['seeds']))})"
        if mine:
            best = min(mine, key=lambda r: r["best_fid"])
            line += f": lowest LeNet-FID {best['best_fid']:.1f} (seed {best['seed']}, {best['best_step']:,} steps)"
            if fid_target is not None:
                line += f"; {sum(r['best_fid'] < fid_target for r in mine)} of {n} below the target of {fid_target:.1f} at some evaluation"
        conf = [r["confident"] for r in prow if r["key"] == g["key"] and r["confident"] is not None]
        if conf:
            lo, hi = f"{min(conf):.0%}", f"{max(conf):.0%}"
            line += f"; at the last evaluation {lo}" + (f"–{hi}" if hi != lo else "") + " of samples read confidently"
        bullets.append(line + ".")
    said = []
    every = [(r, g) for g in groups for ev in g["pilots"].values() for r in ev if r.get("confident") is not None]
    if every:
        top, tg = max(every, key=lambda t: t[0]["confident"])
        reach = {r["name"] for r, _ in every if r["confident"] >= confident_target}
        said.append((f"No pilot reads {confident_target:.0%} of its samples confidently at any evaluation"
                     if not reach else f"{len(reach)} of {sum(len(g['pilots']) for g in groups)} pilots read "
                     f"{confident_target:.0%} of their samples confidently at some evaluation")
                    + f"; the highest share is {top['confident']:.0%} ({tg['key']}, seed {top['config']['seed']}, {top['step']:,} steps).")
    if budgets:
        upto = max(budgets.values())
        early = [r["fid"] for g in groups for ev in g["pilots"].values() for r in ev if r["step"] <= upto and r.get("fid") is not None]
        said.append(f"The committed runs of this model train {', '.join(f'{s:,} steps ({e.replace(chr(95), chr(32))})' for e, s in budgets.items())}"
                    + (f"; up to {upto:,} steps the lowest LeNet-FID any of these pilots reached is {min(early):.1f}." if early
                       else f"; none of these pilots was scored at {upto:,} steps or before."))
    return bullets, said


def machines(groups: list[dict[str, Any]]) -> str:
    """A sentence on where the shown pilots ran, read from their logs: the processors of those that record one
    (`pilot.py` has written it since 4 December) and how many predate that record."""
    devices = [ev[-1].get("device") for g in groups for ev in g["pilots"].values()]
    # "CPU: AMD EPYC (x86_64, AVX512), 2 cores, torch threads 1" -> "AMD EPYC (x86_64, AVX512)"
    seen = Counter((d.split("), ")[0] + ")" if "), " in d else d).removeprefix("CPU: ") for d in devices if d)
    n, k = len(devices), sum(seen.values())
    where = "; ".join(f"{c} on {p}" for p, c in seen.items())
    readme = "(`pilots/README.md` says where they ran)"
    if not k:
        return (f"The pilot shown does not record its processor {readme}." if n == 1
                else f"None of the {n} pilots shown records its processor {readme}.")
    if k == n:
        return f"The pilots shown record their processor: {where}."
    rest = "the other one predates" if n - k == 1 else f"the other {n - k} predate"
    return f"{k} of the {n} pilots shown record their processor ({where}); {rest} that record {readme}."


def table(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of `rows` as the page's table shows them (a setting by its key)."""
    f = lambda v, fmt: format(v, fmt) if v is not None else "–"  # noqa: E731
    return [{"setting": r["key"], "seed": r["seed"], "steps": f"{r['steps']:,}", "LeNet-FID (last)": f(r["fid"], ".1f"),
             "lowest (at step)": f"{r['best_fid']:.1f} ({r['best_step']:,})" if r["best_fid"] is not None else "–",
             "confident": f(r["confident"], ".2f"), "classes": r["covered"] if r["covered"] is not None else "–",
             "D on fakes": f(r["acc_fake"], ".2f"), "CPU min": f(r["cpu_min"], ".0f")} for r in rows(groups)]


def figure(groups: list[dict[str, Any]], *, fid_target: float | None, confident_target: float | None,
           ceiling: float | None, budgets: dict[str, int]) -> Any:
    """LeNet-FID (log scale) and the confident share against generator steps, one colour per group and one line
    per pilot; dashed: the targets; dotted: the confident share of real digits the classifier never saw; grey band:
    the budgets the committed runs of the same model trained (`budgets`: experiment -> steps)."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, NullLocator, ScalarFormatter

    fig, (a, b) = plt.subplots(2, 1, figsize=(7.2, 8.4), sharex=True)
    colours = plt.get_cmap("tab10")
    for i, g in enumerate(groups):
        for j, ev in enumerate(g["pilots"].values()):
            x = [r["step"] for r in ev]
            kw = dict(color=colours(i % 10), marker="o", ms=3, lw=1.3)
            a.plot(x, [r["fid"] if r.get("fid") is not None else float("nan") for r in ev], label=f"{g['key']}: {g['label']}" if j == 0 else None, **kw)
            if ev[0].get("confident") is not None:
                b.plot(x, [r["confident"] for r in ev], **kw)
    if budgets:
        lo, hi = min(budgets.values()), max(budgets.values())
        what = f"committed runs: {lo:,}" + (f"–{hi:,}" if hi > lo else "") + " steps"
        for ax in (a, b):
            ax.axvspan(lo - 150, hi + 150, color="0.6", alpha=0.25, lw=0, label=what if ax is a else None)
    a.set_yscale("log")
    a.yaxis.set_major_locator(FixedLocator([5, 10, 15, 20, 30, 50, 100, 200, 500, 1000]))
    a.yaxis.set_major_formatter(ScalarFormatter())
    a.yaxis.set_minor_locator(NullLocator())
    a.set_ylabel("LeNet-FID (lower is better)")
    if fid_target is not None:
        a.axhline(fid_target, color="k", ls="--", lw=1, label=f"target: LeNet-FID < {fid_target:.1f} (real digits, σ = 0.1 noise)")
    b.set_ylabel("share of samples read with confidence ≥ 0.9")
    if confident_target is not None:
        b.axhline(confident_target, color="k", ls="--", lw=1, label=f"target: ≥ {confident_target:g}")
    if ceiling is not None:
        b.axhline(ceiling, color="k", ls=":", lw=1, label=f"real digits it never trained on: {ceiling:.2f}")
    b.set_xlabel("generator steps")
    for ax in (a, b):
        ax.grid(alpha=0.3)
    b.legend(fontsize=8, loc="lower right")
    fig.legend(*a.get_legend_handles_labels(), fontsize=8, loc="lower center", ncol=2, frameon=False)
    fig.tight_layout(rect=(0, 0.01 + 0.024 * -(-(len(groups) + 2) // 2), 1, 1))  # room for the legend's rows
    return fig


# where a run's data come from, not what they are: not a change of setting
_HOW = {"data.root", "data.download"}


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        out.update(_flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
    return out


def _value(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v).lower()
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (list, tuple)):
        return "(" + ", ".join(map(_value, v)) + ")"
    return str(v)


def changes(row: dict[str, Any], base: dict[str, Any]) -> list[str]:
    """What a pilot's evaluation `row` trained with that `base` (a committed run's config) does not, as `key value`
    (nested keys dotted, `data.channels 3`, but the model's own options bare, `width 32`), then the data variant
    `pilot.py` trained on, if any. Its seed, budget and how it ran (`_FREE`) are not changes; an option its log
    predates counts as its default."""
    mine, theirs = (_flat({**{k: v for k, v in _DEFAULTS.items() if k not in c}, **c}) for c in (row["config"], base))
    out = [f"{k.removeprefix('model_kwargs.')} {_value(mine.get(k))}" for k in sorted(set(mine) | set(theirs))
           if k.split(".")[0] not in _FREE and k not in _HOW and mine.get(k) != theirs.get(k)]
    return out + ([row["data_variant"]] if row.get("data_variant") else [])


def tried(names: Sequence[str], base: dict[str, Any], *, colour_line: float,
          root: Path = RESULTS) -> tuple[list[dict[str, Any]], str]:
    """The pilots that tried to make a failed model train, against `base` (the config of one of its committed runs):
    one row per pilot, in the order named, at its last evaluation (what it changed, seed, steps, its samples'
    colour spread as a share of the data's, classes drawn, LeNet-FID), and a sentence that counts the
    pilots whose colours spread at least `colour_line` as widely as the data's and names them (after saying the
    names' shared stem, which the table leaves out). Pilots scored before `pilot.py` measured colour, or on grey
    data, show "–" and are not counted."""
    last = [load(n, root)[-1] for n in names]
    what = ["; ".join(changes(r, base)) for r in last]
    f = lambda v, fmt: format(v, fmt) if v is not None else "–"  # noqa: E731
    # the names' shared stem (up to an underscore) is said once, in the sentence, so that the table fits a page's column
    shared = os.path.commonprefix(list(names)) if len(names) > 1 else ""
    stem = shared[: shared.rfind("_") + 1]
    table = [{"pilot": f"`{n.removeprefix(stem)}`", "what it changed": w or "nothing", "seed": r["config"]["seed"],
              "steps": f"{r['step']:,}", "colour": f(r.get("colour_ratio"), ".2f"), "classes": r.get("covered", "–"),
              "LeNet-FID": f(r.get("fid"), ".0f")} for n, r, w in zip(names, last, what)]
    named = f"The table names the pilots without their shared stem `{stem}`. " if stem else ""
    scored = [(n, r, w) for n, r, w in zip(names, last, what) if r.get("colour_ratio") is not None]
    kept = [(n, r, w) for n, r, w in scored if r["colour_ratio"] >= colour_line]
    head = (f"{len(scored)} of these {len(names)} pilots measured their samples' colours" if len(scored) < len(names)
            else f"All {len(names)} pilots measured their samples' colours")
    if not scored:
        return table, named + f"None of these {len(names)} pilots measured their samples' colours."
    if not kept:
        return table, named + (f"{head}; in none of them did the colours spread {colour_line:.2f} as widely as the data's "
                       "(the run-health line) at the last evaluation.")
    which = "; ".join(f"`{n}` ({w or 'no change'}; {r['colour_ratio']:.2f} at {r['step']:,} steps, "
                      f"{r.get('covered', '?')} classes)" for n, r, w in kept)
    return table, named + (f"{head}; in {len(kept)} of them the colours spread at least {colour_line:.2f} as widely as the "
                   f"data's (the run-health line) at the last evaluation: {which}.")


def budget_only(names: Sequence[str], base: dict[str, Any], root: Path = RESULTS) -> list[str]:
    """Of `names`, the pilots that changed nothing from `base` (a committed run's config) but their seed and budget,
    and measured their samples' colours at two evaluations or more: the ones whose curves say what budget the model
    needs, in the order named."""
    out = []
    for n in names:
        ev = load(n, root)
        if not changes(ev[-1], base) and sum(r.get("colour_ratio") is not None for r in ev) >= 2:
            out.append(n)
    return out


def colour_figure(groups: dict[str, Sequence[str]], *, colour_line: float, budget: int, root: Path = RESULTS) -> Any:
    """The colour spread of each pilot's samples (as a share of the data's) against generator steps, one colour per
    group (label -> pilot names) and one line per pilot; dashed: the run-health line under which a run's colours
    count as collapsed; grey band: the `budget` the committed runs trained."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.2, 4.2))
    colours = plt.get_cmap("tab10")
    for i, (lab, names) in enumerate(groups.items()):
        for j, n in enumerate(names):
            ev = [r for r in load(n, root) if r.get("colour_ratio") is not None]
            ax.plot([r["step"] for r in ev], [r["colour_ratio"] for r in ev], color=colours(i % 10), marker="o", ms=3,
                    lw=1.3, label=f"{lab}: {len(names)} pilot{'s' if len(names) != 1 else ''}" if j == 0 else None)
    ax.axvspan(budget - 300, budget + 300, color="0.6", alpha=0.35, lw=0, label=f"committed runs: {budget:,} steps")
    ax.axhline(colour_line, color="k", ls="--", lw=1, label=f"run-health line: {colour_line:.2f} of the data's spread")
    ax.set_xlabel("generator steps")
    ax.set_ylabel("samples' colour spread / the data's")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)  # below: no curve hidden
    fig.tight_layout()
    return fig
