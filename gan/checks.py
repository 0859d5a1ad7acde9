"""Where a training config enters: parse it once, and check the names it uses against the registries.

`gan.config` checks types, ranges and keys and imports nothing of ours; the names a config uses live in
registries above it (the data catalogue, the augmentation presets, the models). This module is the one place
that checks them, so every entry point (the workflow at parse time, `gan.run.run_training`, the pilots) parses a
`TrainConfig` the same way, and everything below takes the parsed object.
"""

from __future__ import annotations

from typing import Any

from gan.config import ConfigError, TrainConfig
from gan.data.catalog import check_data
from gan.models import check_model_kwargs


def check_train(cfg: TrainConfig, where: str = "") -> TrainConfig:
    """The data set, augmentation and model of a parsed config exist, and the model's kwargs build it."""
    check_data(cfg.data, f"{where}data.")
    try:
        check_model_kwargs(cfg.model, cfg.model_kwargs, cfg.z_dim)
    except ConfigError as e:
        raise ConfigError(f"{where}{e}") from None
    return cfg


def parse_train(d: dict[str, Any] | TrainConfig | None, where: str = "") -> TrainConfig:
    """A `TrainConfig` from a dict, with every key, type, range and registry name checked."""
    cfg = d if isinstance(d, TrainConfig) else TrainConfig.from_dict(d)
    return check_train(cfg, where)
