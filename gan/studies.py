"""The rebuilt studies of the model-selection chapter: what their notebooks compute and draw beyond the shared library.

The chapter rebuilds four talks by other authors (seeds/*.txt: a CIFAR-10 study, a seminar, a lecture, a project on
anime faces) as independent studies, and compares their models in one table. Their notebooks (analysis/cifar_study,
seminar, lecture_gan, face_preprocessing, model_selection) call these functions:

- settings in words, read from each run's manifest, never typed: `run_configs`, `setting`, `settings_sentence`;
- run health in words (`gan.health`): `health_sentences`, `failure_rows`; a failure that a study itself reported
  is labelled as that study's observation (`CIFAR_OBSERVED`);
- a study's conclusions tested on the runs that trained, Holm-adjusted as one family: `test_claims`, `claim_rows`;
- the CIFAR study's checks: `conditional_inputs`, `label_agreement`, `fid_sensitivity` (why its FID of 2.3 is not
  comparable with published ones) and `FidSensitivity.sentences`;
- the seminar's and the lecture's: `lecture_keras_counts`, `param_check_rows`, `loss_grid`;
- the face study's: `claim_for_data`, `content_position`, `pipeline_figure`, `image_sets_figure`, `folder_fids`;
- the chapter's table: `load_sources`, `model_entries`, `block_rows`, `blocks_figure`;
- figures for the book's 670-px column: `fit_width`, `upscale_png` (one 28- or 32-pixel sample >= 56 screen pixels).
"""

from __future__ import annotations

import io
import json
import math
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from PIL import Image

from gan import stats
from gan.aggregate import ok_values, one_feature_network, runs_label
from gan.plots import image_grid, read_image_grid  # also selects the headless backend
from gan.provenance import atomic_write_bytes

import matplotlib.pyplot as plt  # noqa: E402  (after gan.plots)

GRID_PER_CLASS = 8  # gan.run's sample grid of a conditional model: row k holds 8 samples asked for class k
PIXELS = {"unit": "[0, 1]", "symmetric": "[−1, 1]"}
LOSSES = {"non_saturating": "non-saturating", "saturating": "saturating (minimax)", "wgan_gp": "Wasserstein (WGAN-GP)"}

# What the CIFAR study itself reported as a failure of one of its models, in its words: where our runs of that model
# fail too, the report labels the failure as the study's observation rather than as a fault of the rebuild.
CIFAR_OBSERVED = {"dcgan1": "Unstable training + Mode Collapse"}

# The failures the seminar's and the lecture's own slides name, in their words: set beside a run that failed that way.
SEMINAR_FAILURES = {
    "discriminator won": ("the discriminator won", "Diminished gradient: the discriminator gets too successful that "
                          "the gradients vanish and the generator learns nothing"),
    "collapse": ("the generator collapsed", "Mode collapse: the generator produces limited varieties of samples"),
}
LECTURE_FAILURES = {
    "collapse": ("the generator collapsed", "A phenomenon where the generator starts to produce very similar or "
                 "identical samples for different input vectors"),
    "diverged": ("training diverged", "GANs are notorious for being difficult to train; they may not converge or may "
                 "become unstable"),
}


# --- settings, from the runs ---------------------------------------------------------------------------------------------


def run_configs(exp_dir: str | Path, run_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each run's full train config, from its manifest (what the run was actually trained with)."""
    out = {}
    for rid in run_ids:
        m = Path(exp_dir) / "runs" / rid / "manifest.json"
        out[rid] = json.loads(m.read_text()).get("config", {}) if m.exists() else {}
    return out


def _get(cfg: Any, key: str) -> Any:
    for k in key.split("."):
        if isinstance(cfg, (list, tuple)):
            cfg = cfg[int(k)] if int(k) < len(cfg) else None
        elif isinstance(cfg, dict):
            cfg = cfg.get(k)
        else:
            return None
        if cfg is None:
            return None
    return cfg


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, int):
        return f"{v:,}" if v >= 10_000 else str(v)
    if isinstance(v, dict):
        return ", ".join(f"{k} {_fmt(x)}" for k, x in v.items()) or "defaults"
    return str(v)


def setting(configs: Mapping[str, dict[str, Any]], key: str) -> str:
    """One setting over the runs, as text: its value where every run shares it, else its values ("32 or 64").
    `key` may be dotted ("data.pixel_range", "betas.0")."""
    vals: list[Any] = []
    for c in configs.values():
        v = _get(c, key)
        if v is not None and v not in vals:
            vals.append(v)
    return " or ".join(_fmt(v) for v in vals) if vals else "n/a"


def settings_sentence(configs: Mapping[str, dict[str, Any]], images: int | None) -> str:
    """How the runs were trained, in one clause: steps, batch, epochs, optimiser, loss, pixel range, z."""
    s = lambda k: setting(configs, k)  # noqa: E731
    steps, batch = s("steps"), s("batch_size")
    epochs = ""
    if images and steps.replace(",", "").isdigit() and batch.replace(",", "").isdigit():
        e = int(steps.replace(",", "")) * int(batch.replace(",", "")) / images
        epochs = f" ({e:.1f} epochs of the {images:,} training images)" if e >= 0.1 else f" ({e:.2g} of an epoch of the {images:,} training images)"
    lr = s("lr_g") if s("lr_g") == s("lr_d") else f"G {s('lr_g')}, D {s('lr_d')}"
    d_steps = s("d_steps")
    loss = " or ".join(LOSSES.get(x, x) for x in s("loss").split(" or "))
    pixels = " or ".join(PIXELS.get(x, x) for x in s("data.pixel_range").split(" or "))
    return (f"{steps} generator steps of batch {batch}{epochs}"
            + (f", {d_steps} discriminator steps per generator step" if d_steps not in ("1", "n/a") else "")
            + f", Adam (learning rate {lr}, β₁ = {s('betas.0')}, β₂ = {s('betas.1')}), the {loss} loss, "
            f"pixels in {pixels}, z of {s('z_dim')} dimensions")


