"""One training run, end to end: train (checkpointing and resuming), score by FID, write the run's artifacts.

`analysis/train.ipynb` calls `run_training` once per job; aggregate notebooks call it (through `gan.notebook`)
for their tiny default demo, so that every notebook runs on its own with its default parameters (nbval) through
the same code path. This is where a run's config enters: it is parsed and checked here, once.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

import matplotlib.pyplot as plt

from gan import losses, models
from gan.checks import parse_train
from gan.config import DataConfig, parse
from gan.data import cache_dir, load_dataset
from gan.health import assess
from gan.metrics import extract_features, feature_network, fid_from_features, score_features
from gan.metrics.fid import reference_stats
from gan.metrics.digits import digit_metrics
from gan.metrics.features import lenet_fid_network
from gan.plots import loss_curves, save_image_grid
from gan.provenance import atomic_savefig, atomic_write_csv, atomic_write_json, write_manifest
from gan.train import LOG_COLUMNS, generate, train

GRID_SEED, FID_SEED, NOISE_SEED = 12345, 777, 4242  # fixed noise for grids, FID samples and the noise reference


def run_training(out_dir: str | Path, *, experiment: str, run_id: str, scale: str, train_config: dict[str, Any],
                 cell: dict[str, Any] | None = None, fid_network: str = "lenet", fid_samples: int = 256,
                 fid_reference: dict[str, Any] | None = None, inception_weights: str | None = None,
                 progress: bool = True, keep_checkpoint: bool = False) -> dict[str, Any]:
    """Train one GAN into `out_dir` and write metrics.json, losses.csv.gz (every step), samples.png, losses.png,
    manifest.json.

    FID compares `fid_samples` generated images with the real set `fid_reference` (default: the training set
    without augmentation), in the feature network `fid_network`. Where the real set is labelled, a classifier of it
    (LeNet-FID) also gives the digit metrics (confident share, classes covered). `gan.health.assess` then says
    whether the run trained: `status` ok or failed, with the reasons. A diverged run gets FID null."""
    t_start = time.time()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg = parse_train(train_config)  # validated before anything is trained or written
    data = load_dataset(cfg.data)
    # Snakemake reruns a job whose config changed: a checkpoint of the old config is set aside, not resumed
    result = train(cfg, data, run_dir=out, progress=progress, stale_checkpoint="set_aside")

    grid_labels = torch.arange(data.num_classes).repeat_interleave(8) if models.is_conditional(result.G) else None
    grid = generate(result.sampler, 64 if grid_labels is None else len(grid_labels), cfg.z_dim, seed=GRID_SEED,
                    labels=grid_labels, pixel_range=cfg.data.pixel_range)
    save_image_grid(grid, out / "samples.png", nrow=8)
    atomic_write_csv(out / "losses.csv.gz", result.log, LOG_COLUMNS)
    fig = loss_curves(result.log, f"{experiment} / {run_id}")
    atomic_savefig(fig, out / "losses.png")
    plt.close(fig)

    own = load_dataset(cfg.data.replace(augment="none")) if cfg.data.augment != "none" else data
    real = load_dataset(parse(DataConfig, fid_reference, "fid_reference.")) if fid_reference is not None else own
    net, net_info = feature_network(fid_network, real, inception_weights=inception_weights)
    score: dict[str, Any] = {"fid": None, "fid_features": net.name, "fid_samples": fid_samples,
                             "fid_reference_images": len(real)}
    fake, feats, digits = None, None, None
    if not result.diverged:
        labels = torch.arange(fid_samples) % data.num_classes if models.is_conditional(result.G) else None
        fake = generate(result.sampler, fid_samples, cfg.z_dim, seed=FID_SEED, labels=labels, pixel_range=cfg.data.pixel_range)
        feats = extract_features(net, fake)
        score = score_features(net, feats, real.images, cache=cache_dir())  # reference statistics once per set
        if real.labels is not None and real.num_classes:  # a classifier of the real classes reads the samples
            classifier = net if getattr(net, "head", None) is not None and net_info.get("task") == "classifier" \
                else lenet_fid_network(real)[0]
            digits = digit_metrics(classifier, fake)
    # Health asks whether the run learnt its own training images, so it measures against them even where the
    # FID above is reported against another reference (the face study scores raw-folder runs against faces).
    own_fid = score["fid"] if own is real or feats is None else score_features(net, feats, own.images, cache=cache_dir())["fid"]
    noise = torch.randint(0, 256, (fid_samples, *own.shape), generator=torch.Generator().manual_seed(NOISE_SEED),
                          dtype=torch.uint8)
    # what pure noise scores in this network against those images (cached: the same for every run of a scale)
    noise_fid = fid_from_features(reference_stats(net, noise, cache_dir()), reference_stats(net, own.images, cache_dir()))
    health = assess(log=result.log, diverged_at=result.diverged_at, fake=fake, real=own.images, fid=own_fid,
                    noise_fid=noise_fid, classes_covered=digits.classes_covered if digits else None,
                    num_classes=real.num_classes or None, critic=losses.is_critic(cfg.loss))
    last = result.log[-1] if result.log else {}
    metrics = {
        **score, "fid_reference": real.name, "time_per_step_ms": result.time_per_step_ms, "steps": result.steps,
        "diverged": result.diverged, "diverged_at": result.diverged_at, "resumed_from": result.resumed_from,
        "params_g": models.count_params(result.G), "params_d": models.count_params(result.D),
        **{f"final_{k}": last.get(k) for k in ("loss_d", "loss_g", "acc_real", "acc_fake")},
        "status": health.status, "failure": "; ".join(health.reasons) or None,
        "tail_acc_fake": health.tail_acc_fake, "pixel_std": health.pixel_std, "diversity_ratio": health.diversity_ratio,
        "colour_ratio": health.colour_ratio,
        **({"health_fid": own_fid} if own is not real else {}), "noise_fid": noise_fid, "confident_share": digits.confident_share if digits else None,
        "classes_covered": digits.classes_covered if digits else None,
        "class_shares": list(digits.class_shares) if digits else None,
    }
    atomic_write_json(out / "metrics.json", metrics)
    write_manifest(out, experiment=experiment, scale=scale, config=cfg.to_dict(), seed=cfg.seed, cell=cell or {},
                   run_id=run_id, datasets=[data.name], fid_features=net.name, feature_network=net_info,
                   device_used=result.device, wall_time_s=time.time() - t_start)
    if not keep_checkpoint:
        (out / "checkpoint.pt").unlink(missing_ok=True)  # the run is complete; its checkpoint has done its job
    return metrics
