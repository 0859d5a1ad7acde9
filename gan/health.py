"""Run health: did a run train? A failed run is a result to name, never a data point.

A GAN run can end without a NaN and still have failed: its discriminator won and its generator stopped learning,
its samples are blank, all alike, or noise. `assess` decides from the run's own log and samples, with thresholds
set here once and calibrated on real and deliberately broken runs (tests/test_health.py, pilots/README.md):

| reason | measured as | failed when |
|---|---|---|
| diverged | a non-finite loss (gan.train stops there) | any |
| discriminator won | D's accuracy on fakes, mean over the last 20 % of steps (not for a Wasserstein critic) | >= 0.99 |
| blank | pixel standard deviation over all samples (0-255) | < 2 |
| collapse | mean pairwise distance of the samples / that of real images | < 0.25 |
| collapse (classes) | classes a classifier of the real data finds in >= 5 % of the samples | < half the classes |
| collapse (colour) | spread across samples of each sample's mean colour / that of real images (colour data only) | < 0.25 |
| noise | FID, against the FID of uniform-noise images in the same network and reference | >= half that FID |

A Wasserstein critic (loss `wgan_gp`; `gan.losses.is_critic`) is not judged on its accuracy: its output is a score
defined up to an added constant, with no threshold that separates real from fake, so the share of fakes it scores
below 0 says nothing (the five WGAN-GP runs of the CIFAR study at `mnist5k` gave 0.00, 0.00, 0.43, 0.76 and 1.00,
the last from the run with the lowest FID of the five). Its runs are judged on their samples and FID like every other.

All of them are measured against the run's own training images (without augmentation): health asks whether a run
learnt its data, whatever reference its FID is reported against.

The thresholds sit below what trained runs give and close to what broken ones give: the seminar GAN at its first
budget gave blank samples with D accuracy 1.0, and noise images score 1,341 in LeNet-FID. The noise line sits where
the LeNet-FID calibration (results/*/feature_net) puts it: legible digits blurred by 1 px score 0.41 of the noise FID
and pass, real digits of only two classes score 0.69 of it and fail. Where the committed runs sit against each line
is computed, not written here: `LINES` reads each line's measure from a run's metrics (`line_values`), and the
book's methods chapter places every run against every line (`margins`, `gan.plots.health_lines`).

The colour line is for data whose images differ in colour (the colour stand-in's digits and grounds are drawn at
random; grey images have no colour to lose, and are not judged on it). A generator can draw digits of many classes,
all different, and all in one colour: the CIFAR study's DCGAN 1 drew grey digits on one dark green ground on every
seed, where the data's digits come in every colour. Neither the pixel diversity nor the classes see that; the spread
of the samples' overall colours does (their mean RGB less its grey level, RMS distance from the average: 0 for any
set of grey images, whatever their shapes). Real and recoloured-real images score 1.02 of the data's, grey digits
on one green ground 0.03, digits in one ink on one ground 0.12 (tests/test_health.py); the committed runs are placed in
pilots/README.md. What it does not see: digits in one ink on grounds of many colours score about 0.96, since the
ground is most of the image (the inks alone did not separate the committed runs).

The class line does not see a generator that draws a few shapes the classifier spreads over half the classes or more:
DCGAN 2's seed 1 at the study's 200 epochs (a pilot) draws speckled 2s and 9s, read as 5 classes, as varied as 5.06
equally common ones, where the weakest committed run that trained reads as 6.16. A line on that measure would sit
within about one class of a trained run, so there is none (pilots/README.md, "The study's own budget").
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Sequence

import torch

D_WON_ACC = 0.99
TAIL = 0.2
BLANK_STD = 2.0
COLLAPSE_DIVERSITY = 0.25
MIN_CLASS_FRACTION = 0.5
NOISE_FRACTION = 0.5  # of the FID of uniform-noise images
COLOUR_COLLAPSE = 0.25  # of the real images' colour spread
MIN_COLOUR_SPREAD = 0.02  # real images whose colours differ less than this (grey ones: 0) are not judged on colour


@dataclass(frozen=True)
class Line:
    """One of the lines `assess` draws, as a measure of a run that a table or a figure can place against it."""
    reason: str  # the line's name, in the words of the failure it draws
    measure: str  # what is measured, for an axis or a table
    threshold: float
    above: bool  # fails at or above the threshold (else: below it)

    def crossed(self, value: float | None) -> bool:
        """Does this value fail the line? (None or NaN: not measured, not failed.)"""
        if value is None or not math.isfinite(value):
            return False
        return value >= self.threshold if self.above else value < self.threshold


# The lines of `assess`, one per measure, in its order; `line_values` reads each from a run's metrics
LINES = (
    Line("discriminator won", f"D's accuracy on fakes, last {TAIL * 100:.0f} % of steps", D_WON_ACC, above=True),
    Line("blank", "pixel standard deviation (0-255)", BLANK_STD, above=False),
    Line("collapse", "sample diversity / real images'", COLLAPSE_DIVERSITY, above=False),
    Line("collapse (classes)", "share of the classes in ≥ 5 % of samples", MIN_CLASS_FRACTION, above=False),
    Line("collapse (colour)", "colour spread / real images'", COLOUR_COLLAPSE, above=False),
    Line("noise", "FID / FID of uniform noise", NOISE_FRACTION, above=True),
)

LINE = {line.reason: line for line in LINES}


@dataclass(frozen=True)
class Health:
    status: str  # "ok" | "failed"
    reasons: tuple[str, ...]  # why it failed, in words a caption can use; empty when ok
    tail_acc_fake: float | None
    pixel_std: float | None
    diversity_ratio: float | None
    classes_covered: int | None
    num_classes: int | None
    noise_fid: float | None
    colour_ratio: float | None = None  # colour_spread(samples) / colour_spread(real); None where colour is not judged
    measures: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["reasons"] = list(self.reasons)
        return d


def diversity(images: torch.Tensor, n: int = 256, seed: int = 0) -> float:
    """Mean pairwise L2 distance between (up to) n images, pixels in [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    x = images[torch.randperm(len(images), generator=g)[:n]].float().flatten(1) / 255
    if len(x) < 2:
        return float("nan")
    return float(torch.cdist(x, x).sum() / (len(x) * (len(x) - 1)))


def colour_spread(images: torch.Tensor) -> float | None:
    """How much images differ in overall colour: each image's mean RGB (pixels in [0, 1]) less its grey level,
    and the root-mean-square distance of those chromaticities from their average. None for one-channel images."""
    if images.ndim != 4 or images.shape[1] != 3 or len(images) < 2:
        return None
    c = images.float().mean((2, 3)) / 255
    c = c - c.mean(1, keepdim=True)
    return float((c - c.mean(0)).pow(2).sum(1).mean().sqrt())


def tail_mean(log: Sequence[dict[str, float]], key: str, tail: float = TAIL) -> float | None:
    if not log:
        return None
    k = max(1, int(len(log) * tail))
    vals = [r[key] for r in log[-k:] if r.get(key) is not None and math.isfinite(r[key])]
    return sum(vals) / len(vals) if vals else None


def assess(*, log: Sequence[dict[str, float]], diverged_at: int | None, fake: torch.Tensor | None,
           real: torch.Tensor, fid: float | None, noise_fid: float | None, classes_covered: int | None = None,
           num_classes: int | None = None, critic: bool = False) -> Health:
    """The health of one run from its per-step log, its samples (uint8) and its FID. `critic`: D is a Wasserstein
    critic, whose accuracy means nothing (no `tail_acc_fake`, no "discriminator won")."""
    reasons = []
    if diverged_at is not None:
        reasons.append(f"diverged (non-finite loss at step {diverged_at})")
    acc = None if critic else tail_mean(log, "acc_fake")
    if LINE["discriminator won"].crossed(acc):
        reasons.append(f"discriminator won (accuracy on fakes {acc:.2f} over the last {TAIL:.0%} of steps)")
    std = div = col = None
    if fake is not None:
        std = float(fake.float().std())
        div = diversity(fake) / diversity(real)
        if LINE["blank"].crossed(std):
            reasons.append(f"blank samples (pixel standard deviation {std:.1f} of 255)")
        elif LINE["collapse"].crossed(div):
            reasons.append(f"collapse (sample diversity {div:.2f} of the real images')")
        real_spread = colour_spread(real)
        if real_spread is not None and real_spread >= MIN_COLOUR_SPREAD and std >= BLANK_STD:
            col = (colour_spread(fake) or 0.0) / real_spread
            if LINE["collapse (colour)"].crossed(col):
                reasons.append(f"collapse (colour: the samples' colours spread {col:.2f} as widely as the real images')")
    if classes_covered is not None and num_classes and LINE["collapse (classes)"].crossed(classes_covered / num_classes):
        reasons.append(f"collapse ({classes_covered} of {num_classes} classes in at least 5 % of the samples)")
    if fid is not None and noise_fid and LINE["noise"].crossed(fid / noise_fid):
        reasons.append(f"noise (FID {fid:.0f}, over half the {noise_fid:.0f} of uniform-noise images)")
    return Health("failed" if reasons else "ok", tuple(reasons), acc, std, div, classes_covered, num_classes, noise_fid,
                  col)


def _number(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def line_values(metrics: Mapping[str, Any]) -> dict[str, float | None]:
    """Each line's measure (keyed by `Line.reason`) for one run, from its metrics.json (or a row of gan.aggregate's
    runs): None where the line does not judge it (a critic's accuracy, grey images' colour, data without classes, a
    diverged run's samples). The FID is the one health judged by: `health_fid` where the run's FID is reported
    against another reference."""
    fid = _number(metrics.get("health_fid"))
    fid = fid if fid is not None else _number(metrics.get("fid"))
    noise = _number(metrics.get("noise_fid"))
    covered, shares = _number(metrics.get("classes_covered")), metrics.get("class_shares")
    n_classes = len(shares) if isinstance(shares, (list, tuple)) and len(shares) else None
    values = (_number(metrics.get("tail_acc_fake")), _number(metrics.get("pixel_std")),
              _number(metrics.get("diversity_ratio")),
              covered / n_classes if covered is not None and n_classes else None,
              _number(metrics.get("colour_ratio")),
              fid / noise if fid is not None and noise else None)
    return {line.reason: v for line, v in zip(LINES, values)}


def margins(runs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Where runs sit against each line: for every line, how many runs it judged, the range of the measure over the
    runs that passed health (`status` ok), the passing run closest to the line (its `name`), and how many runs are
    past it. A run past one line has failed, so a passing run is never past any line."""
    rows, values = [], [(r, line_values(r)) for r in runs]
    for line in LINES:
        judged = [(r, v[line.reason]) for r, v in values if v[line.reason] is not None]
        ok = [(r, v) for r, v in judged if r.get("status") == "ok"]
        closest = min(ok, key=lambda rv: abs(rv[1] - line.threshold), default=None)
        rows.append({"line": line, "judged": len(judged), "passed": len(ok),
                     "passed_range": (min(v for _, v in ok), max(v for _, v in ok)) if ok else None,
                     "closest": (closest[0].get("name"), closest[1]) if closest else None,
                     "past": sum(line.crossed(v) for _, v in judged)})
    return rows
