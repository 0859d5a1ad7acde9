"""One pilot: train a GAN through the library's loop and measure it every `--eval-every` steps.

A pilot answers "which budget and settings make this model train at the committed scale?" before a setting goes
into config/config.yaml. It trains with `gan.train.train` (resuming from its own checkpoint between evaluations,
so one run gives the whole curve) and records, at every evaluation: LeNet-FID, the digit metrics (confident
share, class coverage, each class's share) where the feature network is a classifier, sample diversity against the real set, mean
pixel value, D's accuracy on real and fake over the last evaluation interval, and the CPU time spent so far. With
`ema` on, the samples come from the moving average of G's weights, and `raw_*` are the same numbers for G itself.

    python pilots/pilot.py NAME --config '{"model": ..., "steps": 6000, ...}' --eval-every 1000

`--class-colours JITTER` trains on the colour stand-in recoloured so that colour goes with the digit, and
`--without-colour` on its digits in white on black (pilot-only variants, recorded as `data_variant`; see
`class_coloured` and `without_colour`). A config may also name the pilot-only models of `variants.py`.

Results: one JSON line per evaluation in pilots/results/NAME.jsonl (pilots/README.md summarises them).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from gan import models
from gan.checks import parse_train
from gan.config import DataConfig
from gan.data import ImageSet, load_dataset, to_uint8
from gan.health import MIN_COLOUR_SPREAD, colour_spread, diversity  # the measures health judges runs by
from gan.metrics import extract_features, feature_network, fid_from_features
from gan.metrics.digits import digit_metrics
from gan.provenance import device_description
from gan.train import generate, train
from variants import PILOT_MODELS

OUT = Path(__file__).resolve().parent / "results"


def _standin_ink(data: ImageSet) -> torch.Tensor:
    """The colour stand-in's digits as ink in [0, 1], [N, 1, 32, 32]: MNIST-5k padded 28 -> 32, as the stand-in pads."""
    grey = load_dataset(DataConfig(name="mnist5k"))
    if not torch.equal(grey.labels, data.labels):
        raise ValueError(f"{data.name} is not the colour stand-in of MNIST-5k's digits in their order")
    return F.pad(grey.images.float() / 255.0, (2, 2, 2, 2))


def class_coloured(data: ImageSet, jitter: float, seed: int = 1) -> ImageSet:
    """The colour stand-in recoloured so that colour goes with the digit, as it goes with content in CIFAR-10:
    each class gets one ink and one ground colour (drawn as the stand-in draws them), each image those plus Gaussian
    jitter of sd `jitter`. A pilot-only variant that asks whether the stand-in's colours, drawn independently of the
    digit, are why DCGAN 2 collapses to one colour scheme."""
    g = torch.Generator().manual_seed(seed)
    k = data.num_classes
    fg_c, bg_c = torch.rand(k, 3, generator=g) * 0.7 + 0.3, torch.rand(k, 3, generator=g) * 0.3
    n = len(data.images)
    fg = (fg_c[data.labels] + jitter * torch.randn(n, 3, generator=g)).clamp(0.3, 1.0)[..., None, None]
    bg = (bg_c[data.labels] + jitter * torch.randn(n, 3, generator=g)).clamp(0.0, 0.3)[..., None, None]
    x = _standin_ink(data)
    return ImageSet(f"{data.name}, class-coloured (pilot variant), jitter {jitter:g}",
                    to_uint8(bg + (fg - bg) * x, "unit"), data.labels, data.num_classes, data.standin_for)


