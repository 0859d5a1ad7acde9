"""The model-selection chapter: the other authors' GAN systems (seeds/*.txt), rebuilt and compared - the CIFAR-10
study's seven models, the seminar's and the lecture's GANs, the face-preprocessing study - and one table of all."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from gan import pilots
from gan.config import ConfigError, TrainConfig, did_you_mean
from gan.experiments.base import (Experiment, GanRunsParams, OneModelParams, RunSpec, check_data_block,
                                  check_keys_present, check_nonempty, check_range, check_train_block, check_unique,
                                  train_spec)

TRAIN_KEYS = [f.name for f in dataclasses.fields(TrainConfig)]


@dataclass(frozen=True)
class StudyClaim:
    claim: str  # the hypothesis, as a sentence the verdict completes ("the data support the claim that ...")
    better: str  # the model id the study says is better (lower FID)
    worse: str
    seed_says: str  # what the study concluded, in its words


@dataclass(frozen=True)
class FidDemo:
    sample_counts: tuple[int, ...]  # why FID values depend on how they are computed: sample count...
    feature_scale: float  # ... and the feature network's scale


def study_model(entry: dict[str, Any], width: int) -> tuple[str, str, dict[str, Any]]:
    """One model of the study (`id`, `label`, optional `width_ratio`, and the train keys it changes) -> (id, label,
    those train keys with `model_kwargs.width` = width x width_ratio)."""
    spec = dict(entry)
    key, label = spec.pop("id"), spec.pop("label")
    ratio = spec.pop("width_ratio", 1)
    spec["model_kwargs"] = {**spec.get("model_kwargs", {}), "width": max(4, round(width * ratio))}
    return key, label, spec


@dataclass(frozen=True)
class CifarStudyParams(GanRunsParams):
    width: int  # base width w of the 32x32 DCGAN (G: 4w-2w-w channels; D: w-2w-4w)
    models: tuple[dict[str, Any], ...]  # each: id, label, optional width_ratio, and the train keys it changes
    claims: tuple[StudyClaim, ...]
    fid_demo: FidDemo
    seed_reported: dict[str, Any] = field(default_factory=dict)  # the study's own numbers, shown as theirs
    anchors: tuple[str, ...] = ()  # published anchors (config `anchors`) shown beside the FIDs
    # model id -> pilots (pilots/results/<name>.jsonl) that tried to make it train; the report lists each with what
    # it changed from the model's committed runs (gan.pilots.tried). {}: no such section
    pilots: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        check_range([self.width], 4, 512, "width")
        check_nonempty(self.models, "models")
        ids = []
        for i, m in enumerate(self.models):
            where = f"models[{i}]"
            for req in ("id", "label"):
                if not isinstance(m.get(req), str):
                    raise ConfigError(f"{where}.{req}: missing (every model has an id and a label)")
            ratio = m.get("width_ratio", 1)
            if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 < ratio <= 4:
                raise ConfigError(f"{where}.width_ratio: must be a number in (0, 4], got {ratio!r}")
            for k in m:
                if k not in ("id", "label", "width_ratio") and k not in TRAIN_KEYS:
                    raise ConfigError(f"{where}.{k}: unknown key{did_you_mean(k, TRAIN_KEYS)}; a model sets id, "
                                      f"label, width_ratio and train keys ({', '.join(TRAIN_KEYS)})")
            check_train_block({k: v for k, v in m.items() if k not in ("id", "label", "width_ratio")}, where)
            ids.append(m["id"])
        check_unique(ids, "models (id)")
        for i, c in enumerate(self.claims):
            for side in ("better", "worse"):
                if getattr(c, side) not in ids:
                    raise ConfigError(f"claims[{i}].{side}: no model {getattr(c, side)!r}{did_you_mean(getattr(c, side), ids)}")
        check_nonempty(self.fid_demo.sample_counts, "fid_demo.sample_counts")
        for key, names in self.pilots.items():
            if key not in ids:
                raise ConfigError(f"pilots.{key}: no model {key!r}{did_you_mean(key, ids)}")
            check_nonempty(names, f"pilots.{key}")
            check_unique(names, f"pilots.{key}")
            pilots.check_logged(names, f"pilots.{key}")

    def resolved(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """id -> (label, the train keys the model sets, its width applied), in the study's order."""
        return {k: (label, spec) for k, label, spec in (study_model(m, self.width) for m in self.models)}


