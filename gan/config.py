"""Typed configs, and the one parser that checks them.

Every run of every experiment is described by one `TrainConfig`; every experiment's parameters by a dataclass in
`gan.experiments`. Both are built from plain dicts (slices of `config/config.yaml`, or notebook parameters) by
`parse`, which rejects unknown keys (with a did-you-mean), wrong types and out-of-range values with a message that
names the key, before anything is trained or written.

This module is a leaf: it imports nothing from `gan` (and no torch), so the workflow, the registry of experiments
and the book's staging step can all load it in milliseconds. The names that live in registries (models, data
sets, augmentations) are checked a level up, in `gan.checks`, where those registries are.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Literal


class ConfigError(ValueError):
    """A config value is wrong; the message names the key and what is allowed."""


LossName = Literal["minimax", "non_saturating", "wgan_gp", "hinge"]
Precision = Literal["auto", "fp32", "bf16"]
Device = Literal["auto", "cpu", "cuda"]
PixelRange = Literal["symmetric", "unit"]
DAugment = Literal["none", "translation", "cutout", "translation_cutout"]  # operations joined by "_", in order


@dataclass(frozen=True)
class DataConfig:
    """Which images to train on. `name` picks a data set in `gan.data.catalog`."""

    name: str = "mnist5k"
    root: str | None = None  # folder for torchvision data sets and image folders
    download: bool = True  # torchvision's download=True, for users with the internet
    image_size: int | None = None  # resize (and centre-crop) to this size; None keeps the native size
    channels: int | None = None  # 1 or 3; None keeps the native channels
    limit: int | None = None  # use only the first `limit` images (after the seeded shuffle)
    augment: str = "none"  # a name in gan.data.catalog.AUGMENTATIONS
    pixel_range: PixelRange = "symmetric"  # [-1, 1] (tanh G) or [0, 1] (sigmoid G)

    @staticmethod
    def from_dict(d: dict[str, Any] | None, where: str = "data.") -> "DataConfig":
        return parse(DataConfig, d or {}, where)

    def replace(self, **changes: Any) -> "DataConfig":
        return parse(DataConfig, {**dataclasses.asdict(self), **changes}, "data.")


@dataclass(frozen=True)
class TrainConfig:
    """One GAN training run. Defaults are tiny so that a notebook's defaults run in seconds on a CPU."""

    model: str = "dcgan28"  # a name in gan.models.MODELS
    model_kwargs: dict[str, Any] = field(default_factory=dict)  # passed to the model builder, checked by name
    data: DataConfig = field(default_factory=DataConfig)
    z_dim: int = 100
    loss: LossName = "non_saturating"
    gp_weight: float = 10.0  # WGAN-GP penalty weight (Gulrajani et al. use 10)
    d_steps: int = 1  # discriminator updates per generator update (k in Goodfellow et al.'s Algorithm 1)
    label_smoothing: float = 0.0  # one-sided: real targets become 1 - label_smoothing
    r1_gamma: float = 0.0  # R1: gamma / 2 * E||grad D(x)||^2 at real x, added to D's loss (Mescheder et al. 2018); 0: off
    d_augment: DAugment = "none"  # DiffAugment of D's inputs, real and fake, in both steps (Zhao et al. 2020)
    ema: float = 0.0  # decay of a moving average of G's weights that makes the samples and FID; 0: off (Yazici et al. 2019)
    steps: int = 20  # generator updates
    batch_size: int = 32
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    lr_half_life: int = 0  # steps in which both learning rates halve (exponential decay by step); 0: constant
    betas: tuple[float, float] = (0.5, 0.999)  # DCGAN's Adam betas
    adam_eps: float = 1e-8  # Adam's epsilon: PyTorch's default; Keras's is 1e-7
    seed: int = 0
    checkpoint_every: int = 200  # steps between checkpoints; the last step always checkpoints
    log_every: int = 10  # steps between progress-bar updates (and GPU syncs on the fast path)
    device: Device = "auto"
    precision: Precision = "auto"  # auto: bf16 autocast on CUDA, fp32 on CPU
    channels_last: bool | None = None  # None: on for CUDA
    compile: bool = False  # torch.compile G and D (pays off on long GPU runs only)
    threads: int | None = None  # torch CPU threads; None leaves torch's default

    @staticmethod
    def from_dict(d: dict[str, Any] | None) -> "TrainConfig":
        """Types, ranges and unknown keys only; `gan.checks.parse_train` adds the registries' names."""
        return parse(TrainConfig, d or {}, "")

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["betas"] = list(self.betas)
        return out

    def replace(self, **changes: Any) -> "TrainConfig":
        d = self.to_dict()
        d.update(changes)
        return TrainConfig.from_dict(d)

    def __post_init__(self) -> None:
        if self.loss == "wgan_gp" and self.label_smoothing:
            raise ConfigError("label_smoothing: has no meaning with loss 'wgan_gp'; set it to 0")
        if self.loss == "wgan_gp" and self.r1_gamma:
            raise ConfigError("r1_gamma: loss 'wgan_gp' has its own gradient penalty (gp_weight); set r1_gamma to 0")
        if self.compile and (self.loss == "wgan_gp" or self.r1_gamma):
            # AOTAutograd has no double backward ("torch.compile with aot_autograd does not currently support double
            # backward", pytorch/pytorch#181606): a penalty on D's input gradient cannot be trained through it
            raise ConfigError("compile: a gradient penalty (loss 'wgan_gp', or r1_gamma > 0) differentiates D twice, which "
                              "torch.compile does not support; set compile to false")


