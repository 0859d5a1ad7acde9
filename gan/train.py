"""The one GAN training loop: every experiment trains through `train`.

What it guarantees:
- a seed makes a CPU run bit-repeatable (models, noise, batch order, augmentation and dropout draw from seeded
  generators, and the batch order is a pure function of (seed, step));
- a run checkpoints every `checkpoint_every` steps (atomically) and resumes from `run_dir/checkpoint.pt`; a
  resumed CPU run ends bit-identical to an uninterrupted one;
- a non-finite loss stops the run and is recorded (`diverged`, `diverged_at`) instead of raising;
- each step logs G and D losses, D's accuracy and mean output on real and fake images, and wall time.

On CUDA the same loop takes the fast path by default: data resident on the GPU, bf16 autocast (the losses work
on logits in fp32), channels_last, fused Adam, and optionally torch.compile. On the CPU it is plain fp32.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from gan import losses, models
from gan.config import ConfigError, TrainConfig
from gan.data import BatchOrder, ImageSet, augment, load_dataset, to_float, to_uint8
from gan.data.diffaugment import diff_augment
from gan.provenance import atomic_torch_save

LOG_COLUMNS = ["step", "loss_d", "loss_g", "acc_real", "acc_fake", "d_real", "d_fake"]
WARMUP_STEPS = 5  # excluded from time per step (allocator warm-up, lazy init, compilation)


@dataclass
class TrainResult:
    G: nn.Module
    D: nn.Module
    G_ema: nn.Module | None  # the moving average of G's weights, when cfg.ema > 0
    config: TrainConfig
    data_name: str
    steps: int  # generator steps completed
    diverged: bool
    diverged_at: int | None
    resumed_from: int | None
    time_per_step_ms: float
    device: str
    log: list[dict[str, float]] = field(default_factory=list)

    @property
    def sampler(self) -> nn.Module:
        """The generator that makes samples and FIDs: the weight average when there is one."""
        return self.G_ema if self.G_ema is not None else self.G


@dataclass
class _Setup:
    device: torch.device
    bf16: bool
    channels_last: bool


def resolve_device(cfg: TrainConfig) -> _Setup:
    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device: 'cuda' was asked for, but torch sees no CUDA device")
    dev = torch.device("cuda" if cfg.device == "cuda" or (cfg.device == "auto" and torch.cuda.is_available()) else "cpu")
    if cfg.precision == "bf16" and dev.type == "cpu":
        raise ConfigError("precision: 'bf16' autocast is for CUDA here; use 'fp32' or 'auto' on the CPU")
    bf16 = dev.type == "cuda" and cfg.precision in ("auto", "bf16")
    cl = dev.type == "cuda" if cfg.channels_last is None else cfg.channels_last
    return _Setup(dev, bf16, cl)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _rng_state() -> dict[str, Any]:
    """Every RNG's state as tensors and plain data, so a checkpoint loads with weights_only=True."""
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    s: dict[str, Any] = {"torch": torch.get_rng_state(), "python": random.getstate(),
                         "numpy": [name, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(gauss)]}
    if torch.cuda.is_available():
        s["cuda"] = torch.cuda.get_rng_state_all()
    return s


