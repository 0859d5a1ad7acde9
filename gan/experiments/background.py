"""Background and theory: the historical models (NCE, VAE, diffusion), the min-max derivation checked numerically,
saturating vs non-saturating loss, the 1-D GAN of the distribution view, discriminator accuracy vs sample
quality, and the lecture's autoencoders. All but accuracy-vs-quality run inside their notebook."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from gan.config import ConfigError, DataConfig, TrainConfig, deep_merge, did_you_mean, parse
from gan.data.catalog import check_data
from gan.demos.configs import AEConfig, DensitySpec, Toy1DConfig
from gan.experiments.base import (Experiment, GanRunsParams, RunSpec, check_fid_samples, check_keys_present,
                                  check_nonempty, check_range, check_seeds, check_train_block, check_unique,
                                  check_within, train_spec)


def _data(name: str, limit: int | None, key: str) -> DataConfig:
    return check_data(parse(DataConfig, {"name": name, "limit": limit}, f"{key}."), f"{key}.")


def _positive(obj: Any, *keys: str) -> None:
    for k in keys:
        v = getattr(obj, k)
        if v <= 0:
            raise ConfigError(f"{k}: must be > 0, got {v!r}")


@dataclass(frozen=True)
class GaussianCheck:
    data: DensitySpec  # a normal: its normaliser is known in closed form
    nu: int
    n_data: int


@dataclass(frozen=True)
class NceParams:
    data: DensitySpec
    noise: DensitySpec
    n_data: int
    nus: tuple[int, ...]  # noise samples per data sample
    hidden: int
    steps: int
    gaussian_check: GaussianCheck
    seed: int = 0
    threads: int = 1

    def __post_init__(self) -> None:
        check_nonempty(self.nus, "nus")
        check_unique(self.nus, "nus")
        check_range(self.nus, 1, 1000, "nus")
        _positive(self, "n_data", "hidden", "steps")
        if self.gaussian_check.data.normal is None:
            raise ConfigError("gaussian_check.data: must be a normal (its normaliser is known in closed form)")


@dataclass(frozen=True)
class VaeModel:
    name: str
    code_dim: int
    hidden: int
    epochs: int


@dataclass(frozen=True)
class VaeParams:
    dataset: str
    models: tuple[VaeModel, ...]  # a list: papermill passes mappings with sorted keys, and the order matters
    batch_size: int
    lr: float
    holdout: int
    manifold_grid: int
    fid_samples: int
    limit: int | None = None
    seed: int = 0
    threads: int = 1

    def __post_init__(self) -> None:
        check_nonempty(self.models, "models")
        check_unique([m.name for m in self.models], "models (name)")
        if not any(m.code_dim == 2 for m in self.models):
            raise ConfigError("models: needs one model with code_dim 2 (the latent space the figures draw)")
        check_fid_samples(self.fid_samples)
        _positive(self, "batch_size", "lr", "holdout", "manifold_grid")
        check_within(self.holdout + self.batch_size, _data(self.dataset, self.limit, "dataset"), "holdout",
                     f"images (holdout {self.holdout} + one batch of {self.batch_size})")


@dataclass(frozen=True)
class ToyDiffusion:
    n: int
    T: int
    hidden: int
    depth: int
    steps: int
    batch_size: int
    lr: float


@dataclass(frozen=True)
class MnistDiffusion:
    dataset: str
    size: int  # digits are downsampled to size x size (28 must be a multiple)
    T: int
    hidden: int
    depth: int
    steps: int
    batch_size: int
    lr: float
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.size < 1 or 28 % self.size:
            raise ConfigError(f"size: must divide 28, got {self.size}")
        check_within(self.batch_size, _data(self.dataset, self.limit, "dataset"), "batch_size")


@dataclass(frozen=True)
class ForwardCheck:
    n: int
    x0: tuple[float, float]


@dataclass(frozen=True)
class Published:
    params_millions: float
    steps: int
    T: int


@dataclass(frozen=True)
class DiffusionParams:
    toy: ToyDiffusion
    mnist: MnistDiffusion
    forward_check: ForwardCheck
    shown_fractions: tuple[float, ...]  # of T: the steps the chain figures show
    published: Published  # Ho et al. 2020's CIFAR-10 U-Net (their Appendix B)
    seed: int = 0
    threads: int = 1

    def __post_init__(self) -> None:
        check_nonempty(self.shown_fractions, "shown_fractions")
        check_range(self.shown_fractions, 0.0, 1.0, "shown_fractions")
        if self.forward_check.n < 2:
            raise ConfigError(f"forward_check.n: must be >= 2, got {self.forward_check.n}")


@dataclass(frozen=True)
class Pair:
    data: DensitySpec
    g: DensitySpec


@dataclass(frozen=True)
class Ascent:
    steps: int
    hidden: int
    lr: float
    nodes: int


@dataclass(frozen=True)
class ShiftCurve:
    data: DensitySpec
    sigma_g: float
    mus: tuple[float, ...]


@dataclass(frozen=True)
class MinimaxParams:
    pairs: tuple[Pair, ...]  # p_data vs p_g
    ascent: Ascent  # the MLP discriminator trained by gradient ascent on V
    shift_curve: ShiftCurve
    tolerance: float  # on |V(D*, G) - (-log 4 + 2 JSD)|
    threads: int = 1

    def __post_init__(self) -> None:
        check_nonempty(self.pairs, "pairs")
        check_nonempty(self.shift_curve.mus, "shift_curve.mus")
        if not 0 < self.tolerance < 1:
            raise ConfigError(f"tolerance: must be in (0, 1), got {self.tolerance}")


def _toy(d: dict[str, Any], key: str) -> Toy1DConfig:
    return parse(Toy1DConfig, d, f"{key}.")


@dataclass(frozen=True)
class OptimizerRates:
    lr_g: float
    lr_d: float


@dataclass(frozen=True)
class SaturatingParams:
    d_range: tuple[float, float]
    table_d: tuple[float, ...]
    toy: dict[str, Any]  # gan.demos.configs.Toy1DConfig keys
    optimizers: dict[str, OptimizerRates]  # "sgd" shows the saturation; "adam" hides most of it
    rounds: int
    every: int
    seeds: tuple[int, ...]
    threads: int = 1

    def __post_init__(self) -> None:
        lo, hi = self.d_range
        if not 0 < lo < hi < 1:
            raise ConfigError(f"d_range: must be 0 < low < high < 1, got {list(self.d_range)}")
        check_range(self.table_d, lo, hi, "table_d")
        _toy(self.toy, "toy")
        for name in self.optimizers:
            if name not in ("sgd", "adam"):
                raise ConfigError(f"optimizers.{name}: unknown optimiser{did_you_mean(name, ['sgd', 'adam'])}; use sgd or adam")
        check_nonempty(list(self.optimizers), "optimizers")
        check_seeds(self.seeds)
        _positive(self, "rounds", "every")
        if self.every > self.rounds:
            raise ConfigError(f"every: {self.every} is more than rounds ({self.rounds})")


@dataclass(frozen=True)
class OptimalDParams:
    toy: dict[str, Any]  # gan.demos.configs.Toy1DConfig keys ({} = its defaults)
    seeds: tuple[int, ...]
    threads: int = 1

    def __post_init__(self) -> None:
        _toy(self.toy, "toy")
        check_seeds(self.seeds)


D_STRENGTH = {"d_steps", "lr_d"}  # the train keys that the overpowered-D setting may change


@dataclass(frozen=True)
class AccuracyVsQualityParams(GanRunsParams):
    settings: dict[str, dict[str, Any]]  # setting -> train keys merged over `train`
    tail_fraction: float = 0.2  # "final" D accuracy: its mean over the last part of the steps

    def __post_init__(self) -> None:
        super().__post_init__()
        check_keys_present(self.settings, ["balanced", "overpowered_d"], "settings")
        for name, over in self.settings.items():
            check_train_block({**self.train, **over}, f"settings.{name}")
        if self.settings["balanced"]:
            raise ConfigError(f"settings.balanced: must be empty (it is `train` itself), got {self.settings['balanced']}")
        g_side = sorted(set(self.settings["overpowered_d"]) - D_STRENGTH)
        if g_side:  # the comparison would be confounded: the thesis's claim is about D's strength alone
            raise ConfigError(f"settings.overpowered_d: may change only D's strength ({', '.join(sorted(D_STRENGTH))}), "
                              f"not {', '.join(g_side)}; put keys both settings share in `train`")
        t = TrainConfig.from_dict(self.train)
        strong = TrainConfig.from_dict(deep_merge(self.train, self.settings["overpowered_d"]))
        if strong.d_steps <= t.d_steps and strong.lr_d <= t.lr_d:
            raise ConfigError(f"settings.overpowered_d: gives D no more steps (d_steps {strong.d_steps}) and no larger "
                              f"learning rate (lr_d {strong.lr_d}) than `train` ({t.d_steps}, {t.lr_d}): raise one of them")
        if not 0 < self.tail_fraction <= 1:
            raise ConfigError(f"tail_fraction: must be in (0, 1], got {self.tail_fraction}")


def overpowered(cell: Mapping[str, Any]) -> bool:
    """A run of the over-powered discriminator: accuracy_vs_quality sets out to show what a dominant D does to
    its generator, so a failure there is the experiment's point, not a broken run."""
    return cell.get("setting") == "overpowered_d"


