"""The demos' configs: plain, typed dataclasses with no torch, so that the registry of experiments
(`gan.experiments`) checks a demo's keys at `snakemake -n` with the same parser as every other config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from gan.config import ConfigError, parse


@dataclass(frozen=True)
class Toy1DConfig:
    data_mu: float = 0.0
    data_sigma: float = 1.0
    g_init_mean: float = 2.5  # G's output is shifted at init so that p_g starts to the right of the data, as in (a)
    g_init_std: float = 0.4  # ... and scaled so that p_g starts narrower than the data
    hidden: int = 32
    loss: Literal["non_saturating", "minimax"] = "non_saturating"  # the generator loss (gan.losses): non_saturating | minimax
    batch_size: int = 512
    # D learns 4x faster and takes 5 steps per G step: a D that tracks D* keeps G from collapsing onto D's
    # maximum (with equal rates and k = 1 the 1-D GAN collapsed to a spike in most seeds we tried)
    lr_g: float = 5e-4
    lr_d: float = 2e-3
    d_per_g: int = 5  # D steps per G step in the alternating phases (k in Goodfellow et al.'s Algorithm 1)
    optimizer: Literal["adam", "sgd"] = "adam"  # adam (with betas) | sgd (with momentum 0.9, as Goodfellow et al.)
    betas: tuple[float, float] = (0.5, 0.999)
    seed: int = 0
    # the phases of the figure: D-only steps for (a) and (b), then alternating rounds (k D steps + 1 G step)
    steps_a: int = 25  # D only: partly trained
    steps_b: int = 600  # D only: to convergence for the initial G
    steps_c: int = 60  # rounds: G has moved towards the data
    steps_d: int = 6000  # rounds: p_g ≈ p_data
    steps_final_d: int = 600  # D only, against the final G: how well can a fresh effort still tell them apart?
    # where "D ≈ 1/2" is measured: the central interval holding this much of the data's mass. G maps the bounded
    # z interval with finite slopes, so it cannot reach the normal's far tails, and there D* -> 1 by right.
    core_mass: float = 0.9

    @staticmethod
    def from_dict(d: dict[str, Any] | None) -> "Toy1DConfig":
        return parse(Toy1DConfig, d or {}, "toy 1-D GAN keys: ")


@dataclass(frozen=True)
class AEConfig:
    """One of the lecture's autoencoders (`gan.demos.autoencoding` trains it)."""

    kind: Literal["ae", "dae", "sparse", "vae"] = "ae"
    code_dim: int = 32  # the bottleneck (the VAE's latent dimension)
    hidden: int = 256
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    noise: Literal["gaussian", "masking", "salt_pepper"] = "gaussian"  # the DAE's corruption (gan.models.autoencoders.corrupt)
    noise_level: float = 0.5
    rho: float = 0.05  # the sparse AE's target mean activation ρ
    sparsity_weight: float = 1.0  # λ in Loss + λ Σ_j Ω_j
    holdout: int = 500  # held-out digits for every reported error
    seed: int = 0

    @staticmethod
    def from_dict(d: dict[str, Any]) -> "AEConfig":
        return parse(AEConfig, d, "autoencoder keys: ")


@dataclass(frozen=True)
class DensitySpec:
    """A 1-D density of the demos: exactly one of a normal [mu, sigma], a Laplace [loc, scale], or a mixture of
    normals [[weight, mu, sigma], ...]; `name` labels it in figures (a default is made from the numbers)."""

    normal: tuple[float, float] | None = None
    laplace: tuple[float, float] | None = None
    mixture: tuple[tuple[float, float, float], ...] | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        kinds = [k for k in ("normal", "laplace", "mixture") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ConfigError(f"{'/'.join(kinds) or 'normal/laplace/mixture'}: a density is exactly one of normal, laplace "
                              f"or mixture; got {', '.join(kinds) or 'none'}")
        scales = [self.normal[1]] if self.normal else [self.laplace[1]] if self.laplace else [s for _, _, s in self.mixture]
        if any(s <= 0 for s in scales):
            raise ConfigError(f"{kinds[0]}: scales must be > 0, got {scales}")
        if self.mixture is not None and (not self.mixture or any(w <= 0 for w, _, _ in self.mixture)):
            raise ConfigError(f"mixture: needs components with weights > 0 (they are normalised), got {list(self.mixture)}")

    @staticmethod
    def from_dict(d: "dict[str, Any] | DensitySpec") -> "DensitySpec":
        return parse(DensitySpec, d, "density.")
