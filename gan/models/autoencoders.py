"""The lecture's autoencoders for 28x28 digits: plain, denoising, sparse (KL penalty) and variational.

All four share one dense encoder/decoder shape (784 - hidden - code - hidden - 784) so that their differences are
only the ones the lecture names: the denoising autoencoder sees a corrupted input and reconstructs the clean one;
the sparse autoencoder's code units are sigmoids whose mean activation ρ̂_j is pulled towards a target ρ by the
KL penalty Ω_j = ρ log(ρ/ρ̂_j) + (1-ρ) log((1-ρ)/(1-ρ̂_j)); the VAE's encoder outputs a Gaussian q(z|x) = N(μ, σ²)
and the loss adds KL(q(z|x) || N(0, I)) to the reconstruction term (Kingma & Welling 2013).

Images are floats in [0, 1], shape [B, 1, 28, 28]; decoders return *logits* of Bernoulli pixel means, so that the
reconstruction loss is a numerically safe binary cross-entropy (the VAE's -log p(x|z)) and `torch.sigmoid` gives
the image.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

PIXELS = 28 * 28


def _encoder(hidden: int, out: int) -> nn.Sequential:
    return nn.Sequential(nn.Flatten(), nn.Linear(PIXELS, hidden), nn.ReLU(), nn.Linear(hidden, out))


def _decoder(code: int, hidden: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(code, hidden), nn.ReLU(), nn.Linear(hidden, PIXELS), nn.Unflatten(1, (1, 28, 28)))


class Autoencoder(nn.Module):
    """x -> code -> logits of x̂. `code_activation` 'linear' (plain/denoising AE) or 'sigmoid' (sparse AE, whose
    activations must lie in (0, 1) to have a mean activation ρ̂ comparable with ρ)."""

    def __init__(self, code_dim: int = 32, hidden: int = 256, code_activation: str = "linear") -> None:
        super().__init__()
        if code_activation not in ("linear", "sigmoid"):
            raise ValueError(f"code_activation must be 'linear' or 'sigmoid', got {code_activation!r}")
        self.code_dim, self.code_activation = code_dim, code_activation
        self.encoder = _encoder(hidden, code_dim)
        self.decoder = _decoder(code_dim, hidden)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encoder(x)
        return torch.sigmoid(h) if self.code_activation == "sigmoid" else h

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns (reconstruction logits, code)."""
        h = self.encode(x)
        return self.decoder(h), h


class VAE(nn.Module):
    """Gaussian encoder q(z|x) = N(μ(x), diag σ²(x)), standard normal prior, Bernoulli decoder p(x|z)."""

    def __init__(self, latent_dim: int = 2, hidden: int = 256) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = _encoder(hidden, 2 * latent_dim)
        self.decoder = _decoder(latent_dim, hidden)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def reparameterize(self, mu: torch.Tensor, logvar: torch.Tensor, gen: torch.Generator | None = None) -> torch.Tensor:
        """z = μ + σ ⊙ ε with ε ~ N(0, I): the sample is a differentiable function of (μ, σ)."""
        eps = torch.randn(mu.shape, generator=gen, dtype=mu.dtype)
        return mu + (0.5 * logvar).exp() * eps

    def forward(self, x: torch.Tensor, gen: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Returns (reconstruction logits, μ, log σ²)."""
        mu, logvar = self.encode(x)
        return self.decoder(self.reparameterize(mu, logvar, gen)), mu, logvar

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] from latent vectors: the trained decoder as a generator."""
        return torch.sigmoid(self.decoder(z))


# --- losses ------------------------------------------------------------------------------------------------------


def reconstruction_loss(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Bernoulli negative log-likelihood -log p(x|x̂) summed over pixels, averaged over the batch (nats/image)."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, σ²) || N(0, I)) = ½ Σ_j (μ_j² + σ_j² - log σ_j² - 1), per image (summed over latents, batch mean)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0).sum(1).mean()


def vae_loss(logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The negative ELBO, -E_q[log p(x|z)] + KL(q(z|x) || p(z)), and its two terms (nats per image)."""
    rec, kl = reconstruction_loss(logits, x), gaussian_kl(mu, logvar)
    return rec + kl, rec, kl


def kl_sparsity(rho: float, rho_hat: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """The lecture's sparsity penalty Σ_j Ω_j with Ω_j = ρ log(ρ/ρ̂_j) + (1-ρ) log((1-ρ)/(1-ρ̂_j)): the KL divergence
    between Bernoulli(ρ) and Bernoulli(ρ̂_j), zero exactly when every unit's mean activation ρ̂_j equals ρ."""
    if not 0.0 < rho < 1.0:
        raise ValueError(f"rho must be in (0, 1), got {rho}")
    r = rho_hat.clamp(eps, 1.0 - eps)
    return (rho * (math.log(rho) - r.log()) + (1.0 - rho) * (math.log(1.0 - rho) - (1.0 - r).log())).sum()


def corrupt(x: torch.Tensor, kind: str, level: float, gen: torch.Generator | None = None) -> torch.Tensor:
    """The denoising autoencoder's corruption q_D(x̃ | x): 'gaussian' (additive noise of std `level`, clipped to
    [0, 1]), 'masking' (a fraction `level` of pixels set to 0) or 'salt_pepper' (a fraction `level` set to 0 or 1)."""
    if kind == "gaussian":
        return (x + level * torch.randn(x.shape, generator=gen, dtype=x.dtype)).clamp(0.0, 1.0)
    u = torch.rand(x.shape, generator=gen, dtype=x.dtype)
    if kind == "masking":
        return x * (u >= level).to(x.dtype)
    if kind == "salt_pepper":
        salt = torch.rand(x.shape, generator=gen, dtype=x.dtype) < 0.5
        return torch.where(u < level, salt.to(x.dtype), x)
    raise ValueError(f"unknown corruption {kind!r}; use gaussian, masking or salt_pepper")
