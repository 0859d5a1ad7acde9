"""One training run, end to end: train (checkpointing and resuming), score by FID, write the run's artifacts.

`analysis/train.ipynb` calls `run_training` once per job; aggregate notebooks call it for their tiny default demo,
so that every notebook runs on its own with its default parameters (nbval) through the same code path.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from gan import models
from gan.config import DataConfig, TrainConfig
from gan.data import cache_dir, load_dataset
from gan.metrics import feature_network, score_samples
from gan.plots import loss_curves, save_image_grid
from gan.runs import atomic_savefig, atomic_write_csv, atomic_write_json, write_manifest
from gan.train import LOG_COLUMNS, generate, train

GRID_SEED, FID_SEED = 12345, 777  # fixed noise for sample grids and FID samples, apart from training's RNG


def run_training(out_dir: str | Path, *, experiment: str, run_id: str, scale: str, train_config: dict[str, Any],
                 cell: dict[str, Any] | None = None, fid_network: str = "lenet", fid_samples: int = 256,
                 fid_reference: dict[str, Any] | None = None, inception_weights: str | None = None,
                 progress: bool = True, keep_checkpoint: bool = False) -> dict[str, Any]:
    """Train one GAN into `out_dir` and write metrics.json, losses.csv.gz (every step), samples.png, losses.png,
    manifest.json.

    FID compares `fid_samples` generated images with the real set `fid_reference` (default: the training set
    without augmentation), in the feature network `fid_network`. A diverged run gets FID null and its flag."""
    t_start = time.time()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg = TrainConfig.from_dict(train_config)  # validated before anything is trained or written
    data = load_dataset(cfg.data)
    result = train(cfg, data, run_dir=out, progress=progress)

    grid_labels = torch.arange(data.num_classes).repeat_interleave(8) if models.is_conditional(result.G) else None
    grid = generate(result.G, 64 if grid_labels is None else len(grid_labels), cfg.z_dim, seed=GRID_SEED,
                    labels=grid_labels, pixel_range=cfg.data.pixel_range)
    save_image_grid(grid, out / "samples.png", nrow=8)
    atomic_write_csv(out / "losses.csv.gz", result.log, LOG_COLUMNS)
    import matplotlib.pyplot as plt

    fig = loss_curves(result.log, f"{experiment} / {run_id}")
    atomic_savefig(fig, out / "losses.png")
    plt.close(fig)

    if fid_reference is not None:
        real = load_dataset(fid_reference)
    elif cfg.data.augment != "none":
        real = load_dataset(DataConfig(**{**cfg.data.__dict__, "augment": "none"}))
    else:
        real = data
    net, net_info = feature_network(fid_network, real, inception_weights=inception_weights)
    score: dict[str, Any] = {"fid": None, "fid_features": net.name, "fid_samples": fid_samples,
                             "fid_reference_images": len(real)}
    if not result.diverged:
        labels = torch.arange(fid_samples) % data.num_classes if models.is_conditional(result.G) else None
        fake = generate(result.G, fid_samples, cfg.z_dim, seed=FID_SEED, labels=labels, pixel_range=cfg.data.pixel_range)
        score = score_samples(net, fake, real.images, cache=cache_dir())  # reference statistics once per set
    last = result.log[-1] if result.log else {}
    metrics = {
        **score, "fid_reference": real.name, "time_per_step_ms": result.time_per_step_ms, "steps": result.steps,
        "diverged": result.diverged, "diverged_at": result.diverged_at, "resumed_from": result.resumed_from,
        "params_g": models.count_params(result.G), "params_d": models.count_params(result.D),
        **{f"final_{k}": last.get(k) for k in ("loss_d", "loss_g", "acc_real", "acc_fake")},
    }
    atomic_write_json(out / "metrics.json", metrics)
    write_manifest(out, experiment=experiment, scale=scale, config=cfg.to_dict(), seed=cfg.seed, cell=cell or {},
                   run_id=run_id, datasets=[data.name], fid_features=net.name, feature_network=net_info,
                   device_used=result.device, wall_time_s=time.time() - t_start)
    if not keep_checkpoint:
        (out / "checkpoint.pt").unlink(missing_ok=True)  # the run is complete; its checkpoint has done its job
    return metrics


def demo_runs(exp_dir: str | Path | None, experiment: str, cells: dict[str, tuple[dict[str, Any], dict[str, Any]]],
              fid_samples: int = 128) -> tuple[Path, list[str]]:
    """Tiny runs for an aggregate notebook's defaults: {run_id: (cell labels, train config)} -> (exp_dir, ids)."""
    d = Path(exp_dir or tempfile.mkdtemp(prefix=f"gan-{experiment}-"))
    for rid, (cell, cfg) in cells.items():
        run_training(d / "runs" / rid, experiment=experiment, run_id=rid, scale="demo", train_config=cfg, cell=cell,
                     fid_samples=fid_samples, progress=False)
    return d, list(cells)