def accuracy_vs_quality_runs(p: AccuracyVsQualityParams) -> dict[str, RunSpec]:
    """One GAN per setting (balanced, overpowered D, saturating loss) and seed."""
    return {f"{s}_s{seed}": RunSpec(train_spec(p.train, seed, p.overrides, f"{s}_s{seed}", **over), p.fid_samples,
                                    {"setting": s, "seed": seed})
            for s, over in p.settings.items() for seed in p.seeds}


AE_KEYS = [f.name for f in dataclasses.fields(AEConfig)]


@dataclass(frozen=True)
class LectureAutoencodersParams:
    dataset: str
    holdout: int
    shared: dict[str, Any]  # AEConfig keys every model shares
    models: tuple[dict[str, Any], ...]  # each: name and its own AEConfig keys; a list, so that the order survives
    limit: int | None = None
    seed: int = 0
    threads: int = 1

    def __post_init__(self) -> None:
        check_nonempty(self.models, "models")
        names = []
        for i, m in enumerate(self.models):
            if not isinstance(m.get("name"), str):
                raise ConfigError(f"models[{i}].name: missing (every model has a name)")
            names.append(m["name"])
            parse(AEConfig, {**self.shared, **{k: v for k, v in m.items() if k != "name"}}, f"models[{i}].")
        check_unique(names, "models (name)")
        batch = parse(AEConfig, self.shared, "shared.").batch_size
        check_within(self.holdout + batch, _data(self.dataset, self.limit, "dataset"), "holdout",
                     f"images (holdout {self.holdout} + one batch of {batch})")


EXPERIMENTS = [
    Experiment("nce", "Noise-contrastive estimation", "background/nce", NceParams),
    Experiment("vae", "Variational autoencoder", "background/vae", VaeParams, needs=lambda p: ("feature_net",), fid=True,
               data=lambda p: [{"name": p.dataset}]),
    Experiment("diffusion", "Diffusion model", "background/diffusion", DiffusionParams, data=lambda p: [{"name": p.mnist.dataset}]),
    Experiment("minimax", "The optimal discriminator and C(G), checked numerically", "theory/objective", MinimaxParams),
    Experiment("saturating", "Saturating vs non-saturating generator loss", "theory/saturating", SaturatingParams),
    Experiment("optimal_d", "A one-dimensional GAN in the distribution view", "theory/training_process", OptimalDParams),
    Experiment("accuracy_vs_quality", "Discriminator accuracy vs sample quality", "theory/evaluation",
               AccuracyVsQualityParams, runs=accuracy_vs_quality_runs, meant_to_fail=overpowered),
    Experiment("lecture_autoencoders", "The lecture's autoencoders", "results/studies/lecture", LectureAutoencodersParams,
               data=lambda p: [{"name": p.dataset}]),
]
