"""Training throughput: our loop (`gan.train.train`) against a pytorch/examples-style DCGAN loop, side by side.

The baseline is the loop of pytorch/examples `dcgan/main.py`, on the *same* generator and discriminator (ours,
with an `nn.Sigmoid` appended to D): fp32, a `DataLoader` over a Dataset, `nn.BCELoss` on probabilities,
separate backward passes for D on real and on fake, non-fused Adam, and the `.item()` calls the example makes
every step for its log line. Two data paths are timed for it:
- `examples`: a Dataset that does what `torchvision.datasets.MNIST` does per image (uint8 array -> PIL image ->
  `ToTensor` -> `Normalize`), as the example uses it;
- `examples_tensor`: the same loop over a `TensorDataset` of images normalised once up front (a stronger baseline).
One difference in work, in the baseline's favour: the example reuses D's fake batch for G's update, so it runs G
forward once per step; our loop draws fresh noise for G's update (Goodfellow et al.'s Algorithm 1), twice.
`examples_fresh_z` is the example's loop and data path doing that same work (a second G forward on fresh noise),
so that the ratio against it compares the loops' overhead alone.

Our loop runs in variants (TrainConfig fields), so that each change is timed on its own:
fp32 (data resident on the device, logit losses, fused Adam on CUDA) -> channels_last -> bf16 autocast ->
bf16 + channels_last (the CUDA default) -> + torch.compile.

Clock: on CUDA, wall time (GPU work is asynchronous; syncs bracket the timed steps). On the CPU, by default the
process's CPU time with one torch thread (--clock cpu): these machines' 2 cores are shared, and wall time there
measures the neighbours as much as the loop. Our loop's CPU time per step is the difference between a run of
WARMUP_STEPS + --steps steps and one of WARMUP_STEPS steps (set-up and warm-up cancel).

Protocol: correctness first (each variant against our fp32 reference on the same seed: the per-step losses of the
first --check-steps steps within fp32 or bf16 tolerance, and the baseline's BCELoss equal to our logit loss on one
batch), then --repeats interleaved rounds of every loop (the order rotates each round), each a fresh run of
--warmup untimed plus --steps timed generator steps; the median per-step time is reported. images/s counts real
images seen by D per second (batch size / step time; one D update per G update).

    python benchmarks/train_throughput.py                  # CPU defaults: about 2 minutes on 2 cores
    python benchmarks/train_throughput.py --device cuda    # every variant, GPU-sized steps
    python benchmarks/train_throughput.py --variants fp32,channels_last,compile --json benchmarks/results/x.json
"""

from __future__ import annotations

import argparse
import json
import math
import time
from typing import Any, Callable

import numpy as np

from common import clock, environment, load_average, median, print_header, resolve, set_clock, sync, write_json  # noqa: I001

import torch
from torch import nn

from gan import losses, models
from gan.checks import parse_train
from gan.config import DataConfig
from gan.data import ImageSet, load_dataset, to_float
from gan.train import WARMUP_STEPS, train

# name -> (TrainConfig fields, needs CUDA, what it adds)
VARIANTS: dict[str, tuple[dict[str, Any], bool, str]] = {
    "fp32": ({"precision": "fp32", "channels_last": False, "compile": False}, False,
             "resident uint8 data, logit losses, one sync per log interval; fused Adam on CUDA"),
    "channels_last": ({"precision": "fp32", "channels_last": True, "compile": False}, False, "+ channels_last"),
    "bf16": ({"precision": "bf16", "channels_last": False, "compile": False}, True, "+ bf16 autocast (NCHW)"),
    "bf16_cl": ({"precision": "bf16", "channels_last": True, "compile": False}, True,
                "bf16 autocast + channels_last: the CUDA default"),
    "compile": ({"precision": "auto", "channels_last": True, "compile": True}, False,
                "+ torch.compile of G and D (with channels_last; bf16 on CUDA, fp32 on the CPU)"),
}
BASELINES = {"examples": "pytorch/examples loop, per-image PIL -> ToTensor -> Normalize",
             "examples_tensor": "pytorch/examples loop over a TensorDataset",
             "examples_fresh_z": "pytorch/examples loop (PIL data path) with fresh noise for G's update, as ours"}
CHECK_TOL = {"fp32": 1e-3, "bf16": 5e-2}  # max |loss - reference| / max(1, |reference|) over the checked steps


# --- the baseline: pytorch/examples dcgan/main.py, on our architecture ------------------------------------------


