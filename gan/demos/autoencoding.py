"""Training and evaluating the lecture's autoencoders (gan.models.autoencoders) on MNIST-5k.

One loop trains all four kinds, because they differ only in their input (clean or corrupted) and the term added
to the reconstruction loss (none, the KL sparsity penalty, or the VAE's KL to the prior). The images are split
once, with a seed, into training and held-out digits; every reported error is on the held-out digits.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from gan.demos.configs import AEConfig
from gan.demos.figures import plt
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


# --- several models at once, and the notebooks' figures -------------------------------------------------------------


@dataclass
class Trained:
    result: AEResult
    evaluation: dict[str, Any]  # `evaluate` on the held-out digits
    seconds: float
    params: int


def train_models(specs: Sequence[tuple[str, dict[str, Any]]], train: torch.Tensor, test: torch.Tensor) -> dict[str, Trained]:
    """Train and evaluate every (name, AEConfig keys) in order: name -> Trained."""
    out = {}
    for name, cfg in specs:
        t0 = time.time()
        res = train_autoencoder(cfg, train, test)
        out[name] = Trained(res, evaluate(res, test), time.time() - t0, sum(p.numel() for p in res.model.parameters()))
    return out


def history_rows(trained: dict[str, Trained]) -> list[dict[str, Any]]:
    """Every model's per-epoch losses, one row per model and epoch (history.csv)."""
    return [{"model": n, **h} for n, t in trained.items() for h in t.result.history]


def pca2(z: np.ndarray) -> tuple[np.ndarray, float]:
    """The codes projected on their first two principal components, and the share of variance those hold."""
    z = z - z.mean(0)
    _, s, vt = np.linalg.svd(z, full_matrices=False)
    return z @ vt[:2].T, float((s[:2] ** 2).sum() / (s**2).sum())


def _digit_legend(fig: Any, labels: np.ndarray) -> None:
    digits = sorted(set(labels.tolist()))
    handles = [plt.Line2D([], [], ls="", marker="o", ms=6, color=plt.cm.tab10(d)) for d in digits]
    fig.legend(handles, [str(d) for d in digits], loc="upper center", ncol=len(digits), title="digit label (not used in training)",
               handletextpad=0.1, columnspacing=0.8)


def plot_code_pcs(trained: dict[str, Trained], names: Sequence[str], test: torch.Tensor, labels: np.ndarray,
                  path: str | Path) -> str:
    """The codes of held-out digits (the VAE's posterior means) on their first two principal components, one panel
    per model in two columns, coloured by the digit's label. Returns the width for `gan.report.figure`."""
    from gan.demos import figures

    with figures.column_style():
        fig, axes, height = figures.panels(len(names), 2, 2.9, 0.6)
        for ax, n in zip(axes, names):
            pc, share = pca2(codes(trained[n].result.model, test))
            ax.scatter(pc[:, 0], pc[:, 1], c=labels, cmap="tab10", s=4, vmin=-0.5, vmax=9.5, rasterized=True)
            ax.set_title(f"{n}\n{trained[n].result.config.code_dim}-D code, 2 PCs hold {share:.0%}", fontsize=9)
            ax.set(xticks=[], yticks=[])
        _digit_legend(fig, labels)
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.6 / height))
        return figures.save(fig, path)


def plot_latent_2d(model: torch.nn.Module, test: torch.Tensor, labels: np.ndarray, path: str | Path) -> str:
    """The posterior means μ(x) of held-out digits in a 2-D latent space, coloured by the digit's label."""
    from gan.demos import figures

    mu = codes(model, test)
    with figures.column_style():
        fig, ax = plt.subplots(figsize=(4.6, 4.6))
        ax.scatter(mu[:, 0], mu[:, 1], c=labels, cmap="tab10", s=5, vmin=-0.5, vmax=9.5, rasterized=True)
        ax.set_xlabel("μ₁")
        ax.set_ylabel("μ₂")
        _digit_legend(fig, labels)
        fig.tight_layout(rect=(0, 0, 1, 0.86))
        return figures.save(fig, path)