# Range checks: field name -> (predicate, description). Types come from the annotations. A dataclass may add its
# own with a class attribute `RANGES` of the same shape (the experiments' parameters do).
Range = tuple[Callable[[Any], bool], str]
_RANGES: dict[str, Range] = {
    "z_dim": (lambda v: 1 <= v <= 4096, "an integer in [1, 4096]"),
    "gp_weight": (lambda v: v >= 0, "a number >= 0"),
    "d_steps": (lambda v: 1 <= v <= 100, "an integer in [1, 100]"),
    "label_smoothing": (lambda v: 0 <= v < 0.5, "a number in [0, 0.5)"),
    "r1_gamma": (lambda v: v >= 0, "a number >= 0 (0: no R1 penalty)"),
    "ema": (lambda v: 0 <= v < 1, "a number in [0, 1)"),
    "steps": (lambda v: v >= 1, "an integer >= 1"),
    "batch_size": (lambda v: 1 <= v <= 65536, "an integer in [1, 65536]"),
    "lr_g": (lambda v: 0 < v < 1, "a number in (0, 1)"),
    "lr_d": (lambda v: 0 < v < 1, "a number in (0, 1)"),
    "lr_half_life": (lambda v: v >= 0, "an integer >= 0 (0: constant learning rates)"),
    "betas": (lambda v: all(0 <= b < 1 for b in v), "two numbers in [0, 1)"),
    "adam_eps": (lambda v: 0 < v < 1, "a number in (0, 1)"),
    "seed": (lambda v: 0 <= v < 2**63, "an integer >= 0"),
    "checkpoint_every": (lambda v: v >= 1, "an integer >= 1"),
    "log_every": (lambda v: v >= 1, "an integer >= 1"),
    "threads": (lambda v: v is None or 1 <= v <= 512, "null or an integer in [1, 512]"),
    "image_size": (lambda v: v is None or 8 <= v <= 1024, "null or an integer in [8, 1024]"),
    "channels": (lambda v: v is None or v in (1, 3), "null, 1 or 3"),
    "limit": (lambda v: v is None or v >= 1, "null or an integer >= 1"),
}


