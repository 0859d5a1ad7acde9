"""The registry of experiments: one entry per experiment of the thesis, read by everything that runs or shows one.

- the workflow (`rules/common.smk`) parses each experiment's config block with `Experiment.parse` at parse time,
  registers its training runs (`Experiment.run_specs`) as jobs of `train_run`, and makes one aggregate job per
  experiment whose inputs are its runs and the results it `needs`;
- a notebook (`gan.notebook.open_experiment`) parses its parameters with the same entry and, with its tiny
  default parameters, trains the same `run_specs` itself;
- the book's staging step reads each experiment's page and whether it states a claim.

Adding an experiment: a block in config/config.yaml, an entry here (parameters, runs), a notebook
analysis/<name>.ipynb and a page that includes its section (docs/DESIGN.md, "Adding an experiment").
"""

from __future__ import annotations

from typing import Any

from gan.config import ConfigError, deep_merge, did_you_mean
from gan.experiments import background, thesis, zoo
from gan.experiments.base import Experiment, RunSpec

SCALES = ("smoke", "mnist5k", "full")

REGISTRY: dict[str, Experiment] = {e.name: e for e in [*thesis.EXPERIMENTS, *zoo.EXPERIMENTS, *background.EXPERIMENTS]}


def get(name: str) -> Experiment:
    if name not in REGISTRY:
        raise ConfigError(f"experiments.{name}: no such experiment in gan.experiments{did_you_mean(name, REGISTRY)}; "
                          f"known: {', '.join(REGISTRY)}")
    return REGISTRY[name]


def block_params(block: dict[str, Any], scale: str) -> dict[str, Any]:
    """An experiment's parameters at a scale: its `common` block with the scale's block merged over it."""
    return deep_merge(block.get("common") or {}, block.get(scale) or {})


def parse_all(experiments: dict[str, dict[str, Any]], scale: str) -> dict[str, Any]:
    """Every experiment block of config.yaml at `scale`, parsed and checked: name -> typed parameters. The config
    and the registry must name the same experiments; what one experiment `needs` must exist."""
    for name in experiments:
        get(name)
    missing = [n for n in REGISTRY if n not in experiments]
    if missing:
        raise ConfigError(f"experiments: no block for {', '.join(missing)} (registered in gan.experiments)")
    parsed = {name: REGISTRY[name].parse(block_params(experiments[name], scale)) for name in REGISTRY}
    for name, p in parsed.items():
        for need in REGISTRY[name].needs(p):
            if need not in REGISTRY:
                raise ConfigError(f"experiments.{name}: reads the results of {need!r}, which is no experiment"
                                  f"{did_you_mean(need, REGISTRY)}")
    return parsed


def claims() -> list[str]:
    """The experiments that test a claim of the thesis (each writes verdict.md), in the registry's order."""
    return [n for n, e in REGISTRY.items() if e.claim]


__all__ = ["REGISTRY", "SCALES", "Experiment", "RunSpec", "block_params", "claims", "get", "parse_all"]