def _set_rng_state(s: dict[str, Any]) -> None:
    torch.set_rng_state(s["torch"])
    name, keys, pos, has_gauss, gauss = s["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    random.setstate(s["python"])
    if "cuda" in s and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(s["cuda"])


def build_models(cfg: TrainConfig, data: ImageSet) -> tuple[nn.Module, nn.Module]:
    """Seeded model construction, with a clear error if the model does not fit the data."""
    kwargs = dict(cfg.model_kwargs)
    if data.num_classes and "num_classes" in inspect.signature(models.MODELS[cfg.model]).parameters:
        kwargs.setdefault("num_classes", data.num_classes)
    G, D = models.build(cfg.model, cfg.z_dim, **kwargs)
    G.eval()
    with torch.no_grad():
        z = torch.zeros(2, cfg.z_dim)
        y = torch.zeros(2, dtype=torch.long)
        shape = tuple((G(z, y) if models.is_conditional(G) else G(z)).shape[1:])
    G.train()
    if shape != data.shape:
        raise ConfigError(f"model {cfg.model!r} makes images of shape {shape}, but {data.name} has {data.shape}; "
                          "set data.image_size / data.channels or the model's channels / image_size")
    if models.is_conditional(G) and data.labels is None:
        raise ConfigError(f"model {cfg.model!r} is conditional, but {data.name} has no labels")
    return G, D


def train(cfg: TrainConfig, data: ImageSet | None = None, run_dir: str | Path | None = None,
          progress: bool = True, stale_checkpoint: str = "refuse") -> TrainResult:
    """Train one GAN (a config parsed by `gan.checks.parse_train`). With `run_dir`, checkpoint there and resume
    from an existing checkpoint. A checkpoint this run cannot resume from (another config made it, it is past
    `steps`, or it is unreadable) stops the run with the reason (`stale_checkpoint="refuse"`), or is renamed
    checkpoint.stale.pt, kept for whoever wants it, and the run starts afresh ("set_aside": what a workflow job
    wants, which Snakemake reruns because its config changed)."""
    if stale_checkpoint not in ("refuse", "set_aside"):
        raise ValueError(f"stale_checkpoint must be 'refuse' or 'set_aside', got {stale_checkpoint!r}")
    if not isinstance(cfg, TrainConfig):
        raise TypeError(f"train takes a parsed TrainConfig, got {type(cfg).__name__}: use gan.checks.parse_train")
    setup = resolve_device(cfg)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    data = data if data is not None else load_dataset(cfg.data)
    if cfg.batch_size > len(data):
        raise ConfigError(f"batch_size: {cfg.batch_size} is larger than {data.name} ({len(data)} images)")
    seed_everything(cfg.seed)
    G, D = build_models(cfg, data)
    conditional = models.is_conditional(G)
    G.to(setup.device)
    D.to(setup.device)
    if setup.channels_last:
        G.to(memory_format=torch.channels_last)
        D.to(memory_format=torch.channels_last)
    G_ema = copy.deepcopy(G).eval().requires_grad_(False) if cfg.ema else None
    fused = setup.device.type == "cuda"
    if fused:
        torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick the fastest kernels (as pytorch/examples)
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=cfg.betas, eps=cfg.adam_eps, fused=fused)
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=cfg.betas, eps=cfg.adam_eps, fused=fused)

    images = data.images.to(setup.device)
    labels = data.labels.to(setup.device) if data.labels is not None else None
    order = BatchOrder(len(data), cfg.batch_size, cfg.seed)

    ckpt_path = Path(run_dir) / "checkpoint.pt" if run_dir is not None else None
    start, log, resumed_from, train_seconds, timed_steps = 0, [], None, 0.0, 0
    diverged_at: int | None = None
    ck = None
    if ckpt_path is not None and ckpt_path.exists():
        try:
            ck = load_checkpoint(ckpt_path, cfg)
        except StaleCheckpoint as e:
            if stale_checkpoint == "refuse":
                raise
            aside = ckpt_path.with_name("checkpoint.stale.pt")
            ckpt_path.replace(aside)
            print(f"{e.reason}: set aside as {aside}; this run starts afresh", flush=True)
    if ck is not None:
        G.load_state_dict(ck["G"])
        if G_ema is not None:
            G_ema.load_state_dict(ck["G_ema"])
        D.load_state_dict(ck["D"])
        opt_g.load_state_dict(ck["opt_g"])
        opt_d.load_state_dict(ck["opt_d"])
        _set_rng_state(ck["rng"])
        start, log, diverged_at = ck["step"], ck["log"], ck.get("diverged_at")
        train_seconds, timed_steps = ck["train_seconds"], ck["timed_steps"]
        resumed_from = start

    g_step = torch.compile(G) if cfg.compile else G
    d_step = torch.compile(D) if cfg.compile else D
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if setup.bf16 else contextlib.nullcontext

    # The epoch's batch order goes to the device once per epoch: a per-step copy of the indices from pageable
    # host memory would synchronise the GPU every step, so the CPU could never queue work ahead of it.
    epoch_order: dict[int, torch.Tensor] = {}

    def batch(i: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        epoch, j = divmod(i, order.per_epoch)
        if epoch not in epoch_order:
            epoch_order.clear()
            first = epoch * order.per_epoch
            epoch_order[epoch] = torch.cat([order.indices(first + k) for k in range(order.per_epoch)]).to(setup.device)
        idx = epoch_order[epoch][j * cfg.batch_size : (j + 1) * cfg.batch_size]
        x = to_float(augment(images[idx], cfg.data.augment), cfg.data.pixel_range)
        if setup.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, (labels[idx] if labels is not None else None)

    def d_view(x: torch.Tensor) -> torch.Tensor:
        """What D sees of a batch: the batch itself, or its DiffAugment (cfg.d_augment; WGAN-GP's penalty is taken
        on unaugmented interpolates)."""
        return diff_augment(x, cfg.d_augment)

    def fake_labels(n: int) -> torch.Tensor | None:
        return torch.randint(0, data.num_classes, (n,), device=setup.device) if conditional else None

    def run_g(z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        return g_step(z, y) if conditional else g_step(z)

    def run_d(x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        return d_step(x, y) if conditional else d_step(x)

    pending: list[torch.Tensor] = []  # per-step stats kept on the device until the next sync
    bar = tqdm(total=cfg.steps, initial=start, disable=not progress, desc=f"train {cfg.model} seed {cfg.seed}",
               mininterval=10.0, ascii=True, leave=True)
    step = start
    t0 = time.perf_counter()
    while step < cfg.steps and diverged_at is None:
        if cfg.lr_half_life:  # a function of the step alone, so a resumed run continues the same schedule
            decay = 0.5 ** (step / cfg.lr_half_life)
            for opt, lr in ((opt_g, cfg.lr_g), (opt_d, cfg.lr_d)):
                for group in opt.param_groups:
                    group["lr"] = lr * decay
        for k in range(cfg.d_steps):
            real, y_real = batch(step * cfg.d_steps + k)
            z = torch.randn(cfg.batch_size, cfg.z_dim, device=setup.device)
            y_fake = fake_labels(cfg.batch_size)
            with autocast():
                fake = run_g(z, y_fake).detach()
                seen = d_view(real)
                if cfg.r1_gamma:  # R1 at what D sees of the real batch, through the same forward pass
                    seen = seen.detach().requires_grad_(True)
                out_real, out_fake = run_d(seen, y_real), run_d(d_view(fake), y_fake)
                loss_d = losses.d_loss(cfg.loss, out_real, out_fake, cfg.label_smoothing)
            if cfg.r1_gamma:
                loss_d = loss_d + 0.5 * cfg.r1_gamma * losses.r1_penalty(out_real, seen)
            if cfg.loss == "wgan_gp":
                extra = (y_real,) if conditional else ()
                loss_d = loss_d + cfg.gp_weight * losses.gradient_penalty(d_step, real, fake.to(real.dtype), *extra)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
        z = torch.randn(cfg.batch_size, cfg.z_dim, device=setup.device)
        y_fake = fake_labels(cfg.batch_size)
        with autocast():
            loss_g = losses.g_loss(cfg.loss, run_d(d_view(run_g(z, y_fake)), y_fake))
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        if G_ema is not None:
            _ema_update(G_ema, G, cfg.ema)
        acc_r, acc_f = losses.accuracy(out_real.detach(), out_fake.detach())
        pending.append(torch.stack([loss_d.detach().float(), loss_g.detach().float(), acc_r, acc_f,
                                    torch.sigmoid(out_real.detach().float()).mean(), torch.sigmoid(out_fake.detach().float()).mean()]))
        step += 1
        if step % cfg.log_every == 0 or step == cfg.steps or step % cfg.checkpoint_every == 0 or step - start == WARMUP_STEPS:
            rows = torch.stack(pending).cpu().tolist()  # the one sync per interval
            first = step - len(rows)
            pending.clear()
            for i, r in enumerate(rows):
                log.append(dict(zip(LOG_COLUMNS, [first + i + 1, *r])))
                if diverged_at is None and not all(math.isfinite(v) for v in r[:2]):
                    diverged_at = first + i + 1
            now = time.perf_counter()
            if step - start > WARMUP_STEPS:
                train_seconds += now - t0
                timed_steps += len(rows)
            t0 = now
            bar.update(len(rows))
            bar.set_postfix(loss_d=f"{rows[-1][0]:.3f}", loss_g=f"{rows[-1][1]:.3f}", refresh=False)
            if ckpt_path is not None and (step % cfg.checkpoint_every == 0 or step == cfg.steps or diverged_at):
                atomic_torch_save({
                    "config": cfg.to_dict(), "step": step, "log": log, "diverged_at": diverged_at,
                    "G": G.state_dict(), "D": D.state_dict(), **({"G_ema": G_ema.state_dict()} if G_ema is not None else {}), "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(),
                    "rng": _rng_state(), "train_seconds": train_seconds, "timed_steps": timed_steps,
                }, ckpt_path)
                t0 = time.perf_counter()  # checkpoint I/O is not training time
    bar.close()
    return TrainResult(G=G, D=D, G_ema=G_ema, config=cfg, data_name=data.name, steps=step, diverged=diverged_at is not None,
                       diverged_at=diverged_at, resumed_from=resumed_from,
                       time_per_step_ms=1000.0 * train_seconds / timed_steps if timed_steps else float("nan"),
                       device=_device_name(setup.device), log=log)


@torch.no_grad()
def _ema_update(G_ema: nn.Module, G: nn.Module, decay: float) -> None:
    """G_ema <- decay * G_ema + (1 - decay) * G for the weights; batch-norm statistics are copied."""
    torch._foreach_lerp_(list(G_ema.parameters()), list(G.parameters()), 1.0 - decay)
    for be, b in zip(G_ema.buffers(), G.buffers()):
        be.copy_(b)


class StaleCheckpoint(RuntimeError):
    """A checkpoint this run cannot resume from; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"{reason}; delete it to start afresh")
        self.reason = reason


def load_checkpoint(path: Path, cfg: TrainConfig) -> dict[str, Any]:
    """Load a checkpoint, refusing (StaleCheckpoint) one that is unreadable, that another config made, or that is
    past `cfg.steps`. It holds tensors and plain data only (weights_only=True): a run folder on a shared file system
    must not be able to run code."""
    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        why = (str(e).splitlines() or [""])[0][:200]
        raise StaleCheckpoint(f"checkpoint {path} is unreadable ({type(e).__name__}: {why})") from None
    same = {k: v for k, v in ck["config"].items() if k not in ("steps", "checkpoint_every", "log_every", "threads")}
    mine = cfg.to_dict()
    diff = [k for k in same if same[k] != mine.get(k)]
    if diff:
        raise StaleCheckpoint(f"checkpoint {path} was made with a different config ({', '.join(diff)} differ)")
    if ck["step"] > cfg.steps:
        raise StaleCheckpoint(f"checkpoint {path} is at step {ck['step']}, past steps={cfg.steps}")
    return ck


def _device_name(dev: torch.device) -> str:
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    return f"cpu ({torch.get_num_threads()} threads)"


@torch.no_grad()
def generate(G: nn.Module, n: int, z_dim: int, *, seed: int = 0, labels: torch.Tensor | None = None,
             pixel_range: str = "symmetric", batch_size: int = 500) -> torch.Tensor:
    """n samples as uint8 images, from noise drawn with its own seeded generator (fixed noise for grids).
    A conditional G without `labels` cycles through its classes (0, 1, ..., 0, 1, ...), so a grid shows each."""
    if models.is_conditional(G) and labels is None:
        labels = torch.arange(n) % G.num_classes
    was_training = G.training
    G.eval()
    dev = next(G.parameters()).device
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(0, n, batch_size):
        m = min(batch_size, n - i)
        z = torch.randn(m, z_dim, generator=g).to(dev)
        x = G(z, labels[i : i + m].to(dev)) if models.is_conditional(G) else G(z)
        out.append(to_uint8(x.float(), pixel_range).cpu())
    G.train(was_training)
    return torch.cat(out)