def did_you_mean(name: Any, options: typing.Iterable[Any]) -> str:
    """' (did you mean 'x'?)' for the closest option, or ''."""
    close = difflib.get_close_matches(str(name), [str(o) for o in options], n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def parse(cls: type, d: Any, prefix: str = "") -> Any:
    """Build the dataclass `cls` from a mapping, checking every key against its annotations and ranges.
    `prefix` is how the mapping is named in messages (e.g. 'experiments.depth_grid.')."""
    if isinstance(d, cls):
        return d
    if not isinstance(d, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: expected a mapping, got {type(d).__name__} {d!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = [k for k in d if k not in names]
    if unknown:
        k = unknown[0]
        raise ConfigError(f"{prefix}{k}: unknown key{did_you_mean(k, names)}; allowed keys: {', '.join(names)}")
    missing = [f.name for f in dataclasses.fields(cls)
               if f.name not in d and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ConfigError(f"{prefix}{missing[0]}: missing (required key)")
    ranges = {**_RANGES, **getattr(cls, "RANGES", {})}
    kwargs = {}
    for name in names:
        if name not in d:
            continue
        kwargs[name] = check_value(hints[name], d[name], f"{prefix}{name}")
        if name in ranges:
            ok, what = ranges[name]
            if not ok(kwargs[name]):
                raise ConfigError(f"{prefix}{name}: must be {what}, got {d[name]!r}")
    try:
        return cls(**kwargs)
    except ConfigError as e:  # a cross-field check in __post_init__: name the object it is in
        raise ConfigError(f"{prefix}{e}") from None


def check_value(tp: Any, v: Any, where: str) -> Any:
    """Check `v` against the annotation `tp`; return it converted where that is lossless (list -> tuple,
    int -> float, mapping -> dataclass)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return v
    if dataclasses.is_dataclass(tp):
        return parse(tp, v, where + ".")
    if origin in (typing.Union, types.UnionType):
        errors = []
        for a in args:
            try:
                return check_value(a, v, where)
            except ConfigError as e:
                errors.append(e)
        real = [e for e, a in zip(errors, args) if a is not type(None)]
        if len(real) == 1 and v is not None:  # `X | None`: say what is wrong with the X
            raise real[0]
        raise ConfigError(f"{where}: {v!r} matches none of {', '.join(_name(a) for a in args)}")
    if origin is Literal:
        if v not in args:
            raise ConfigError(f"{where}: must be one of {', '.join(map(repr, args))}, got {v!r}{did_you_mean(v, args)}")
        return v
    if tp is type(None):
        if v is not None:
            raise ConfigError(f"{where}: expected null, got {v!r}")
        return v
    if tp is bool:
        if not isinstance(v, bool):
            raise ConfigError(f"{where}: expected true or false, got {v!r}")
        return v
    if tp is int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise ConfigError(f"{where}: expected an integer, got {v!r}")
        return v
    if tp is float:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {v!r}")
        if v != v or v in (float("inf"), float("-inf")):
            raise ConfigError(f"{where}: expected a finite number, got {v!r}")
        return float(v)
    if tp is str:
        if not isinstance(v, str):
            raise ConfigError(f"{where}: expected a string, got {v!r}")
        return v
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:  # tuple[X, ...]: a list of any length
            if not isinstance(v, (list, tuple)):
                raise ConfigError(f"{where}: expected a list, got {v!r}")
            return tuple(check_value(args[0], x, f"{where}[{i}]") for i, x in enumerate(v))
        if not isinstance(v, (list, tuple)) or len(v) != len(args):
            raise ConfigError(f"{where}: expected a list of {len(args)} values, got {v!r}")
        return tuple(check_value(a, x, f"{where}[{i}]") for i, (a, x) in enumerate(zip(args, v)))
    if origin is dict:
        if not isinstance(v, dict):
            raise ConfigError(f"{where}: expected a mapping, got {v!r}")
        kt, vt = args if args else (Any, Any)
        return {check_value(kt, k, f"{where} key {k!r}"): check_value(vt, x, f"{where}.{k}") for k, x in v.items()}
    raise TypeError(f"unsupported annotation {tp!r} at {where}")


def _name(tp: Any) -> str:
    if tp is type(None):
        return "null"
    if typing.get_origin(tp) is Literal:
        return "/".join(map(repr, typing.get_args(tp)))
    return getattr(tp, "__name__", str(tp))


def deep_merge(base: dict[str, Any], over: dict[str, Any] | None) -> dict[str, Any]:
    """`over` merged into `base`, mapping by mapping (the scale blocks of config.yaml over `common`)."""
    out = dict(base)
    for k, v in (over or {}).items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out