def settings_by_model(configs: Mapping[str, dict[str, Any]], model_of: Mapping[str, str], images: int | None) -> list[str]:
    """`settings_sentence` per group of models trained alike ("DCGAN 2, DCGAN 3: ..."), in the runs' order."""
    groups: dict[str, list[str]] = {}
    for rid, c in configs.items():
        models_ = groups.setdefault(settings_sentence({rid: c}, images), [])
        if model_of[rid] not in models_:
            models_.append(model_of[rid])
    return [f"{', '.join(m)}: {s}" for s, m in groups.items()]


def seeds_text(seeds: Sequence[int]) -> str:
    seeds = sorted({int(x) for x in seeds})
    return f"{len(seeds)} seed{'s' if len(seeds) != 1 else ''} ({', '.join(map(str, seeds))})"


def fid_setup(df: pd.DataFrame) -> str:
    """How the runs' FIDs were computed: the feature network, the sample count and the reference (one clause)."""
    feats = ", ".join(sorted(df["fid_features"].dropna().unique()))
    ns = ", ".join(f"{int(x):,}" for x in sorted(df["fid_samples"].dropna().unique()))
    refs = ", ".join(f"{int(x):,}" for x in sorted(df["fid_reference_images"].dropna().unique()))
    return (f"FID in **{feats}** space from {ns} generated images against {refs} real images of "
            f"{', '.join(sorted(df['fid_reference'].dropna().unique()))}")


def devices(df: pd.DataFrame) -> str:
    return "; ".join(sorted(df["device"].dropna().unique())) or "the device in the provenance"


# --- run health in words ----------------------------------------------------------------------------------------------


def _pct_range(values: Sequence[float]) -> str:
    v = [100 * x for x in values if x is not None and math.isfinite(x)]
    if not v:
        return "n/a"
    lo, hi = min(v), max(v)
    return f"{lo:.0f} %" if round(lo) == round(hi) else f"{lo:.0f}–{hi:.0f} %"


# gan.health's reasons, by the words that start each (the most specific first), and how a sentence says it
FAILURE_KINDS = {"diverged": "training diverged (a non-finite loss)", "discriminator won": "the discriminator won",
                 "blank": "the samples were blank",
                 "collapse (colour": "the generator collapsed to one colour scheme (the data's come in every colour)",
                 "collapse": "the generator collapsed (near-alike samples, or too few classes)",
                 "noise": "the samples scored over half the FID of uniform noise"}
KIND_NAMES = {"collapse (colour": "collapse of colour"}  # a kind in a parenthesis; the others are named by their key


def failure_kind(reason: str) -> str | None:
    """The kind (a key of FAILURE_KINDS) of one of gan.health's reasons."""
    return next((k for k in FAILURE_KINDS if reason.strip().startswith(k)), None)


def _in_runs(m: int, n: int) -> str:
    return "In both runs" if m == n == 2 else f"In all {n} runs" if m == n else f"In {m} of {n} runs"


def health_sentences(df: pd.DataFrame, *, quotes: Mapping[str, tuple[str, str]] | None = None,
                     source: str = "the source") -> str:
    """What happened to the runs, from their health (gan.health): how many failed and how, and the discriminator's
    accuracy on generated images over the last steps of the runs that trained. `quotes`: a failure kind (a key of
    FAILURE_KINDS) -> (a phrase for it, the source's words for that failure); a failure that occurred is set beside
    the source's words. Nothing is said that the runs' own numbers do not show."""
    n, bad, good = len(df), df[~df["ok"]], df[df["ok"]]
    tail = ""
    judged = good["tail_acc_fake"].dropna() if "tail_acc_fake" in df else []
    if len(judged):  # a Wasserstein critic has no accuracy (gan.health): its runs are not in the range
        tail = (f" Over the last 20 % of training steps the discriminator recognised "
                f"{_pct_range(judged.tolist())} of the generated images"
                + (" in the runs that trained" if len(bad) else "")
                + (" (a Wasserstein critic's runs have no accuracy to read)" if len(judged) < len(good) else "") + ".")
    if "health_fid" in df and df["health_fid"].notna().any():  # FID reported against another reference than health's
        # one range per training set: runs judged against the same images share their noise FID (to the digits shown;
        # runs on other processors differ in the last digits)
        judged = df.dropna(subset=["health_fid", "noise_fid"])
        there = "; ".join((lambda lo, hi: f"{lo}–{hi}" if lo != hi else lo)(f"{g.min():.0f}", f"{g.max():.0f}")
                          + f" where uniform noise scores {nf}"
                          for nf, g in judged.groupby(judged["noise_fid"].map("{:.0f}".format), sort=False)["health_fid"])
        tail += (f" Health judges each run against its own training images (FID {there}), not against the reference "
                 "of the FIDs below.")
    if not len(bad):
        return f"All {n} runs trained: the run-health checks found no failure.{tail}"
    s = (f"**{'Every run failed' if len(bad) == n else f'{len(bad)} of {n} runs failed'}** (run health; "
         f"{'they are' if len(bad) > 1 else 'it is'} left out of every mean and test).")
    reasons = bad["failure"].fillna("")
    for kind, words in FAILURE_KINDS.items():
        m = int(reasons.map(lambda f: any(failure_kind(r) == kind for r in f.split(";"))).sum())
        if m:
            phrase, quote = (quotes or {}).get(kind, (words, None))
            s += f" {_in_runs(m, n)} {phrase}" + (f": the failure {source} describes as “{quote}”." if quote else ".")
    return s + tail