class ExamplesStyleImages(torch.utils.data.Dataset):
    """What torchvision.datasets.MNIST does per item: array -> PIL image -> transform (ToTensor, Normalize)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor | None, symmetric: bool) -> None:
        import torchvision.transforms as T

        self.arrays = images.permute(0, 2, 3, 1).numpy()  # HWC uint8, as a PIL image is made from
        self.labels = labels if labels is not None else torch.zeros(len(images), dtype=torch.long)
        c = images.shape[1]
        steps = [T.ToTensor()] + ([T.Normalize((0.5,) * c, (0.5,) * c)] if symmetric else [])
        self.transform = T.Compose(steps)

    def __len__(self) -> int:
        return len(self.arrays)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        from PIL import Image

        a = self.arrays[i]
        img = Image.fromarray(a[:, :, 0], mode="L") if a.shape[2] == 1 else Image.fromarray(a, mode="RGB")
        return self.transform(img), int(self.labels[i])


def baseline_loader(data: ImageSet, kind: str, batch: int, workers: int, symmetric: bool, seed: int):
    if kind in ("examples", "examples_fresh_z"):
        ds = ExamplesStyleImages(data.images, data.labels, symmetric)
    else:
        x = to_float(data.images, "symmetric" if symmetric else "unit")
        ds = torch.utils.data.TensorDataset(x, torch.zeros(len(x), dtype=torch.long))
    g = torch.Generator().manual_seed(seed)
    return torch.utils.data.DataLoader(ds, batch_size=batch, shuffle=True, num_workers=workers, drop_last=True,
                                       generator=g)


def run_baseline(kind: str, data: ImageSet, a: argparse.Namespace, device: torch.device, seed: int) -> float:
    """Seconds per step of the pytorch/examples loop, after `a.warmup` untimed steps."""
    torch.backends.cudnn.benchmark = True  # as the example sets it
    torch.manual_seed(seed)
    G, D = models.build(a.model, a.z_dim, **a.model_kwargs)
    netG, netD = G.to(device), nn.Sequential(D, nn.Sigmoid()).to(device)
    criterion = nn.BCELoss()
    optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    loader = baseline_loader(data, kind, a.batch, a.workers, a.pixel_range == "symmetric", seed)
    it = iter(loader)
    real_label, fake_label = 1.0, 0.0
    now = clock(a.clock)
    t0 = 0.0
    for step in range(a.warmup + a.steps):
        if step == a.warmup:
            sync(device)
            t0 = now()
        try:
            batch = next(it)
        except StopIteration:  # next epoch, as the example's outer loop does
            it = iter(loader)
            batch = next(it)
        netD.zero_grad()
        real = batch[0].to(device)
        b = real.size(0)
        label = torch.full((b,), real_label, dtype=real.dtype, device=device)
        output = netD(real)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()
        noise = torch.randn(b, a.z_dim, device=device)
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach())
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        optD.step()
        netG.zero_grad()
        label.fill_(real_label)
        if kind == "examples_fresh_z":
            fake = netG(torch.randn(b, a.z_dim, device=device))
        output = netD(fake)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        optG.step()
        print_every_step = (errD.item(), errG.item(), D_x, D_G_z1, D_G_z2)  # the example prints these (a host sync each)
        del print_every_step
    sync(device)
    return (now() - t0) / a.steps


# --- our loop ----------------------------------------------------------------------------------------------------


def our_config(a: argparse.Namespace, variant: str, steps: int, seed: int, device: torch.device) -> dict[str, Any]:
    fields = dict(VARIANTS[variant][0])
    if variant == "compile" and device.type == "cpu":
        fields["precision"] = "fp32"
    return {"model": a.model, "model_kwargs": a.model_kwargs, "z_dim": a.z_dim, "steps": steps,
            "batch_size": a.batch, "seed": seed, "device": device.type, "log_every": a.log_every,
            "checkpoint_every": 10**9, "threads": a.threads,
            "data": {"name": a.data, "pixel_range": a.pixel_range, **({"image_size": a.image_size} if a.image_size else {})},
            **fields}


def run_ours(variant: str, data: ImageSet, a: argparse.Namespace, device: torch.device, seed: int) -> float:
    """Seconds per step of `gan.train.train`: wall time from its own clock (which leaves out its first
    WARMUP_STEPS), or CPU time as (run of WARMUP_STEPS + steps) - (run of WARMUP_STEPS)."""
    if a.clock == "wall":
        r = train(parse_train(our_config(a, variant, WARMUP_STEPS + a.steps, seed, device)), data, progress=False)
        if r.diverged:
            raise RuntimeError(f"variant {variant} diverged at step {r.diverged_at}")
        return r.time_per_step_ms / 1000.0
    now = clock("cpu")
    t0 = now()
    train(parse_train(our_config(a, variant, WARMUP_STEPS, seed, device)), data, progress=False)
    t1 = now()
    train(parse_train(our_config(a, variant, WARMUP_STEPS + a.steps, seed, device)), data, progress=False)
    t2 = now()
    return ((t2 - t1) - (t1 - t0)) / a.steps


# --- correctness first ---------------------------------------------------------------------------------------------


def check(a: argparse.Namespace, variants: list[str], data: ImageSet, device: torch.device) -> list[dict[str, Any]]:
    out = []
    ref = train(parse_train(our_config(a, "fp32", a.check_steps, a.seed, device)), data, progress=False)
    ref_losses = np.array([[r["loss_d"], r["loss_g"]] for r in ref.log])
    for v in variants:
        if v == "fp32":
            continue
        r = train(parse_train(our_config(a, v, a.check_steps, a.seed, device)), data, progress=False)
        got = np.array([[row["loss_d"], row["loss_g"]] for row in r.log])
        dev = float(np.max(np.abs(got - ref_losses) / np.maximum(1.0, np.abs(ref_losses))))
        prec = our_config(a, v, 1, 0, device)["precision"]
        kind = "bf16" if prec == "bf16" or (prec == "auto" and device.type == "cuda") else "fp32"
        ok = math.isfinite(dev) and dev <= CHECK_TOL[kind]
        out.append({"what": f"{v} vs fp32 reference, losses of the first {a.check_steps} steps",
                    "max_rel_dev": dev, "tolerance": CHECK_TOL[kind], "ok": ok})
    # The baseline optimises the same objective: BCELoss on sigmoid(D) equals our loss on D's logits.
    torch.manual_seed(a.seed)
    G, D = models.build(a.model, a.z_dim, **a.model_kwargs)
    real = to_float(data.images[: a.batch], a.pixel_range)
    with torch.no_grad():
        lr, lf = D(real), D(G(torch.randn(a.batch, a.z_dim)))
        bce = nn.BCELoss()
        theirs = (bce(torch.sigmoid(lr), torch.ones_like(lr)) + bce(torch.sigmoid(lf), torch.zeros_like(lf))).item()
        ours = losses.d_loss("non_saturating", lr, lf).item()
    dev = abs(theirs - ours) / max(1.0, abs(ours))
    out.append({"what": "baseline BCELoss(sigmoid) == our logit D loss on one batch", "max_rel_dev": dev,
                "tolerance": 1e-5, "ok": dev <= 1e-5})
    return out


# --- main ---------------------------------------------------------------------------------------------------------


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--model", default="dcgan28", help="a name in gan.models.MODELS")
    p.add_argument("--model-kwargs", default="{}", type=json.loads, help='JSON, e.g. \'{"width": 64, "g_depth": 4}\'')
    p.add_argument("--data", default="mnist5k", help="a name in gan.data.DATASETS")
    p.add_argument("--image-size", type=int, default=None)
    p.add_argument("--pixel-range", default="symmetric", choices=["symmetric", "unit"], help="unit for the seminar model")
    p.add_argument("--z-dim", type=int, default=100)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=None, help="timed steps per run (default: 30 on CPU, 300 on CUDA)")
    p.add_argument("--warmup", type=int, default=WARMUP_STEPS, help="untimed steps of the baseline "
                   "(our loop leaves out its own first WARMUP_STEPS)")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--variants", default=None, help=f"comma list of {', '.join(VARIANTS)} "
                   "(default: fp32,channels_last on CPU; all on CUDA)")
    p.add_argument("--baselines", default=",".join(BASELINES), help="the first is the reference of the ratios")
    p.add_argument("--workers", type=int, default=None, help="baseline DataLoader workers "
                   "(default: 0 on CPU, where the cores are shared; 2 on CUDA, the example's default)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: 1 with --clock cpu, else torch's)")
    p.add_argument("--clock", default="auto", choices=["auto", "wall", "cpu"],
                   help="auto: wall time on CUDA, process CPU time on the CPU")
    p.add_argument("--log-every", type=int, default=10, help="our loop's sync interval (TrainConfig.log_every)")
    p.add_argument("--check-steps", type=int, default=10, help="steps compared in the correctness check (0: skip)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None, help="write the results here")
    a = p.parse_args()

    device = resolve(a.device)
    set_clock(a, device)
    a.steps = a.steps or (300 if device.type == "cuda" else 30)
    a.workers = a.workers if a.workers is not None else (2 if device.type == "cuda" else 0)
    variants = a.variants.split(",") if a.variants else (
        list(VARIANTS) if device.type == "cuda" else ["fp32", "channels_last"])
    for v in variants:
        if v not in VARIANTS:
            raise SystemExit(f"unknown variant {v!r}; known: {', '.join(VARIANTS)}")
        if VARIANTS[v][1] and device.type != "cuda":
            raise SystemExit(f"variant {v!r} needs CUDA (bf16 autocast is for CUDA here; TrainConfig refuses it on the CPU)")
    baselines = [b for b in a.baselines.split(",") if b]
    env = environment(device)
    print_header(env)
    data = load_dataset(DataConfig.from_dict({"name": a.data, "pixel_range": a.pixel_range, **({"image_size": a.image_size} if a.image_size else {})}))
    print(f"# model {a.model} {a.model_kwargs}, data {data.name} {tuple(data.images.shape)}, batch {a.batch}, "
          f"{a.steps} timed steps x {a.repeats} repeats, baseline workers {a.workers}, clock {a.clock}, "
          f"torch threads {torch.get_num_threads()}")

    checks: list[dict[str, Any]] = []
    if a.check_steps:
        t = time.perf_counter()
        checks = check(a, variants, data, device)
        for c in checks:
            print(f"check {'PASS' if c['ok'] else 'FAIL'}: {c['what']}: max rel. deviation {c['max_rel_dev']:.2e} "
                  f"(tolerance {c['tolerance']:.0e})")
        print(f"# checks took {time.perf_counter() - t:.1f} s")
        if not all(c["ok"] for c in checks):
            raise SystemExit("correctness check failed: not timing a loop that computes something else")

    runs: list[tuple[str, Callable[[int], float]]] = (
        [(f"ours:{v}", lambda s, v=v: run_ours(v, data, a, device, s)) for v in variants]
        + [(f"baseline:{b}", lambda s, b=b: run_baseline(b, data, a, device, s)) for b in baselines])
    times: dict[str, list[float]] = {name: [] for name, _ in runs}
    t_all = time.perf_counter()
    for rep in range(a.repeats):
        k = rep % len(runs)
        for name, fn in runs[k:] + runs[:k]:
            times[name].append(fn(a.seed + rep))
        print(f"# round {rep + 1}/{a.repeats} done ({time.perf_counter() - t_all:.0f} s, load {load_average()})", flush=True)

    med = {n: median(ts) for n, ts in times.items()}
    ref_name = f"baseline:{baselines[0]}" if baselines else None
    rows = []
    print(f"\n| loop | variant | {a.clock} ms/step (median) | min-max ms | images/s | x vs " + (ref_name or "-") + " |")
    print("|---|---|---:|---:|---:|---:|")
    for n, ts in times.items():
        kind, v = n.split(":")
        ratio = med[ref_name] / med[n] if ref_name else float("nan")
        rows.append({"loop": kind, "variant": v, "ms_per_step": 1000 * med[n], "runs_ms": [1000 * t for t in ts],
                     "images_per_s": a.batch / med[n], "x_vs_examples": ratio,
                     "what": VARIANTS[v][2] if kind == "ours" else BASELINES[v]})
        print(f"| {kind} | {v} | {1000 * med[n]:.1f} | {1000 * min(ts):.1f}-{1000 * max(ts):.1f} | "
              f"{a.batch / med[n]:.0f} | {ratio:.2f} |")
    ours = {n: t for n, t in med.items() if n.startswith("ours:")}
    best = min(ours, key=ours.get)
    default = "ours:bf16_cl" if device.type == "cuda" and "ours:bf16_cl" in ours else "ours:fp32"
    summary = {}
    if ref_name:
        summary = {"best_variant": best.split(":")[1], "best_x": med[ref_name] / med[best],
                   "default_variant": default.split(":")[1], "default_x": med[ref_name] / med.get(default, math.nan)}
        for b in baselines[1:]:
            summary[f"best_x_vs_{b}"] = med[f"baseline:{b}"] / med[best]
        print(f"\nratio (images/s, ours / pytorch-examples loop): best variant {summary['best_variant']}: "
              f"{summary['best_x']:.2f}x; device default ({summary['default_variant']}): {summary['default_x']:.2f}x"
              + "".join(f"; best vs {b}: {summary[f'best_x_vs_{b}']:.2f}x" for b in baselines[1:]))
    env["load_after"] = load_average()
    print(f"# load after: {env['load_after']}; total {time.perf_counter() - t_all:.0f} s")
    write_json(a.json, {"benchmark": "train_throughput", "env": env, "args": vars(a), "data": data.name,
                        "checks": checks, "rows": rows, "summary": summary})


if __name__ == "__main__":
    main()