def without_colour(data: ImageSet) -> ImageSet:
    """The colour stand-in's digits with white ink on black, in its three channels and at its padding: the control
    that asks whether colour is what DCGAN 2 fails to learn."""
    x = _standin_ink(data).expand(-1, 3, -1, -1)
    return ImageSet(f"{data.name}, without colour (pilot variant: white ink on black)", to_uint8(x, "unit"),
                    data.labels, data.num_classes, data.standin_for)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("--config", required=True, help="TrainConfig as JSON; its steps are the last evaluation")
    ap.add_argument("--eval-every", type=int, required=True)
    ap.add_argument("--fid-samples", type=int, default=2000)
    recolour = ap.add_mutually_exclusive_group()
    recolour.add_argument("--class-colours", type=float, default=None, metavar="JITTER",
                         help="recolour the colour stand-in so colour goes with the digit (see class_coloured)")
    recolour.add_argument("--without-colour", action="store_true",
                         help="the colour stand-in's digits in white on black (see without_colour)")
    a = ap.parse_args()
    models.MODELS.update(PILOT_MODELS)  # this process only: the workflow never builds them
    cfg = parse_train(json.loads(a.config), "--config: ")  # keys, ranges and registry names, as the workflow checks them
    data = load_dataset(cfg.data)
    real_ref = load_dataset(cfg.data.replace(augment="none"))
    base = real_ref.name
    if a.class_colours is not None:
        data = real_ref = class_coloured(real_ref, a.class_colours)
    elif a.without_colour:
        data = real_ref = without_colour(real_ref)
    variant = real_ref.name.removeprefix(f"{base}, ") if real_ref.name != base else None  # what the row records
    net, info = feature_network("lenet", real_ref)
    ref = extract_features(net, real_ref.images)
    classifier = info.get("task") == "classifier"
    real_div = diversity(real_ref.images)
    real_colour = colour_spread(real_ref.images)
    real_digits = digit_metrics(net, real_ref.images[:2000]) if classifier else None
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / f"{a.name}.jsonl"
    out.unlink(missing_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix=f"pilot-{a.name}-"))
    cpu0 = time.process_time()
    for steps in range(a.eval_every, cfg.steps + 1, a.eval_every):
        res = train(cfg.replace(steps=steps), data, run_dir=run_dir, progress=False)
        cpu = time.process_time() - cpu0
        n = a.fid_samples
        labels = torch.arange(n) % data.num_classes if models.is_conditional(res.G) else None
        fake = generate(res.sampler, n, cfg.z_dim, seed=777, labels=labels, pixel_range=cfg.data.pixel_range)
        tail = res.log[-a.eval_every:]
        row = {"name": a.name, "step": steps, "cpu_s": round(cpu, 1), "ms_per_step": res.time_per_step_ms,
               "diverged": res.diverged,
               "fid": fid_from_features(extract_features(net, fake), ref) if not res.diverged else None,
               "acc_real": sum(r["acc_real"] for r in tail) / len(tail), "acc_fake": sum(r["acc_fake"] for r in tail) / len(tail),
               "mean_pixel": float(fake.float().mean()), "real_mean_pixel": float(real_ref.images.float().mean()),
               "diversity": diversity(fake), "real_diversity": real_div, "config": cfg.replace(steps=steps).to_dict(),
               # where it ran, and which LeNet-FID network scored it (retrained per machine: docs/DESIGN.md, FID)
               "device": device_description(), "feature_net_heldout_accuracy": info.get("heldout_accuracy")}
        if variant:
            row["data_variant"] = variant
        if real_colour is not None and real_colour >= MIN_COLOUR_SPREAD:  # grey data are not judged on colour (gan.health)
            row["colour_ratio"] = colour_spread(fake) / real_colour
        if classifier:
            d = digit_metrics(net, fake)
            row.update(confident=d.confident_share, covered=d.classes_covered, class_shares=list(d.class_shares),
                       real_confident=real_digits.confident_share)
        if res.G_ema is not None:  # the numbers above are the moving average's; these are the trained G's own
            raw = generate(res.G, n, cfg.z_dim, seed=777, labels=labels, pixel_range=cfg.data.pixel_range)
            row["raw_fid"] = fid_from_features(extract_features(net, raw), ref) if not res.diverged else None
            if classifier:
                d = digit_metrics(net, raw)
                row.update(raw_confident=d.confident_share, raw_covered=d.classes_covered)
        with out.open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items() if k != "config"}), flush=True)
    from gan.plots import save_image_grid
    save_image_grid(generate(res.sampler, 64, cfg.z_dim, seed=12345, labels=(torch.arange(64) % data.num_classes) if models.is_conditional(res.G) else None,
                             pixel_range=cfg.data.pixel_range), str(OUT / f"{a.name}.png"), nrow=8)


if __name__ == "__main__":
    main()
