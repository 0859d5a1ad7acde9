"""What an experiment is: typed parameters, the training runs they define, the results it reads, its book page.

An `Experiment` is the one definition that the workflow (its jobs and their inputs), the notebooks (their demo
runs and typed parameters) and the book's staging step (the page and the claim list) all read. Parameters are
frozen dataclasses parsed by `gan.config.parse`, so an unknown key, a wrong type or an out-of-range value fails
`snakemake -n` with a message that names the key; each class adds its own checks in `__post_init__` (seeds
unique and non-empty, grid values in range, sample counts within the data set).

No torch here: the Snakefile and the staging step import this in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

from gan.config import ConfigError, DataConfig, TrainConfig, deep_merge, did_you_mean, parse
from gan.data.catalog import check_data, dataset, size_of


@dataclass(frozen=True)
class RunSpec:
    """One training run of an experiment: one job of the workflow's `train_run` rule."""

    train: dict[str, Any]  # a TrainConfig as a dict (checked in full by gan.checks.parse_train)
    fid_samples: int  # generated images scored by FID
    cell: dict[str, Any]  # the run's coordinates in its experiment (e.g. g_depth, d_depth, seed)
    fid_reference: dict[str, Any] | None = None  # the real images FID compares with; None: the training set


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str  # a short title (the book's list of notebooks)
    page: str  # the book page that includes its section, e.g. "results/depth_grid" (book/<page>.md)
    params: type  # the dataclass of its parameters
    runs: Callable[[Any], dict[str, RunSpec]] | None = None  # its training runs, if it trains GANs
    needs: Callable[[Any], Sequence[str]] = lambda p: ()  # experiments whose results its notebook reads
    # tests a claim of the thesis: writes verdict.md, which the discussion includes (for headline claims, the
    # synthesis's book-wide verdicts instead: results/<scale>/synthesis/corrected_<name>.md)
    claim: bool = False
    fid: bool = False  # its notebook computes FIDs of its own (it gets the scale's feature network)
    also_on: tuple[str, ...] = ()  # other pages that include its report again (the synthesis, in the discussion)
    data: Callable[[Any], Sequence[dict[str, Any]]] = lambda p: ()  # data sets its notebook loads itself (not its runs')
    reads: Callable[[Any], Sequence[str]] = lambda p: ()  # repository files its notebook reads (paths from the root)
    # a run whose failure is the experiment's point, by the run's cell (a manifest's `cell`, or a row of its runs):
    # such a failed run is labelled as intended (the over-powered discriminator of accuracy_vs_quality)
    meant_to_fail: Callable[[Mapping[str, Any]], bool] = lambda cell: False

    def parse(self, d: dict[str, Any] | Any, where: str | None = None) -> Any:
        """Typed, checked parameters from a config block (or a notebook's demo parameters)."""
        where = f"experiments.{self.name}." if where is None else where
        p = parse(self.params, d, where)
        if self.runs is not None:
            overrides = getattr(p, "overrides", {})
            ids = self.runs(p)
            for rid in overrides:
                if rid not in ids:
                    raise ConfigError(f"{where}overrides.{rid}: no such run{did_you_mean(rid, ids)}; "
                                      f"runs: {', '.join(ids)}")
        return p

    def run_specs(self, p: Any) -> dict[str, RunSpec]:
        return self.runs(p) if self.runs is not None else {}


# --- helpers the experiments share ----------------------------------------------------------------------------------


def train_spec(train: dict[str, Any], seed: int, overrides: dict[str, dict[str, Any]], run_id: str,
               **updates: Any) -> dict[str, Any]:
    """A run's train config: the experiment's `train` block, the run's own keys and seed, then the `overrides` of
    that run (deep-merged, in that order)."""
    t = deep_merge(train, {"seed": seed, **updates})
    return deep_merge(t, overrides.get(run_id, {}))


def check_seeds(seeds: Sequence[int], key: str = "seeds") -> None:
    if not seeds:
        raise ConfigError(f"{key}: must list at least one seed")
    check_unique(seeds, key)
    for s in seeds:
        if s < 0:
            raise ConfigError(f"{key}: seeds are integers >= 0, got {s}")


def check_unique(values: Iterable[Any], key: str) -> None:
    seen: set[Any] = set()
    for v in values:
        if v in seen:
            raise ConfigError(f"{key}: {v!r} is listed twice")
        seen.add(v)


def check_nonempty(values: Sequence[Any], key: str) -> None:
    if not values:
        raise ConfigError(f"{key}: must not be empty")


def check_range(values: Iterable[float], lo: float, hi: float, key: str) -> None:
    for v in values:
        if not lo <= v <= hi:
            raise ConfigError(f"{key}: {v!r} is outside [{lo}, {hi}]")


def check_fid_samples(n: int, key: str = "fid_samples") -> None:
    if not 2 <= n <= 100_000:  # a covariance needs 2; more than 100k is no longer a sample count anyone uses
        raise ConfigError(f"{key}: must be in [2, 100000], got {n}")


def check_train_block(train: dict[str, Any], key: str = "train") -> TrainConfig:
    """The keys, types and ranges of a (partial) train block, and its data set's name and limit."""
    cfg = parse(TrainConfig, train, f"{key}.")
    check_data(cfg.data, f"{key}.data.")
    return cfg


def check_data_block(d: dict[str, Any], key: str) -> DataConfig:
    cfg = parse(DataConfig, d, f"{key}.")
    return check_data(cfg, f"{key}.")


def check_within(n: int, data: DataConfig, key: str, what: str = "images") -> None:
    """`n` must not exceed the images of `data` (where the size is known before reading anything)."""
    size = size_of(data)
    if size is not None and n > size:
        raise ConfigError(f"{key}: {n} {what} is more than the {size:,} images of {dataset(data.name).title}")


def check_keys_present(mapping: dict[str, Any], required: Sequence[str], key: str) -> None:
    for r in required:
        if r not in mapping:
            raise ConfigError(f"{key}: needs an entry {r!r} (the claim compares it); has {', '.join(mapping) or 'none'}")


@dataclass(frozen=True, kw_only=True)
class GanRunsParams:
    """What every experiment that trains GANs has, checked once: its seeds (one run per seed and per cell), the
    FID sample count, the train block its runs share, and per-run overrides (run id -> train keys for that run)."""

    seeds: tuple[int, ...]
    fid_samples: int
    train: dict[str, Any]
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_seeds(self.seeds)
        check_fid_samples(self.fid_samples)
        check_train_block(self.train)


@dataclass(frozen=True, kw_only=True)
class OneModelParams(GanRunsParams):
    """A GAN experiment whose runs all train one model (a name in gan.models.MODELS and its keyword arguments)."""

    model: str
    model_kwargs: dict[str, Any] = field(default_factory=dict)
