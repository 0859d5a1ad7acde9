"""The training loop's fast path computes what the plain path computes.

On CUDA, `gan.train.train` keeps the data on the device, autocasts to bf16 (losses on logits, in fp32), uses
channels_last, fused Adam, and optionally torch.compile. Each piece that runs on a CPU is checked here against
the plain path: channels_last and torch.compile give the same losses as eager NCHW to float tolerance, and the
device-resident batches give bit-identical training to a DataLoader-fed reference loop given the same batches.
The CUDA-only pieces are checked where a GPU exists (skipped otherwise, with the reason); speed is measured in
benchmarks/train_throughput.py, never here.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from gan.checks import parse_train
from gan import losses
from gan.config import ConfigError, TrainConfig
from gan.data import BatchOrder, augment, load_dataset, to_float
from gan.train import build_models, resolve_device, seed_everything, train

cuda_only = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (none on this machine)")


def _losses(result) -> np.ndarray:
    return np.array([[r["loss_d"], r["loss_g"]] for r in result.log])


def test_channels_last_on_cpu_gives_the_same_training(tiny_cfg):
    plain = train(parse_train(tiny_cfg(channels_last=False)), progress=False)
    fast = train(parse_train(tiny_cfg(channels_last=True)), progress=False)
    conv = next(m for m in fast.D.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)  # the fast layout was really used
    assert len(plain.log) == len(fast.log) == 8
    np.testing.assert_allclose(_losses(fast), _losses(plain), rtol=1e-4, atol=1e-5)
    for a, b in zip(fast.G.parameters(), plain.G.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


class _PerImage(torch.utils.data.Dataset):
    """A reference data path: one image at a time, augmented per item, as a torchvision data set would."""

    def __init__(self, images: torch.Tensor, aug: str) -> None:
        self.images, self.aug = images, aug

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> torch.Tensor:
        return augment(self.images[i : i + 1], self.aug)[0]


class _OrderSampler(torch.utils.data.Sampler):
    def __init__(self, order: BatchOrder, steps: int) -> None:
        self.order, self.steps = order, steps

    def __iter__(self):
        return (self.order.indices(i).tolist() for i in range(self.steps))

    def __len__(self) -> int:
        return self.steps


@pytest.mark.parametrize("aug", ["none", "rotation"])
def test_resident_batches_equal_a_dataloader_reference(aug, tiny_cfg):
    """The resident-data loop (one index copy per epoch, batches gathered from a uint8 tensor) trains exactly as a
    plain loop fed by a DataLoader with the same batches: 64 images at batch 16 cross two epoch boundaries."""
    cfg = TrainConfig.from_dict(tiny_cfg(steps=10, data={"limit": 64, "augment": aug}))
    data = load_dataset(cfg.data)
    result = train(parse_train(cfg), data, progress=False)

    seed_everything(cfg.seed)
    G, D = build_models(cfg, data)
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=cfg.betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=cfg.betas)
    # A DataLoader draws a base seed from the global RNG when it starts iterating; its own generator keeps
    # the global stream (noise, augmentation) in step with the loop under test.
    loader = torch.utils.data.DataLoader(_PerImage(data.images, aug), num_workers=0, generator=torch.Generator(),
                                         batch_sampler=_OrderSampler(BatchOrder(len(data), cfg.batch_size, cfg.seed), cfg.steps))
    ref = []
    for batch in loader:
        real = to_float(batch, cfg.data.pixel_range)
        z = torch.randn(cfg.batch_size, cfg.z_dim)
        fake = G(z).detach()
        loss_d = losses.d_loss(cfg.loss, D(real), D(fake))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        loss_g = losses.g_loss(cfg.loss, D(G(torch.randn(cfg.batch_size, cfg.z_dim))))
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        ref.append([loss_d.item(), loss_g.item()])
    assert len(ref) == result.steps == 10
    np.testing.assert_array_equal(_losses(result), np.array(ref))
    for a, b in zip(result.G.state_dict().values(), G.state_dict().values()):
        assert torch.equal(a, b)


def _record_adam(monkeypatch) -> list[dict]:
    calls: list[dict] = []
    real_adam = torch.optim.Adam

    def recording(params, **kw):
        calls.append(kw)
        return real_adam(params, **kw)

    monkeypatch.setattr(torch.optim, "Adam", recording)
    return calls


def test_fused_adam_is_off_on_the_cpu(tiny_cfg, monkeypatch):
    calls = _record_adam(monkeypatch)
    train(parse_train(tiny_cfg(steps=1)), progress=False)
    assert [c.get("fused") for c in calls] == [False, False]


@cuda_only
def test_fused_adam_is_on_with_cuda(tiny_cfg, monkeypatch):
    calls = _record_adam(monkeypatch)
    train(parse_train(tiny_cfg(steps=1, device="cuda")), progress=False)
    assert [c.get("fused") for c in calls] == [True, True]


def test_fast_path_defaults_and_bf16_on_cpu_is_a_config_error(tiny_cfg, tmp_path):
    setup = resolve_device(TrainConfig.from_dict(tiny_cfg(precision="auto", channels_last=None)))
    assert (setup.device.type, setup.bf16, setup.channels_last) == ("cpu", False, False)  # CPU: plain fp32
    run_dir = tmp_path / "run"
    with pytest.raises(ConfigError, match=r"precision: 'bf16' autocast is for CUDA"):
        train(parse_train(tiny_cfg(precision="bf16")), run_dir=run_dir, progress=False)
    assert not run_dir.exists() or not any(run_dir.iterdir())  # refused before anything was written
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="torch sees no CUDA device"):
            train(parse_train(tiny_cfg(device="cuda")), run_dir=run_dir, progress=False)


@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None,
                    reason="torch.compile on the CPU needs a C compiler")
def test_compile_on_cpu_gives_the_same_training(tiny_cfg):
    """torch.compile of G and D (inductor, C++ on the CPU) against eager; the small dense model compiles in
    seconds, the convolutional ones take tens of seconds here (benchmarks/train_throughput.py times those)."""
    cfg = tiny_cfg(model="dense", model_kwargs={"g_depth": 3, "d_depth": 3}, steps=6)
    eager = train(parse_train(cfg), progress=False)
    compiled = train(parse_train({**cfg, "compile": True}), progress=False)
    np.testing.assert_allclose(_losses(compiled), _losses(eager), rtol=1e-4, atol=1e-5)


@cuda_only
def test_bf16_fast_path_tracks_fp32_on_cuda(tiny_cfg):
    """The CUDA default (bf16 autocast + channels_last + fused Adam) against fp32 NCHW on the same seed: the
    losses of the first steps agree to bf16 tolerance."""
    ref = train(parse_train(tiny_cfg(device="cuda", precision="fp32", channels_last=False, steps=10)), progress=False)
    fast = train(parse_train(tiny_cfg(device="cuda", steps=10)), progress=False)
    dev = np.abs(_losses(fast) - _losses(ref)) / np.maximum(1.0, np.abs(_losses(ref)))
    assert dev.max() <= 5e-2
