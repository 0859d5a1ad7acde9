"""The thesis's own experiments: the LeNet-FID feature network they are scored in, dense vs convolutional, the
G-depth x D-depth grid, the augmentation grid, and the 5-layer DCGAN on AFHQ cats."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gan import pilots
from gan.config import ConfigError, DataConfig, parse
from gan.data.catalog import AUGMENTATIONS, check_data
from gan.experiments.base import (Experiment, GanRunsParams, OneModelParams, RunSpec, check_keys_present,
                                  check_nonempty, check_range, check_unique, check_within, train_spec)

DEPTHS = (3, 8)  # weight layers per network that gan.models.dcgan builds


@dataclass(frozen=True)
class FeatureNetParams:
    dataset: str  # the real set LeNet-FID is trained on, and calibrated against
    noise_floor_samples: tuple[int, ...]  # sample counts of the real-vs-real floor (the other half is the reference)

    def __post_init__(self) -> None:
        data = check_data(parse(DataConfig, {"name": self.dataset}, "dataset."), "dataset.")
        check_nonempty(self.noise_floor_samples, "noise_floor_samples")
        check_unique(self.noise_floor_samples, "noise_floor_samples")
        check_range(self.noise_floor_samples, 2, 10**7, "noise_floor_samples")
        for n in self.noise_floor_samples:  # drawn from one half of the set; the other half is the reference
            check_within(2 * n, data, "noise_floor_samples", f"images (twice {n}: a sample and a disjoint reference of)")


@dataclass(frozen=True)
class Arch:
    model: str
    model_kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ThesisTimes:
    dense_ms: float  # per-step times the thesis reported on its own GPU
    conv_ms: float


@dataclass(frozen=True)
class DenseConvParams(GanRunsParams):
    archs: dict[str, Arch]
    thesis: ThesisTimes | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        check_keys_present(self.archs, ["dense", "conv"], "archs")


def dense_conv_runs(p: DenseConvParams) -> dict[str, RunSpec]:
    runs = {}
    for arch, spec in p.archs.items():
        for seed in p.seeds:
            rid = f"{arch}_s{seed}"
            t = train_spec(p.train, seed, p.overrides, rid, model=spec.model, model_kwargs=spec.model_kwargs)
            runs[rid] = RunSpec(t, p.fid_samples, {"arch": arch, "seed": seed})
    return runs


@dataclass(frozen=True)
class DepthGridParams(OneModelParams):
    g_depths: tuple[int, ...]
    d_depths: tuple[int, ...]

    def __post_init__(self) -> None:
        super().__post_init__()
        for key in ("g_depths", "d_depths"):
            v = getattr(self, key)
            check_nonempty(v, key)
            check_unique(v, key)
            check_range(v, *DEPTHS, key)


def depth_grid_runs(p: DepthGridParams) -> dict[str, RunSpec]:
    runs = {}
    for g in p.g_depths:
        for d in p.d_depths:
            for seed in p.seeds:
                rid = f"g{g}_d{d}_s{seed}"
                kw = {**p.model_kwargs, "g_depth": g, "d_depth": d}
                t = train_spec(p.train, seed, p.overrides, rid, model=p.model, model_kwargs=kw)
                runs[rid] = RunSpec(t, p.fid_samples, {"g_depth": g, "d_depth": d, "seed": seed})
    return runs


@dataclass(frozen=True)
class AugmentationParams(OneModelParams):
    augmentations: tuple[str, ...]  # names in gan.data.catalog.AUGMENTATIONS; "none" is the baseline

    def __post_init__(self) -> None:
        super().__post_init__()
        check_unique(self.augmentations, "augmentations")
        for a in self.augmentations:
            if a not in AUGMENTATIONS:
                raise ConfigError(f"augmentations: unknown augmentation {a!r}; known: {', '.join(AUGMENTATIONS)}")
        if "none" not in self.augmentations or len(self.augmentations) < 2:
            raise ConfigError("augmentations: needs 'none' (the baseline the claim compares with) and at least one other")


def augmentation_runs(p: AugmentationParams) -> dict[str, RunSpec]:
    runs = {}
    for aug in p.augmentations:
        for seed in p.seeds:
            rid = f"{aug}_s{seed}"
            t = train_spec(p.train, seed, p.overrides, rid, model=p.model, model_kwargs=p.model_kwargs)
            t["data"] = {**t.get("data", {}), "augment": aug}
            runs[rid] = RunSpec(t, p.fid_samples, {"augmentation": aug, "seed": seed})
    return runs


@dataclass(frozen=True)
class AfhqParams(OneModelParams):
    """The 5-layer DCGAN on AFHQ cats: one model, one run per seed."""


def afhq_runs(p: AfhqParams) -> dict[str, RunSpec]:
    return {f"s{seed}": RunSpec(train_spec(p.train, seed, p.overrides, f"s{seed}", model=p.model,
                                           model_kwargs=p.model_kwargs), p.fid_samples, {"seed": seed})
            for seed in p.seeds}


@dataclass(frozen=True)
class SynthesisParams:
    sources: tuple[str, ...]  # the experiments whose tested claims (verdict.json) the synthesis reads
    alpha: float = 0.05  # the family-wise level of the thesis's headline claims

    def __post_init__(self) -> None:
        check_nonempty(self.sources, "sources")
        check_unique(self.sources, "sources")
        if not 0 < self.alpha < 0.5:
            raise ConfigError(f"alpha: must be in (0, 0.5), got {self.alpha}")


@dataclass(frozen=True)
class MethodsParams:
    sources: tuple[str, ...]  # the GAN experiments whose runs' configurations and models the methods describe
    # groups of pilots (pilots/results/<name>.jsonl) whose curves show what a longer budget or another setting
    # gives; the pilots of a group differ only in seed and budget (gan.pilots). (): no such section
    pilots: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        check_nonempty(self.sources, "sources")
        check_unique(self.sources, "sources")
        for i, group in enumerate(self.pilots):
            check_nonempty(group, f"pilots[{i}]")
            pilots.check_logged(group, f"pilots[{i}]")
        check_unique([n for g in self.pilots for n in g], "pilots")


EXPERIMENTS = [
    Experiment("feature_net", "The LeNet-FID feature network", "theory/evaluation", FeatureNetParams, fid=True,
               data=lambda p: [{"name": p.dataset}]),
    Experiment("dense_conv", "Dense vs convolutional layers", "results/dense_conv", DenseConvParams,
               runs=dense_conv_runs, claim=True),
    Experiment("depth_grid", "Generator depth x discriminator depth", "results/depth_grid", DepthGridParams,
               runs=depth_grid_runs, claim=True),
    Experiment("augmentation", "Data augmentation", "results/augmentation", AugmentationParams,
               runs=augmentation_runs, claim=True),
    Experiment("afhq", "Animal Faces-HQ cats", "results/afhq", AfhqParams, runs=afhq_runs, claim=True),
    Experiment("synthesis", "The thesis at a glance", "synthesis", SynthesisParams, needs=lambda p: p.sources,
               also_on=("discussion",)),
    # the pilots' section reads the scale's calibration (its FID target) and the pilots' logs
    Experiment("methods", "Methods: models and training settings", "methods", MethodsParams,
               needs=lambda p: (*p.sources, *(("feature_net",) if p.pilots else ())),
               reads=lambda p: [pilots.repo_path(n) for g in p.pilots for n in g]),
]
