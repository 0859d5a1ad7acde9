"""Model registry: every generator/discriminator pair the thesis and its seeds use, built by name.

A builder takes keyword arguments only and returns `(G, D)`. Every G maps noise `[B, z_dim]` (and labels, for
conditional models) to images in the data's pixel range; every D returns one *logit* per image `[B]` (never a
probability), so that losses stay numerically safe and autocast-friendly.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any, Callable

import torch
from torch import nn

from gan.config import ConfigError, check_value, did_you_mean
from gan.models import cifar, dcgan, dense, lecture, seminar
from gan.models.init import dcgan_init

MODELS: dict[str, Callable[..., tuple[nn.Module, nn.Module]]] = {
    "dense": dense.build,
    "dcgan28": dcgan.build_dcgan28,
    "afhq_dcgan": dcgan.build_afhq,
    "seminar": seminar.build,
    "lecture": lecture.build,
    "cifar_dcgan": cifar.build_dcgan,
    "cifar_cgan": cifar.build_cgan,
    "cifar_wgan_gp": cifar.build_wgan_gp,
}


def build(name: str, z_dim: int, **kwargs: Any) -> tuple[nn.Module, nn.Module]:
    return MODELS[name](z_dim=z_dim, **kwargs)


def check_model_kwargs(name: str, kwargs: dict[str, Any], z_dim: int = 100) -> None:
    """Validate a model name and its kwargs by building the model on the meta device (no memory, no time)."""
    if name not in MODELS:
        raise ConfigError(f"model: unknown model {name!r}{did_you_mean(name, MODELS)}; known: {', '.join(MODELS)}")
    params = inspect.signature(MODELS[name]).parameters
    for k in kwargs:
        if k not in params or k == "z_dim":
            allowed = [p for p in params if p != "z_dim"]
            raise ConfigError(f"model_kwargs.{k}: unknown for model {name!r}{did_you_mean(k, allowed)}; "
                              f"allowed: {', '.join(allowed)}")
    hints = typing.get_type_hints(MODELS[name])
    for k, v in kwargs.items():
        if k in hints:
            check_value(hints[k], v, f"model_kwargs.{k}")  # the rules of every config field
    try:
        with torch.device("meta"):
            build(name, z_dim, **kwargs)
    except (ValueError, TypeError) as e:
        raise ConfigError(f"model_kwargs: {e}") from None


def count_params(m: nn.Module, trainable_only: bool = True) -> int:
    return sum(p.numel() for p in m.parameters() if p.requires_grad or not trainable_only)


def is_conditional(m: nn.Module) -> bool:
    return getattr(m, "num_classes", 0) > 0


__all__ = ["MODELS", "build", "check_model_kwargs", "count_params", "dcgan_init", "is_conditional"]