@torch.no_grad()
def manifold(model: VAE, k: int) -> torch.Tensor:
    """The decoder on a k x k grid of 2-D latent vectors evenly spaced in probability under the prior (its 5 % to
    95 % quantiles, as Kingma & Welling draw it), row by row from the top: [k², 1, 28, 28] in [0, 1]."""
    from scipy import stats

    q = stats.norm.ppf(np.linspace(0.05, 0.95, k))
    z = torch.tensor([[a, b] for b in q[::-1] for a in q], dtype=torch.float32)
    return model.decode(z)


@torch.no_grad()
def prior_samples(model: VAE, n: int, seed: int) -> torch.Tensor:
    """n images decoded from latent vectors drawn from the prior N(0, I): [n, 1, 28, 28] in [0, 1]."""
    z = torch.randn(n, model.latent_dim, generator=torch.Generator().manual_seed(seed))
    return model.decode(z)


def plot_histories(trained: dict[str, Trained], path: str | Path) -> str:
    """Left: the negative ELBO per epoch on the training (dashed) and held-out (solid) digits. Right: its two
    held-out terms, reconstruction (solid) and KL (dotted). One colour per model."""
    from gan.demos import figures

    with figures.column_style():
        fig, (a, b) = plt.subplots(1, 2, figsize=(figures.COLUMN_IN, 3.0))
        for (name, t), c in zip(trained.items(), plt.rcParams["axes.prop_cycle"].by_key()["color"]):
            h = t.result.history
            ep = [r["epoch"] for r in h]
            a.plot(ep, [r["train_loss"] for r in h], "--", color=c)
            a.plot(ep, [r["test_loss"] for r in h], "-", color=c, label=name)
            b.plot(ep, [r["test_reconstruction"] for r in h], "-", color=c, label=f"{name}: reconstruction")
            b.plot(ep, [r["test_kl"] for r in h], ":", color=c, lw=2, label=f"{name}: KL")
        a.set_ylabel("−ELBO (nats per image)")
        b.set_ylabel("held-out terms (nats per image)")
        b.set_yscale("log")
        for ax in (a, b):
            ax.set_xlabel("epoch")
        a.legend()
        b.legend(fontsize=9)
        fig.tight_layout()
        return figures.save(fig, path)


def sparsity_rows(trained: dict[str, Trained], names: Sequence[str], test: torch.Tensor) -> list[dict[str, Any]]:
    """For each sigmoid-code model: the target ρ, the weight λ, and its code units' mean activations ρ̂_j on the
    held-out digits (their mean, range, the share within a factor 2 of ρ, and the penalty Σ_j Ω_j)."""
    rows = []
    for n in names:
        cfg = trained[n].result.config
        rho_hat = codes(trained[n].result.model, test).mean(0)
        rows.append({"model": n, "lambda": cfg.sparsity_weight, "rho": cfg.rho, "rho_hat": rho_hat,
                     "mean": float(rho_hat.mean()), "min": float(rho_hat.min()), "max": float(rho_hat.max()),
                     "near_rho": float(np.mean((rho_hat > cfg.rho / 2) & (rho_hat < 2 * cfg.rho))),
                     "penalty": float(kl_sparsity(cfg.rho, torch.from_numpy(rho_hat))),
                     "mse": trained[n].evaluation["mse_clean"]})
    return rows


def plot_sparsity(rows: Sequence[dict[str, Any]], path: str | Path) -> str:
    """Every code unit's mean activation on held-out digits, sorted (log scale), per model, with the target ρ."""
    from gan.demos import figures

    with figures.column_style():
        fig, ax = plt.subplots(figsize=(figures.COLUMN_IN, 2.9))
        for r in rows:
            ax.plot(np.sort(r["rho_hat"])[::-1], "o-", ms=3, label=f"{r['model']} (λ = {r['lambda']:g})")
        rho = rows[0]["rho"]
        ax.axhline(rho, color="k", ls="--", lw=0.8)
        ax.text(0, rho, f" target ρ = {rho:g}", va="bottom")
        ax.set_yscale("log")
        ax.set_ylim(bottom=min(rho, min(float(r["rho_hat"].min()) for r in rows)) / 1.5)
        ax.set_xlabel("code unit j (sorted by mean activation)")
        ax.set_ylabel("mean activation ρ̂_j")
        ax.legend()
        fig.tight_layout()
        return figures.save(fig, path)