def failure_kinds(failures: Sequence[str | None]) -> list[str]:
    """The kinds of failure (keys of FAILURE_KINDS) among gan.health's reasons (None or NaN: none), in
    FAILURE_KINDS's order."""
    found = {failure_kind(r) for f in failures if isinstance(f, str) for r in f.split(";")}
    return [k for k in FAILURE_KINDS if k in found]


def observed_sentences(df: pd.DataFrame, observed: Mapping[str, str], names: Mapping[str, str], *,
                       key: str = "model") -> str:
    """For each model whose failure the study itself reported: did our runs of it fail too, and how; and for every
    other model with failed runs, that the failure is the rebuild's."""
    out = []
    for model, quote in observed.items():
        g = df[df[key] == model]
        if not len(g):
            continue
        n, bad = len(g), g[~g["ok"]]
        name = names.get(model, model)
        if not len(bad):
            none = "our run of it did not fail" if n == 1 else f"none of our {n} runs of it failed"
            out.append(f"The study reported “{quote}” for {name}; {none}.")
            continue
        # the study's failure came at its own budget and data: ours is like it, not shown to be the same
        out.append(f"{_failed(g, name)}: the study reported a failure of this model too, “{quote}”, so this one "
                   "need not be the rebuild's; the runs are named, never averaged.")
    for model, g in df[~df[key].isin(list(observed))].groupby(key, sort=False):  # failures the study did not report
        if not g["ok"].all():
            out.append(f"{_failed(g, names.get(model, model))}: the study reported no such failure for it, so this one "
                       "is the rebuild's, at this budget and on this data (`pilots/README.md` records the budgets and "
                       "settings tried).")
    return " ".join(out)


def _failed(g: pd.DataFrame, name: str) -> str:
    """'Every run of X failed (collapse, noise)' or '1 of 3 runs of X failed (...)': one model's failed runs."""
    bad = g[~g["ok"]]
    how = ", ".join(KIND_NAMES.get(k, k) for k in failure_kinds(bad["failure"].tolist())) or "failed"
    return (f"Every run of {name} failed" if len(bad) == len(g) else f"{len(bad)} of {len(g)} runs of {name} failed") + f" ({how})"