def cifar_study_runs(p: CifarStudyParams) -> dict[str, RunSpec]:
    runs = {}
    for key, (label, spec) in p.resolved().items():
        for seed in p.seeds:
            rid = f"{key}_s{seed}"
            runs[rid] = RunSpec(train_spec(p.train, seed, p.overrides, rid, **spec), p.fid_samples,
                                {"model": key, "label": label, "seed": seed})
    return runs


@dataclass(frozen=True)
class SingleModelParams(OneModelParams):
    """The seminar's and the lecture's GANs: one model, several seeds."""

    seed_reported: dict[str, Any] = field(default_factory=dict)  # the source's own numbers, shown as theirs
    anchors: tuple[str, ...] = ()  # published anchors (config `anchors`) shown beside the FIDs


def single_model_runs(name: str):
    def runs(p: SingleModelParams) -> dict[str, RunSpec]:
        return {f"s{seed}": RunSpec(train_spec(p.train, seed, p.overrides, f"s{seed}", model=p.model,
                                               model_kwargs=p.model_kwargs), p.fid_samples, {"model": name, "seed": seed})
                for seed in p.seeds}
    return runs


@dataclass(frozen=True)
class FacePreprocessingParams(OneModelParams):
    variants: dict[str, dict[str, Any]]  # raw and preprocessed: the data config each variant trains on
    reference: dict[str, Any]  # the clean images both variants are scored against
    claim: str

    def __post_init__(self) -> None:
        super().__post_init__()
        check_keys_present(self.variants, ["raw", "preprocessed"], "variants")
        for name, d in self.variants.items():
            check_data_block(d, f"variants.{name}")
        check_data_block(self.reference, "reference")


def face_preprocessing_runs(p: FacePreprocessingParams) -> dict[str, RunSpec]:
    runs = {}
    for variant, data in p.variants.items():
        for seed in p.seeds:
            rid = f"{variant}_s{seed}"
            t = train_spec(p.train, seed, p.overrides, rid, model=p.model, model_kwargs=p.model_kwargs, data=data)
            # both variants are scored against the same clean reference, so their FIDs share one feature space
            runs[rid] = RunSpec(t, p.fid_samples, {"variant": variant, "seed": seed}, fid_reference=p.reference)
    return runs


@dataclass(frozen=True)
class ModelSelectionParams:
    sources: dict[str, str]  # experiment -> the runs.csv column that names its models

    def __post_init__(self) -> None:
        check_nonempty(list(self.sources), "sources")


EXPERIMENTS = [
    Experiment("cifar_study", "The CIFAR-10 DCGAN study", "results/studies/cifar_study", CifarStudyParams,
               runs=cifar_study_runs, fid=True,
               reads=lambda p: [pilots.repo_path(n) for names in p.pilots.values() for n in names]),
    Experiment("seminar", "The seminar's MNIST GAN", "results/studies/seminar", SingleModelParams,
               runs=single_model_runs("seminar")),
    Experiment("lecture_gan", "The lecture's GAN", "results/studies/lecture", SingleModelParams,
               runs=single_model_runs("lecture_gan")),
    Experiment("face_preprocessing", "Face preprocessing", "results/studies/face_preprocessing", FacePreprocessingParams,
               runs=face_preprocessing_runs, fid=True),
    Experiment("model_selection", "All models side by side", "results/model_selection", ModelSelectionParams,
               needs=lambda p: tuple(p.sources)),
]
