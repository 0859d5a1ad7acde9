"""Training and evaluating the lecture's autoencoders (gan.models.autoencoders) on MNIST-5k.

One loop trains all four kinds, because they differ only in their input (clean or corrupted) and the term added
to the reconstruction loss (none, the KL sparsity penalty, or the VAE's KL to the prior). The images are split
once, with a seed, into training and held-out digits; every reported error is on the held-out digits.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from gan.demos.configs import AEConfig
from gan.models.autoencoders import VAE, Autoencoder, corrupt, kl_sparsity, reconstruction_loss, vae_loss

KIND_NAMES = {"ae": "autoencoder", "dae": "denoising autoencoder", "sparse": "sparse autoencoder",
              "vae": "variational autoencoder"}


@dataclass
class AEResult:
    config: AEConfig
    model: torch.nn.Module
    history: list[dict[str, float]] = field(default_factory=list)  # per epoch: train and held-out losses


def split_indices(n: int, holdout: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(train, held-out) indices of a seeded permutation: the same split for images and their labels."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return perm[holdout:], perm[:holdout]


def split(images: torch.Tensor, holdout: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 [N, 1, 28, 28] -> (train, held-out) floats in [0, 1], split by `split_indices`."""
    tr, te = split_indices(len(images), holdout, seed)
    x = images.float() / 255.0
    return x[tr], x[te]


def _loss(model: torch.nn.Module, cfg: AEConfig, x: torch.Tensor, gen: torch.Generator) -> dict[str, torch.Tensor]:
    """The training objective on a batch, with its parts (nats per image)."""
    if cfg.kind == "vae":
        logits, mu, logvar = model(x, gen)
        total, rec, kl = vae_loss(logits, x, mu, logvar)
        return {"loss": total, "reconstruction": rec, "kl": kl}
    inp = corrupt(x, cfg.noise, cfg.noise_level, gen) if cfg.kind == "dae" else x
    logits, code = model(inp)
    rec = reconstruction_loss(logits, x)  # the DAE's target is the clean image
    if cfg.kind == "sparse":
        penalty = kl_sparsity(cfg.rho, code.mean(0))  # ρ̂_j over the batch, as in the lecture
        return {"loss": rec + cfg.sparsity_weight * penalty, "reconstruction": rec, "sparsity_penalty": penalty}
    return {"loss": rec, "reconstruction": rec}


def build(cfg: AEConfig) -> torch.nn.Module:
    if cfg.kind == "vae":
        return VAE(cfg.code_dim, cfg.hidden)
    return Autoencoder(cfg.code_dim, cfg.hidden, "sigmoid" if cfg.kind == "sparse" else "linear")


def train_autoencoder(cfg: AEConfig | dict, train: torch.Tensor, test: torch.Tensor) -> AEResult:
    """Train one autoencoder with Adam; after every epoch, record the mean training loss and the held-out loss
    (the held-out loss uses its own fixed noise, so epochs are comparable)."""
    cfg = cfg if isinstance(cfg, AEConfig) else AEConfig.from_dict(cfg)
    with torch.random.fork_rng():
        torch.manual_seed(cfg.seed)
        model = build(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    res = AEResult(cfg, model)
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        order = torch.randperm(len(train), generator=gen)
        sums: dict[str, float] = {}
        for i in range(0, len(order), cfg.batch_size):
            parts = _loss(model, cfg, train[order[i : i + cfg.batch_size]], gen)
            opt.zero_grad(set_to_none=True)
            parts["loss"].backward()
            opt.step()
            n = min(cfg.batch_size, len(order) - i)
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach()) * n
        model.eval()
        with torch.no_grad():
            held = _loss(model, cfg, test, torch.Generator().manual_seed(12345))
        res.history.append({"epoch": epoch, **{f"train_{k}": v / len(train) for k, v in sums.items()},
                            **{f"test_{k}": float(v) for k, v in held.items()}})
    model.eval()
    return res


@torch.no_grad()
def codes(model: torch.nn.Module, x: torch.Tensor) -> np.ndarray:
    """The code of each image: the bottleneck activations, or the VAE's posterior mean μ."""
    return (model.encode(x)[0] if isinstance(model, VAE) else model.encode(x)).numpy()


@torch.no_grad()
def reconstruct(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Reconstructions in [0, 1] (the VAE decodes its posterior mean, no sampling)."""
    if isinstance(model, VAE):
        return torch.sigmoid(model.decoder(model.encode(x)[0]))
    return torch.sigmoid(model(x)[0])


@torch.no_grad()
def evaluate(res: AEResult, test: torch.Tensor, noise_seed: int = 12345) -> dict[str, Any]:
    """Held-out reconstruction errors: mean squared error per pixel and Bernoulli NLL (nats per image), on clean
    inputs and on inputs corrupted by the DAE's noise (every model sees the same corrupted digits)."""
    cfg, model = res.config, res.model
    noisy = corrupt(test, cfg.noise, cfg.noise_level, torch.Generator().manual_seed(noise_seed))
    out: dict[str, Any] = {"model": KIND_NAMES[cfg.kind], "kind": cfg.kind, "code_dim": cfg.code_dim}
    for name, inp in (("clean", test), ("noisy", noisy)):
        rec = reconstruct(model, inp)
        out[f"mse_{name}"] = float(((rec - test) ** 2).mean())
        out[f"bce_{name}"] = float(torch.nn.functional.binary_cross_entropy(rec.clamp(1e-6, 1 - 1e-6), test, reduction="sum") / len(test))
    if cfg.kind == "vae":
        out["neg_elbo"] = res.history[-1]["test_loss"]
    code = codes(model, test)
    if cfg.kind == "sparse":
        rho_hat = code.mean(0)
        out.update(rho=cfg.rho, rho_hat_mean=float(rho_hat.mean()), rho_hat_min=float(rho_hat.min()),
                   rho_hat_max=float(rho_hat.max()), kl_penalty=float(kl_sparsity(cfg.rho, torch.from_numpy(rho_hat))))
    out["code_mean_abs"] = float(np.abs(code).mean())
    return out


def config_dict(cfg: AEConfig) -> dict[str, Any]:
    return asdict(cfg)