def failure_rows(df: pd.DataFrame, columns: Sequence[str] = (), *, observed: Mapping[str, str] | None = None,
                 key: str = "model", names: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """A table of the runs that failed, with why; where the study itself reported that failure of that model
    (`observed`: model -> its words), a column says so, so that the failure reads as the study's observation."""
    rows = []
    for _, r in df[~df["ok"]].iterrows():
        row = {"run": r["run_id"], **{c: (names or {}).get(r[c], r[c]) if c == key else r[c] for c in columns},
               "why it failed (run health)": r["failure"]}
        if observed is not None:
            q = observed.get(r.get(key))
            row["the study's own observation"] = f"“{q}”" if q else ""
        rows.append(row)
    if observed is not None and not any(r["the study's own observation"] for r in rows):
        for r in rows:
            del r["the study's own observation"]
    return rows


# --- a study's conclusions, tested -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TestedClaim:
    claim: Any  # the study's claim (gan.experiments.zoo.StudyClaim: claim, better, worse, seed_says)
    raw: stats.Comparison  # tested alone
    adjusted: stats.Comparison  # Holm-adjusted over the study's claims: the verdict the report prints


def test_claims(df: pd.DataFrame, claims: Sequence[Any], *, by: str = "model",
                names: Mapping[str, str] | None = None) -> list[TestedClaim]:
    """Each claim (better < worse in FID) on the runs that trained, failed runs counted, then the claims as one
    family (gan.stats.holm_family)."""
    names = names or {}
    raw = []
    for c in claims:
        a, b = df[df[by] == c.better], df[df[by] == c.worse]
        both = pd.concat([a, b])
        raw.append(stats.compare(c.claim, names.get(c.better, c.better), ok_values(a), names.get(c.worse, c.worse),
                                 ok_values(b), failed=int((~both["ok"]).sum()), total=len(both)))
    return [TestedClaim(c, r, j) for c, r, j in zip(claims, raw, stats.holm_family(raw))]


test_claims.__test__ = False  # not a pytest test


def claim_rows(tested: Sequence[TestedClaim], df: pd.DataFrame, *, by: str = "model") -> list[dict[str, Any]]:
    """One row per claim: the models compared, the study's words, the runs that entered, the p-value before and after
    Holm (of the direction that decided the adjusted verdict) and the adjusted verdict."""
    rows = []
    for t in tested:
        c, r, a = t.claim, t.raw, t.adjusted
        opposite = a.verdict == "contradicted"
        p_raw, p_adj = (r.p_value_opposite, a.p_value_opposite) if opposite else (r.p_value, a.p_value)
        runs = f"{runs_label(df[df[by] == c.better])} vs {runs_label(df[df[by] == c.worse])}"
        rows.append({"models (better vs worse)": f"{a.better} vs {a.worse}", "the study concluded": f"“{c.seed_says}”",
                     "runs that trained": runs, "p, raw": stats.fmt_p(p_raw) + (" (opposite)" if opposite else ""),
                     "p, Holm": stats.fmt_p(p_adj), "verdict (Holm)": a.short})
    return rows


# --- the CIFAR study's checks ----------------------------------------------------------------------------------------


def conditional_inputs(z_dim: int, num_classes: int, model: str = "cifar_cgan") -> tuple[int, int]:
    """The conditional generator's first-layer inputs (z + one-hot label) and the conditional discriminator's
    first-convolution input channels (image + label maps): the study printed 138 and 13."""
    from gan import models

    G, D = models.build(model, z_dim, num_classes=num_classes, width=4)
    return G.project[0].in_features, D.net[0].in_channels


@torch.no_grad()
def label_agreement(net: Any, grid_png: str | Path, size: int, num_classes: int, channels: int,
                    per_class: int = GRID_PER_CLASS) -> float:
    """Share of a conditional run's sample grid (row k: `per_class` samples asked for class k, as gan.run writes it)
    that a classifier of the real classes (LeNet-FID's head) puts in the class asked for."""
    x = read_image_grid(grid_png, size, nrow=per_class, rows=num_classes, channels=channels)
    net.eval()
    pred = net.head(net(net.preprocess(x))).argmax(1)
    return float((pred == torch.arange(num_classes).repeat_interleave(per_class)).float().mean())


@dataclass(frozen=True)
class FidSensitivity:
    """FIDs of real images against other real images of the same set: how the number moves with what is not the
    generator (sample count, resizing, the feature network's scale)."""

    reference: int  # real images the others are scored against
    draws: int
    floor: dict[int, stats.Summary]  # n real images (held out) -> FID over `draws` draws
    n: int  # images in the rows below
    size: int  # their side in pixels
    unresized: float
    resized: dict[str, float]  # "nearest" / "bilinear": size -> size/2 -> size
    feature_scale: float
    scaled: float  # the bilinear row with every feature multiplied by feature_scale

    def rows(self) -> list[dict[str, str]]:
        col = f"FID against {self.reference:,} other real images"
        half = self.size // 2
        rows = [{"real images scored": f"{n:,}", "what changes": f"sample count ({self.draws} draws)",
                 col: stats.fmt_mean_std(s.mean, s.std, digits=2)} for n, s in self.floor.items()]
        rows += [{"real images scored": f"{self.n:,}", "what changes": "nothing: the first draw above (the baseline of the rows below)", col: f"{self.unresized:.2f}"},
                 *({"real images scored": f"{self.n:,}", "what changes": f"resized {self.size} → {half} → {self.size}, {m}", col: f"{v:.2f}"}
                   for m, v in self.resized.items()),
                 {"real images scored": f"{self.n:,}", "what changes": f"bilinear, features × {self.feature_scale:g}", col: f"{self.scaled:.4f}"}]
        return rows

    def sentences(self) -> list[str]:
        """What the table shows, each sentence chosen by the numbers."""
        lo, hi = min(self.floor), max(self.floor)
        a, b = self.floor[lo], self.floor[hi]
        out = []
        if lo != hi and a.mean > b.mean:
            out.append(f"**Sample count.** Real images scored against real images give {a.mean:.2f} at n = {lo:,} and "
                       f"{b.mean:.2f} at n = {hi:,}: fewer samples push FID up, not down. A small sample makes a value "
                       "incomparable with others, but cannot by itself make it small.")
        elif lo != hi:
            out.append(f"**Sample count.** Real images scored against real images give {a.mean:.2f} at n = {lo:,} and "
                       f"{b.mean:.2f} at n = {hi:,}: at these counts the sample count did not push FID up here.")
        change = max(abs(v - self.unresized) for v in self.resized.values()) / max(abs(self.unresized), 1e-12)
        words = ", ".join(f"{v:.2f} ({m})" for m, v in self.resized.items())
        out.append(f"**Resizing.** The same {self.n:,} real images score {self.unresized:.2f} as they are and {words} after "
                   f"being resized {self.size} → {self.size // 2} → {self.size} on their way to the network"
                   + (": the resizing code alone changes the number." if change > 0.1 else
                      ": here resizing changed the number by less than a tenth."))
        out.append(f"**Feature network.** Multiplying every feature by {self.feature_scale:g}, as another network's scale "
                   f"would, turns {self.resized.get('bilinear', self.unresized):.2f} into {self.scaled:.4f}: FID is in "
                   "squared units of the features, so its value is comparable only within one network, preprocessing "
                   "and sample count.")
        return out


def fid_sensitivity(net: Any, images: torch.Tensor, sample_counts: Sequence[int], feature_scale: float,
                    draws: int = 3, seed: int = 0) -> FidSensitivity:
    """Half of `images` is the reference; the other half is scored against it at each sample count (`draws` random
    draws), then its first max(sample_counts) images as they are, resized down and up (nearest, bilinear), and with
    their features scaled."""
    import torch.nn.functional as F

    from gan.metrics import extract_features, fid_from_features

    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(images), generator=g)
    half = len(images) // 2
    ref = extract_features(net, images[perm[:half]])
    pool = images[perm[half:]]
    pool_f = extract_features(net, pool)
    floor, draw = {}, {}
    for n in sample_counts:
        idx = [torch.randperm(len(pool), generator=g)[:n] for _ in range(draws)]
        floor[int(n)] = stats.summarize([fid_from_features(pool_f[i.numpy()], ref) for i in idx])
        draw[int(n)] = idx[0]
    same = pool[draw[max(draw)]]  # the baseline is the first draw of the largest count, one of the floor's own

    def round_trip(x: torch.Tensor, mode: str) -> torch.Tensor:
        small = F.interpolate(x.float(), scale_factor=0.5, mode=mode, **({"antialias": True} if mode == "bilinear" else {}))
        return F.interpolate(small, size=x.shape[-2:], mode=mode).round().clamp(0, 255).to(torch.uint8)

    resized_f = {m: extract_features(net, round_trip(same, m)) for m in ("nearest", "bilinear")}
    return FidSensitivity(half, draws, floor, len(same), int(images.shape[-1]),
                          fid_from_features(extract_features(net, same), ref),
                          {m: fid_from_features(f, ref) for m, f in resized_f.items()}, float(feature_scale),
                          fid_from_features(feature_scale * resized_f["bilinear"], feature_scale * ref))


