"""Wall time of the thesis's experiments at a scale, extrapolated from measured time per step of each cell.

Method. `config/config.yaml` defines every training run of every experiment at every scale (the runs are
enumerated by the registry (gan.experiments), as the workflow enumerates them: dense_conv = archs x seeds, depth_grid = g_depths x d_depths
x seeds, augmentation = augmentations x seeds, afhq = seeds). Runs that share model, model kwargs, batch size,
augmentation and image shape share a time per step, so each such *cell* is measured once on this device with
`gan.train.train`: on CUDA by the loop's own wall clock (which leaves out the first WARMUP_STEPS); on the CPU, by
default, as CPU time with one torch thread (these 2 cores are shared, and the mnist5k jobs run on one thread each),
the difference between a run of 1 + --timed-steps steps and a run of 1 step (the faster of two), so that set-up
and the first step's lazy initialisation cancel. Where one step takes seconds (AFHQ at full width on the CPU), 2 steps minus 1. Then

    run time  = steps x time per step + FID time ((fid_samples + reference images) / feature images per s)
    total     = sum over runs

The reference images count once per experiment: `gan.run.run_training` caches the real set's statistics on
disk (`reference_stats(..., cache=...)`), so only the first run of an experiment computes them (the training set:
60,000 MNIST digits at full scale).

Feature speed comes from benchmarks/results/fid_speed_<device>.json (Inception, written by fid_speed.py) or is
measured here (LeNet-FID). Left out: data loading, sample generation, checkpoint writes, process start-up
(seconds per run). The data sets the `full` scale reads (MNIST 60k, AFHQ) are not on this machine; time per step
does not depend on the set's size, so cells are timed on same-shaped stand-ins (MNIST-5k, photo patches), named
in the table. AFHQ time per epoch = (images // batch) steps.

    python benchmarks/wallclock.py                         # CPU, both scales: about 4 minutes on 2 cores
    python benchmarks/wallclock.py --device cuda --scales full --write-md benchmarks/thesis_wallclock.md
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from common import REPO, clock, environment, load_average, print_header, resolve, set_clock, write_json  # noqa: I001

import torch
import yaml

from gan import experiments
from gan.checks import parse_train
from gan.config import DataConfig
from gan.data import load_dataset
from gan.train import WARMUP_STEPS, train

MNIST_EXPERIMENTS = ("dense_conv", "depth_grid", "augmentation")
STANDIN = {"mnist": {"name": "mnist5k"}, "afhq_cat": {"name": "photo_patches", "limit": 2048}}
BEGIN, END = "<!-- wallclock:begin", "<!-- wallclock:end -->"


def runs_of(config: dict, experiment: str, scale: str) -> list[dict[str, Any]]:
    """Every training run of an experiment at a scale (the registry's runs): its train config and FID sample count."""
    exp = experiments.get(experiment)
    p = exp.parse(experiments.block_params(config["experiments"][experiment], scale))
    return [{"train": spec.train, "fid_samples": spec.fid_samples} for spec in exp.run_specs(p).values()]


def cell_key(train_cfg: dict) -> str:
    d = train_cfg.get("data", {})
    kw = ",".join(f"{k}={v}" for k, v in sorted(train_cfg.get("model_kwargs", {}).items()))
    return (f"{train_cfg.get('model', 'dcgan28')}({kw}) batch {train_cfg.get('batch_size', 32)}"
            + (f" aug {d['augment']}" if d.get("augment", "none") != "none" else "")
            + (f" {d['image_size']}px" if d.get("image_size") else ""))


def timing_config(train_cfg: dict, device: torch.device, steps: int) -> dict:
    d = dict(train_cfg.get("data", {}))
    if d.get("name") in STANDIN:
        d = {**{k: v for k, v in d.items() if k not in ("name", "root")}, **STANDIN[d["name"]]}
    return {**train_cfg, "data": d, "steps": steps, "device": device.type, "checkpoint_every": 10**9,
            "log_every": max(1, min(train_cfg.get("log_every", 10), steps)), "seed": 0}


def time_cell(train_cfg: dict, device: torch.device, timed_steps: int, slow_s: float, kind: str) -> tuple[float, str, str]:
    """Seconds per step of one cell, how it was measured, and the data it ran on."""
    now = clock(kind)
    cfg1 = timing_config(train_cfg, device, 1)
    data = load_dataset(DataConfig.from_dict(cfg1["data"]))
    one = float("inf")
    for _ in range(2):  # noise only ever adds time: the smaller of two 1-step runs is the better estimate
        t = now()
        train(parse_train(cfg1), data, progress=False)
        one = min(one, now() - t)
    if kind == "wall" and one <= slow_s:
        r = train(parse_train(timing_config(train_cfg, device, WARMUP_STEPS + timed_steps)), data, progress=False)
        return r.time_per_step_ms / 1000, f"train's wall clock, {timed_steps} steps after {WARMUP_STEPS}", data.name
    n = 1 if one > slow_s else timed_steps  # a slow cell: one step is enough
    t = now()
    train(parse_train(timing_config(train_cfg, device, 1 + n)), data, progress=False)
    return max(now() - t - one, 1e-9) / n, f"{kind} time, {1 + n}-step minus 1-step run", data.name


def lenet_images_per_s(device: torch.device, kind: str, n: int = 2000) -> float:
    from gan.metrics.features import LeNetFID, extract_features

    net = LeNetFID(1, 10, "LeNet-FID (untrained, for timing)", "timing").to(device)
    x = load_dataset(DataConfig.from_dict({"name": "mnist5k"})).images[:n]
    extract_features(net, x[:100])
    now = clock(kind)
    t = now()
    extract_features(net, x)
    return n / (now() - t)


def hours(s: float) -> str:
    return f"{s / 3600:.2f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--scales", default="mnist5k,full")
    p.add_argument("--config", default=str(REPO / "config" / "config.yaml"))
    p.add_argument("--timed-steps", type=int, default=8)
    p.add_argument("--slow-step-s", type=float, default=4.0, help="a 1-step run longer than this is timed by difference")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: 1 with --clock cpu, else torch's)")
    p.add_argument("--clock", default="auto", choices=["auto", "wall", "cpu"],
                   help="auto: wall time on CUDA, process CPU time on the CPU")
    p.add_argument("--afhq-images", type=int, default=5153, help="AFHQ cat training images (AFHQ v1 train/cat)")
    p.add_argument("--inception-images-per-s", type=float, default=None, help="default: ours, from --fid-json")
    p.add_argument("--fid-json", default=None, help="fid_speed.py's result (default: benchmarks/results/fid_speed_<device>.json)")
    p.add_argument("--jobs", type=int, default=None, help="runs at once on this machine (default: cores / threads "
                   "on the CPU, as snakemake --cores runs one-thread jobs side by side; 1 on CUDA)")
    p.add_argument("--goal-hours", type=float, default=1.0, help="the issue's goal for the MNIST experiments")
    p.add_argument("--json", default=None)
    p.add_argument("--write-md", default=None, help="replace the generated block of this markdown file")
    a = p.parse_args()

    device = resolve(a.device)
    set_clock(a, device)
    a.jobs = a.jobs or (1 if device.type == "cuda" else max(1, (os.cpu_count() or 1) // torch.get_num_threads()))
    env = environment(device)
    print_header(env)
    config = yaml.safe_load(Path(a.config).read_text())
    scales = a.scales.split(",")

    incep = a.inception_images_per_s
    fid_json = Path(a.fid_json or REPO / "benchmarks" / "results" / f"fid_speed_{device.type}.json").resolve()
    incep_src = "--inception-images-per-s"
    if incep is None and fid_json.exists():
        j = json.loads(fid_json.read_text())
        incep = next(r["images_per_s"] for r in j["rows"] if r["path"] == "ours")
        incep_src = f"{fid_json.name}, {j['args']['n']} images ({j['env']['date']})"
    lenet = lenet_images_per_s(device, a.clock)
    feature_speed = {"lenet": (lenet, "measured here"), "inception": (incep, incep_src)}

    cells: dict[str, dict[str, Any]] = {}
    plan: list[dict[str, Any]] = []
    t_all = time.perf_counter()
    for scale in scales:
        net = config["fid"]["network"][scale]
        net = "inception" if net == "auto" else net  # at full scale, auto means Inception where the weights are
        for exp in (*MNIST_EXPERIMENTS, "afhq"):
            for run in runs_of(config, exp, scale):
                key = cell_key(run["train"])
                if key not in cells:
                    sec, how, data_name = time_cell(run["train"], device, a.timed_steps, a.slow_step_s, a.clock)
                    cells[key] = {"cell": key, "s_per_step": sec, "method": how, "timed_on": data_name,
                                  "scales": [scale], "load": load_average()}
                    print(f"{scale:8s} {key:60s} {1000 * sec:9.1f} ms/step  ({how}; {data_name}; load {load_average()})",
                          flush=True)
                elif scale not in cells[key]["scales"]:
                    cells[key]["scales"].append(scale)
                plan.append({"scale": scale, "experiment": exp, "cell": key, "steps": run["train"]["steps"],
                             "batch": run["train"]["batch_size"], "fid_samples": run["fid_samples"], "fid_net": net,
                             "reference_images": reference_images(run["train"], a.afhq_images)})

    # --- extrapolation ---
    rows = []
    for scale in scales:
        for exp in (*MNIST_EXPERIMENTS, "afhq"):
            runs = [r for r in plan if r["scale"] == scale and r["experiment"] == exp]
            train_s = sum(r["steps"] * cells[r["cell"]]["s_per_step"] for r in runs)
            speed, _ = feature_speed[runs[0]["fid_net"]]
            nan = float("nan")
            fid_s = sum(r["fid_samples"] for r in runs) / speed if speed else nan
            ref_once_s = runs[0]["reference_images"] / speed if speed else nan
            rows.append({"scale": scale, "experiment": exp, "runs": len(runs), "steps_per_run": runs[0]["steps"],
                         "batch": runs[0]["batch"], "fid_net": runs[0]["fid_net"], "train_s": train_s, "fid_s": fid_s,
                         "reference_images": runs[0]["reference_images"], "reference_once_s": ref_once_s,
                         "reference_per_run_s": ref_once_s * len(runs)})
    afhq = []
    for scale in scales:
        r = next(r for r in plan if r["scale"] == scale and r["experiment"] == "afhq")
        steps_per_epoch = a.afhq_images // r["batch"]
        s = cells[r["cell"]]["s_per_step"]
        afhq.append({"scale": scale, "cell": r["cell"], "steps_per_epoch": steps_per_epoch, "epoch_s": steps_per_epoch * s,
                     "config_steps": r["steps"], "config_epochs": r["steps"] / steps_per_epoch,
                     "thesis_4000_epochs_s": 4000 * steps_per_epoch * s})

    budget = []
    for scale in scales:
        mnist_runs = [r for r in plan if r["scale"] == scale and r["experiment"] != "afhq"]
        steps = sum(r["steps"] for r in mnist_runs)
        measured = sum(r["steps"] * cells[r["cell"]]["s_per_step"] for r in mnist_runs)
        budget.append({"scale": scale, "runs": len(mnist_runs), "steps": steps, "mean_ms_per_step": 1000 * measured / steps,
                       "goal_ms_per_step": 1000 * a.goal_hours * 3600 / steps})
    md = render(env, cells, rows, afhq, feature_speed, a, budget)
    print("\n" + md)
    env["load_after"] = load_average()
    print(f"# load after: {env['load_after']}; measuring took {time.perf_counter() - t_all:.0f} s")
    write_json(a.json, {"benchmark": "wallclock", "env": env, "args": vars(a), "cells": list(cells.values()),
                        "experiments": rows, "afhq": afhq, "budget": budget,
                        "feature_images_per_s": {k: v[0] for k, v in feature_speed.items()}})
    if a.write_md:
        path = Path(a.write_md)
        text = path.read_text()
        i, j = text.index(BEGIN), text.index(END)
        block = f"{BEGIN} (written by benchmarks/wallclock.py; do not edit by hand) -->\n{md}\n"
        path.write_text(text[:i] + block + text[j:])
        print(f"# wrote the generated block of {path}")


def reference_images(train_cfg: dict, afhq_images: int) -> int:
    """How many real images the FID reference has: the training set without augmentation."""
    d = train_cfg["data"]
    n = {"mnist": 60000, "mnist5k": 5000, "afhq_cat": afhq_images}.get(d["name"], d.get("limit") or 0)
    return min(n, d["limit"]) if d.get("limit") else n


def render(env, cells, rows, afhq, feature_speed, a, budget) -> str:
    dev = env["device"]
    clock_note = ("wall time" if a.clock == "wall" else
                  f"CPU time with {a.threads} torch thread(s), i.e. the wall time of one job on an otherwise idle core")
    out = [f"Measured {env['date']} on {dev}; torch {env['torch']}; load before {env['load_before']}; "
           f"command `{env['command']}`. Clock: {clock_note}.", "",
           "**Time per step of each cell** (one generator step and one discriminator step, fp32 defaults of the device):", "",
           "| cell | scales | ms/step | timed on | method |", "|---|---|---:|---|---|"]
    for c in cells.values():
        out.append(f"| {c['cell']} | {', '.join(c['scales'])} | {1000 * c['s_per_step']:.1f} | {c['timed_on']} | {c['method']} |")
    lenet, incep = feature_speed["lenet"], feature_speed["inception"]
    out += ["", f"FID feature speed: LeNet-FID {lenet[0]:.0f} images/s ({lenet[1]}); Inception-v3 "
            + (f"{incep[0]:.1f} images/s ({incep[1]})" if incep[0] else "not measured on this device"), "",
            "**Extrapolated wall time on this device** (hours, one run after another; the real set's FID statistics "
            "are computed once per experiment and cached):", "",
            "| scale | experiment | runs | steps/run | batch | train h | FID net | FID samples h | reference images | total h |",
            "|---|---|---:|---:|---:|---:|---|---:|---:|---:|"]
    for scale in dict.fromkeys(r["scale"] for r in rows):
        tot = mnist = 0.0
        for r in (x for x in rows if x["scale"] == scale):
            t = r["train_s"] + r["fid_s"] + r["reference_once_s"]
            tot += t
            mnist += t if r["experiment"] != "afhq" else 0.0
            out.append(f"| {scale} | {r['experiment']} | {r['runs']} | {r['steps_per_run']} | {r['batch']} | "
                       f"{hours(r['train_s'])} | {r['fid_net']} | {hours(r['fid_s'])} | {r['reference_images']} | {hours(t)} |")
        out.append(f"| **{scale}** | **MNIST experiments (all but AFHQ)** | | | | | | | | **{hours(mnist)}** |")
        out.append(f"| **{scale}** | **everything** | | | | | | | | **{hours(tot)}** |")
        if a.jobs > 1:
            out.append(f"| {scale} | MNIST experiments, {a.jobs} jobs at once | | | | | | | | {hours(mnist / a.jobs)} |")
    out += ["", f"**Budget for the goal of {a.goal_hours:g} hour(s) for the MNIST experiments:**", ""]
    for b in budget:
        out.append(f"- {b['scale']}: {b['runs']} runs, {b['steps']:,} steps; to fit {a.goal_hours:g} h, a step must average "
                   f"at most {b['goal_ms_per_step']:.2f} ms with FID free (less the FID time); measured here: "
                   f"{b['mean_ms_per_step']:.2f} ms on average, {b['mean_ms_per_step'] / b['goal_ms_per_step']:.1f}x the budget.")
    out += ["", f"**AFHQ cats at 64x64** ({a.afhq_images} training images, last partial batch dropped):", "",
            "| scale | cell | steps/epoch | time/epoch | config steps (epochs) | thesis's 4,000 epochs |",
            "|---|---|---:|---:|---:|---:|"]
    for r in afhq:
        out.append(f"| {r['scale']} | {r['cell']} | {r['steps_per_epoch']} | {r['epoch_s'] / 60:.1f} min | "
                   f"{r['config_steps']} ({r['config_epochs']:.0f}) | {r['thesis_4000_epochs_s'] / 3600:.0f} h |")
    return "\n".join(out)


if __name__ == "__main__":
    main()