def agreement_sentence(agree: Mapping[str, Mapping[str, float]], ok: Mapping[str, bool], names: Mapping[str, str],
                       num_classes: int, accuracy: float | None, per_run: int = GRID_PER_CLASS) -> str:
    """What the label-agreement check found (`agree`: model -> run -> share in the asked-for class), over the runs
    that trained, with chance beside it; a model whose interval reaches chance (one run: under twice chance) is said
    perhaps not to use its labels."""
    chance = 100 / num_classes
    parts, near = [], []
    for k, vals in agree.items():
        good = [100 * v for r, v in vals.items() if ok[r]]
        s, lost = stats.summarize(good), sum(1 for r in vals if not ok[r])
        if not s.n:
            parts.append(f"{names.get(k, k)}: no run that trained ({lost} failed)")
            continue
        parts.append(f"{names.get(k, k)} {s.ci(0)} %" + (f" ({lost} failed {'run' if lost == 1 else 'runs'} left out)" if lost else ""))
        # above chance: the 95 % interval clears it (a single run: at least twice chance)
        if not (s.ci_low > chance if s.n > 1 and math.isfinite(s.ci_low) else s.mean >= 2 * chance):
            near.append(names.get(k, k))
    if not parts:
        return ""
    if not any(ok[r] for vals in agree.values() for r in vals):
        return "No conditional model has a run that trained, so whether they draw the class asked for is not checked."
    acc = f", {100 * accuracy:.1f} % accurate on held-out real images" if accuracy is not None else ""
    out = (f"The classifier of the real classes (LeNet-FID{acc}) puts this share of the conditional models' grid samples "
           f"in the class they were asked for: {'; '.join(parts)} (mean [95 % CI] over the runs that trained, "
           f"{num_classes * per_run} samples per run; chance is {chance:.0f} %).")
    if near:
        one = len(near) == 1
        out += (f" {' and '.join(near)} cannot be told from chance (the interval reaches {chance:.0f} %): at this "
                f"training length {'it' if one else 'they'} may not use {'its' if one else 'their'} labels, and the claims "
                f"about labels are tested on {'a model' if one else 'models'} that may be conditional in name only.")
    elif all(stats.summarize([v for r, v in vals.items() if ok[r]]).n for vals in agree.values()):
        out += " Every one is above chance (its interval clears it): the models use their labels."
    return out


# --- the seminar's and the lecture's GANs ------------------------------------------------------------------------------


def lecture_keras_counts(z_dim: int = 100) -> dict[str, int]:
    """Trainable parameters of the lecture's Keras code ("A simple GAN using Keras", steps 3 and 4), layer by layer
    as Keras counts them. The lecture prints no model summary: these are what its code implies.
    G: Dense(7*7*128) on z, BatchNormalization (gamma and beta; its moving statistics are not trainable),
    Conv2DTranspose(64, 3, stride 2), Conv2DTranspose(1, 3, stride 2).
    D: Conv2D(64, 3, stride 2) on 28x28x1, Flatten, Dense(1) on 14*14*64."""
    dense = z_dim * 7 * 7 * 128 + 7 * 7 * 128
    batch_norm = 2 * 7 * 7 * 128
    up1, up2 = 3 * 3 * 128 * 64 + 64, 3 * 3 * 64 * 1 + 1
    conv, out = 3 * 3 * 1 * 64 + 64, 14 * 14 * 64 + 1
    return {"g": dense + batch_norm + up1 + up2, "d": conv + out}


def param_check_rows(df: pd.DataFrame, expected: Mapping[str, int], source: str) -> list[dict[str, str]]:
    """Our parameter counts (every run's; they must agree) against the source's, per network."""
    rows = []
    for net, col in (("generator", "params_g"), ("discriminator", "params_d")):
        ours = sorted(set(int(x) for x in df[col].dropna()))
        want = int(expected[net[0]])
        rows.append({"network": net, source: f"{want:,}", "ours (PyTorch)": " or ".join(f"{x:,}" for x in ours),
                     "equal": "yes" if ours == [want] else "**no**"})
    return rows


def loss_grid(exp_dir: str | Path, run_ids: Sequence[str], labels: Sequence[str], failed: Sequence[bool] = (),
              smooth: int = 25):
    """Every run's losses and discriminator accuracies (running mean of `smooth` logged steps), one colour per run,
    in a 2 x 2 grid for the book's column; failed runs dashed."""
    fig, axes = plt.subplots(2, 2, figsize=(7, 4.8), sharex=True)
    panels = [("loss_d", "D loss"), ("loss_g", "G loss"), ("acc_real", "D accuracy on real images"),
              ("acc_fake", "D accuracy on generated images")]
    bad = list(failed) + [False] * (len(run_ids) - len(failed))
    for i, (rid, lab, f) in enumerate(zip(run_ids, labels, bad)):
        log = pd.read_csv(Path(exp_dir) / "runs" / rid / "losses.csv.gz")
        k = max(1, min(smooth, len(log) // 5 or 1))
        steps = log["step"].to_numpy()[k - 1:]
        for ax, (key, _) in zip(axes.flat, panels):
            v = np.convolve(log[key].to_numpy(float), np.ones(k) / k, mode="valid")
            ax.plot(steps, v, color=f"C{i}", ls="--" if f else "-", lw=1.2, label=lab + (" (failed)" if f else ""))
    for ax, (key, title) in zip(axes.flat, panels):
        ax.set_title(title, fontsize=10)
        if key.startswith("acc"):
            ax.set_ylim(-0.03, 1.03)
    for ax in axes[1]:
        ax.set_xlabel("generator step")
    axes[0, 0].legend(frameon=False, fontsize=9)
    fig.tight_layout()
    return fig


# --- the face study -------------------------------------------------------------------------------------------------------


def claim_for_data(claim: str, sets: Sequence[Any]) -> str:
    """The claim in words that fit the data trained on: where the folders are a stand-in (not faces), "better
    faces" becomes what the FID measures, images closer to the clean reference (the preprocessed folder's), so that
    no verdict about digits in noisy canvases says "better faces"."""
    if not any(getattr(s, "standin_for", None) for s in sets):
        return claim
    return claim.replace("better faces", "images closer to the clean reference (the preprocessed folder's images)").replace("faces", "images")


def data_names(sets: Mapping[str, Any]) -> str:
    """'raw: <name>; preprocessed: <name>', or only the names where each already says which set it is."""
    return "; ".join(s.name if f": {v}" in s.name else f"{v}: {s.name}" for v, s in sets.items())


def read_pictures(folder: str | Path, n: int) -> tuple[list[np.ndarray], int]:
    """The first `n` image files of a folder (searched recursively, sorted), grey, and how many files it holds."""
    from gan.data.catalog import IMAGE_SUFFIXES

    files = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    pictures = []
    for f in files[:n]:
        with Image.open(f) as im:
            pictures.append(np.asarray(im.convert("L")))
    return pictures, len(files)


def size_range(pictures: Sequence[np.ndarray]) -> str:
    """'40–96 × 41–96': the range of heights and widths of some pictures, in pixels."""
    shapes = np.array([p.shape[:2] for p in pictures])
    r = lambda a: f"{a.min()}" if a.min() == a.max() else f"{a.min()}–{a.max()}"  # noqa: E731
    return f"{r(shapes[:, 0])} × {r(shapes[:, 1])}"


def preprocessing_sentence(raw: stats.Summary, pre: stats.Summary, raw_own: stats.Summary) -> str:
    """What the two models' FIDs say beside the raw folder's own FID (all against the same clean reference)."""
    if not (raw.n and pre.n):
        return ""
    if pre.mean >= raw.mean:
        return (f"With the model fixed, the mean FID of the model trained on the preprocessed folder ({pre.mean:.1f}) is "
                f"not below that of the model trained on the raw folder ({raw.mean:.1f}).")
    s = (f"With the model fixed, preprocessing the training pictures took the mean FID from {raw.mean:.1f} to "
         f"{pre.mean:.1f} ({raw.mean / pre.mean:.1f} times lower).")
    if raw_own.n:
        s += (f" The raw folder's own pictures score {raw_own.mean:.1f} against the same reference, "
              f"{100 * raw_own.mean / raw.mean:.0f} % of the raw-trained model's FID: "
              + ("much of that model's distance from clean output is already in the pictures it was given."
                 if raw_own.mean > 0.5 * raw.mean else
                 "the raw-trained model is also far from its own pictures; it learned them poorly."))
    return s


def content_position(pictures: Sequence[np.ndarray], sets: Mapping[str, Any], measured: int,
                     offset: Callable[[np.ndarray], tuple[float, float]],
                     preprocess: Callable[[np.ndarray], np.ndarray]) -> tuple[list[dict[str, str]], dict[str, stats.Summary]]:
    """Where the content is, before and after the pipeline, and in each training set as loaded: rows for a table
    (% of the image size) and the summaries the report's sentence reads."""
    def pct(a: np.ndarray) -> stats.Summary:
        return stats.summarize((100 * a).tolist())

    before = np.array([offset(p) for p in pictures])
    done = [preprocess(p) for p in pictures]
    after = np.array([offset(p) for p in done])
    col_c, col_b = "content centre from image centre (% of size)", "content box (% of image)"
    fmt = lambda s: stats.fmt_mean_std(s.mean, s.std, digits=1)  # noqa: E731
    rows = [{"images": f"raw files ({len(pictures)})",
             "size (px)": size_range(pictures),
             col_c: fmt(pct(before[:, 0])), col_b: fmt(pct(before[:, 1]))},
            {"images": "the same files after the pipeline", "size (px)": " × ".join(map(str, done[0].shape)),
             col_c: fmt(pct(after[:, 0])), col_b: fmt(pct(after[:, 1]))}]
    for v, s in sets.items():
        loaded = np.array([offset(x[0].numpy()) for x in s.images[:measured]])
        rows.append({"images": f"{v} folder, as trained on", "size (px)": " × ".join(map(str, s.shape[1:])),
                     col_c: fmt(pct(loaded[:, 0])), col_b: fmt(pct(loaded[:, 1]))})
    return rows, {"before_centre": pct(before[:, 0]), "before_box": pct(before[:, 1]), "after_centre": pct(after[:, 0])}


def pipeline_figure(pictures: Sequence[np.ndarray], steps: Callable[[np.ndarray], list[tuple[str, np.ndarray]]]):
    """Every stage of the preprocessing pipeline (columns) for a few raw pictures (rows), with their size."""
    stages = [[("raw file", p), *steps(p)] for p in pictures]
    ncol = len(stages[0])
    fig, axes = plt.subplots(len(pictures), ncol, figsize=(7, 1.35 * len(pictures) + 0.4), squeeze=False)
    for i, (row, st) in enumerate(zip(axes, stages)):
        for ax, (name, img) in zip(row, st):
            ax.imshow(img, cmap="gray", interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(name.replace(", ", ",\n"), fontsize=9)
        row[0].set_ylabel(f"{st[0][1].shape[0]}×{st[0][1].shape[1]}", fontsize=9)
    fig.tight_layout()
    return fig


def image_sets_figure(sets: Mapping[str, torch.Tensor], cells: int = 4, digit_px: int = 56, ncols: int = 2):
    """The first cells x cells images of each set (uint8 [N, C, H, W]) side by side, one image `digit_px` screen
    pixels wide at the figure's natural size (dpi 100)."""
    names = list(sets)
    size = int(next(iter(sets.values())).shape[-1])
    panel = cells * digit_px * (size + 2) / size / 100
    ncols = min(ncols, len(names))
    nrows = math.ceil(len(names) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel * ncols * 1.06, (panel + 0.35) * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, name in zip(axes.flat, names):
        g = image_grid(sets[name][: cells * cells], nrow=cells)
        ax.imshow(g[..., 0] if g.shape[-1] == 1 else g, cmap="gray", interpolation="nearest", vmin=0, vmax=255)
        ax.set_title(name, fontsize=10)
    fig.tight_layout(pad=0.4)
    return fig


def folder_fids(net: Any, sets: Mapping[str, Any], reference: Any, n: int, draws: int = 3,
                seed: int = 0) -> tuple[dict[str, stats.Summary], int, int]:
    """FID of each folder's own images (n, `draws` draws) against one half of the reference, drawn from the other
    half's indices where a folder holds the reference's pictures in its order (the stand-in's folders do), so
    that no picture is scored against itself. Returns the summaries, the half's size and the n used."""
    from gan.metrics import extract_features, fid_from_features

    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(reference), generator=g)
    half = len(reference) // 2
    ref = extract_features(net, reference.images[perm[:half]])
    m = min(n, len(reference) - half)
    out = {}
    for v, s in sets.items():
        pool = perm[half:] if len(s) == len(reference) else torch.arange(len(s))
        out[v] = stats.summarize([fid_from_features(extract_features(net, s.images[pool[torch.randperm(len(pool), generator=g)[:m]]]), ref)
                                  for _ in range(draws)])
    return out, half, m


# --- the chapter's table ---------------------------------------------------------------------------------------------


def short_label(label: str) -> str:
    """'DCGAN 3: + spectral norm (D), batch norm (G)' -> 'DCGAN 3'; 'SN-CGAN (smaller; ...)' -> 'SN-CGAN'."""
    return str(label).split(":")[0].split(" (")[0].strip()


def load_sources(results: str | Path, sources: Mapping[str, str]) -> tuple[pd.DataFrame, list[str]]:
    """The runs of each source experiment (its runs.csv), one row per run, with `experiment`, `entry` (the column
    that names its models), `model` (a short display name), `batch_size` (from the run's manifest) and health
    (`ok`, `status`, `failure`; runs made before run health was assessed know only divergence), and `display`, the
    model's name in the chapter's table ("DCGAN 3 (cifar_study)", "seminar")."""
    frames, missing = [], []
    for exp, column in sources.items():
        path = Path(results) / exp / "runs.csv"
        if not path.exists():
            missing.append(exp)
            continue
        df = pd.read_csv(path)
        df["experiment"], df["entry"] = exp, df[column].astype(str)
        short = df["entry"].map(short_label)
        df["display"] = [exp if s == exp else f"{s} ({exp})" for s in short]
        mans = [Path(results) / exp / "runs" / rid / "manifest.json" for rid in df["run_id"]]
        mans = [json.loads(m.read_text()) if m.exists() else {} for m in mans]
        df["batch_size"] = [m.get("config", {}).get("batch_size", np.nan) for m in mans]
        df["device"] = [m.get("device") for m in mans]
        if "status" not in df:
            df["status"] = ["failed" if str(d) == "True" else "ok" for d in df["diverged"]]
            df["failure"] = ["diverged" if str(d) == "True" else None for d in df["diverged"]]
        df["ok"] = df["status"] == "ok"
        frames.append(df)
    runs = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if len(runs):
        runs["fid"] = pd.to_numeric(runs["fid"], errors="coerce")
        one_feature_network(runs, results)  # one FID scale across the experiments compared
    return runs, missing


BLOCK_KEYS = ["fid_reference", "fid_reference_images", "fid_features", "fid_samples"]


def model_entries(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per model: its FID over the runs that trained (mean, 95 % interval, n), how many runs failed and why,
    its size and cost. Failed runs enter no number but their count."""
    rows = []
    for (exp, entry), g in runs.groupby(["experiment", "entry"], sort=False):
        ok = g[g["ok"]]
        fid, t = stats.summarize(ok["fid"].tolist()), stats.summarize(g["time_per_step_ms"].tolist())
        b = g["batch_size"].dropna()
        batch = int(b.iloc[0]) if len(b) else None
        rows.append({"experiment": exp, "entry": entry, "display": g["display"].iloc[0], **{k: g[k].iloc[0] for k in BLOCK_KEYS},
                     "dataset": g["dataset"].iloc[0], "fid_mean": fid.mean, "fid_low": fid.ci_low, "fid_high": fid.ci_high,
                     "n_ok": int(len(ok)), "n": int(len(g)), "runs": runs_label(g),
                     "failures": "; ".join(f"{r.run_id}: {r.failure}" for r in g[~g["ok"]].itertuples()),
                     "params_g": int(g["params_g"].iloc[0]), "params_d": int(g["params_d"].iloc[0]),
                     "ms_mean": t.mean, "ms_std": t.std, "batch": batch,
                     "images_per_s": 1000 * batch / t.mean if batch and math.isfinite(t.mean) and t.mean > 0 else float("nan")})
    return pd.DataFrame(rows)


def ranked(block: pd.DataFrame) -> pd.DataFrame:
    """A block's models by mean FID over the runs that trained, lowest first; models with no run that trained are
    not ranked (rank 0) and come last."""
    b = block.assign(_ok=block["n_ok"] > 0).sort_values(["_ok", "fid_mean"], ascending=[False, True], na_position="last")
    b = b.drop(columns="_ok").reset_index(drop=True)
    b["rank"] = [i + 1 if ok else 0 for i, ok in enumerate(b["n_ok"] > 0)]
    return b


def block_rows(block: pd.DataFrame) -> list[dict[str, str]]:
    """The table of one block (one reference, sample count and feature network): <= 6 columns."""
    rows = []
    for r in ranked(block).itertuples():
        rows.append({"rank": str(r.rank) if r.rank else "–", "model": r.display,
                     "FID mean [95 % CI]": stats.fmt_ci(r.fid_mean, r.fid_low, r.fid_high) if r.n_ok else "failed",
                     "runs that trained": r.runs, "G + D params": f"{r.params_g + r.params_d:,}",
                     "images / s": f"{r.images_per_s:,.0f}" if math.isfinite(r.images_per_s) else "n/a"})
    return rows


def block_summary(block: pd.DataFrame) -> str:
    """The block's ranking in words: the lowest mean FID and the most images per second among the models with runs
    that trained, and the models not ranked. Nothing here is tested; the studies test their own differences."""
    r = ranked(block)
    good, unranked = r[r["rank"] > 0], r[r["rank"] == 0]
    tail = f" Not ranked (no run trained): {', '.join(unranked['display'])}." if len(unranked) else ""
    if not len(good):
        return "No model in this block has a run that trained: nothing is ranked."
    best = good.iloc[0]
    s = (f"Lowest mean FID over the runs that trained: **{best['display']}** "
         f"({stats.fmt_ci(best['fid_mean'], best['fid_low'], best['fid_high'])}, {best['runs']} runs)")
    fast = good[good["images_per_s"].notna()]
    if len(fast) > 1:
        f = fast.loc[fast["images_per_s"].idxmax()]
        s += f"; most training images per second among them: **{f['display']}** ({f['images_per_s']:,.0f})"
    return s + ". The order is by mean FID alone; no difference in this table is tested." + tail


def blocks_figure(blocks: Sequence[tuple[str, pd.DataFrame]]):
    """FID (mean and 95 % interval over the runs that trained) against training images per second, one panel per
    block, two panels a row; each point is labelled with its rank in the block's table. Models with no run that
    trained are not drawn (the table names them)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ncols = min(2, len(blocks))
    nrows = math.ceil(len(blocks) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(7, 3.2 * nrows), squeeze=False)
    for ax in axes.flat[len(blocks):]:
        ax.axis("off")
    for ax, (title, b) in zip(axes.flat, blocks):
        r = ranked(b)
        drawn = r[(r["rank"] > 0) & r["images_per_s"].notna()]
        for x in drawn.itertuples():
            err = [[x.fid_mean - x.fid_low], [x.fid_high - x.fid_mean]] if math.isfinite(x.fid_low) else None
            ax.errorbar(x.images_per_s, x.fid_mean, yerr=err, fmt="o", capsize=3, color=f"C{(x.rank - 1) % 10}")
            ax.annotate(str(x.rank), (x.images_per_s, x.fid_mean), fontsize=9, xytext=(5, 3), textcoords="offset points")
        ips = drawn["images_per_s"]
        if len(ips) and ips.max() > 5 * ips.min():
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
        if not len(drawn):
            ax.text(0.5, 0.5, "no run trained", transform=ax.transAxes, ha="center", fontsize=9, color="tab:red")
        ax.set_xlabel("training images per second")
        ax.set_ylabel("FID (lower is better)")
        ax.set_title(textwrap.fill(title, 42), fontsize=9)
    fig.tight_layout()
    return fig


# --- figures for the book's column ----------------------------------------------------------------------------------


def fit_width(fig, width: float = 7.0, rotate: bool | None = None):
    """Make a figure at most `width` inches wide (the book's 670-px column at dpi 100), rotating crowded x labels."""
    w, h = fig.get_size_inches()
    if w > width:
        fig.set_size_inches(width, h)
    for ax in fig.axes:
        labels = ax.get_xticklabels()
        if rotate or (rotate is None and len(labels) > 5):
            for t in labels:
                t.set_rotation(30)
                t.set_ha("right")
    fig.tight_layout()
    return fig


def upscale_png(src: str | Path, dst: str | Path, sample_px: int, min_px: int = 56) -> tuple[int, int]:
    """Copy a sample grid enlarged with nearest-neighbour (every pixel a square) by the smallest whole factor that
    makes one `sample_px`-pixel sample at least `min_px` screen pixels wide. Returns the new (width, height)."""
    factor = max(1, math.ceil(min_px / sample_px))
    with Image.open(src) as im:
        big = im.resize((im.width * factor, im.height * factor), Image.NEAREST)
    buf = io.BytesIO()
    big.save(buf, format="PNG", optimize=True)
    atomic_write_bytes(dst, buf.getvalue())
    return big.width, big.height


def png_width(path: str | Path) -> int:
    with Image.open(path) as im:
        return im.width


def width_pct(px: float, column: int = 670) -> str:
    """A figure's width in the book, as a share of the column, so that it is shown at (at most) its natural size."""
    return f"{min(100, round(100 * px / column))}%"
