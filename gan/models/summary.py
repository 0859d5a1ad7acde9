"""A model's layers as a table, like the Keras summaries the seeds print: each layer with weights, its output
shape and its number of parameters, computed by running the model once, without gradients, on a batch of two zero inputs on the CPU."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn.utils import parametrize

from gan.models import build, is_conditional


def layer_table(module: nn.Module, *inputs: torch.Tensor) -> list[dict[str, Any]]:
    """Rows (layer, output shape, parameters) for every leaf module of `module` (weights, normalisations,
    activations, reshapes), in the order they run; shapes leave out the batch dimension. A parametrized layer
    (spectral norm, say) is one row, noting its parametrizations, with its own parameters (`weight` is then
    `parametrizations.weight.original`); the parametrizations' modules are not layers."""
    rows: list[dict[str, Any]] = []
    hooks = []

    def hook(m: nn.Module, args: Any, out: Any) -> None:
        if not isinstance(out, torch.Tensor):
            return
        n = sum(p.numel() for p in m.parameters(recurse=False))
        if parametrize.is_parametrized(m):
            n += sum(p.numel() for p in m.parametrizations.parameters())
        shape = tuple(out.shape[1:])
        cls = m.__class__.__bases__[0] if parametrize.is_parametrized(m) else m.__class__  # not Parametrized<cls>
        rows.append({"layer": cls.__name__ + _args(m) + _parametrizations(m),
                     "output shape": " × ".join(map(str, shape)), "parameters": f"{n:,}" if n else ""})

    inner = {id(p) for m in module.modules() if parametrize.is_parametrized(m) for p in m.parametrizations.modules()}
    for m in module.modules():
        if id(m) not in inner and all(id(c) in inner for c in m.children()):
            hooks.append(m.register_forward_hook(hook))
    try:
        with torch.no_grad():
            module(*inputs)
    finally:
        for h in hooks:
            h.remove()
    total = sum(p.numel() for p in module.parameters())
    rows.append({"layer": "**total**", "output shape": "", "parameters": f"**{total:,}**"})
    return rows


def _args(m: nn.Module) -> str:
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        return f" {m.in_channels}→{m.out_channels}, {m.kernel_size[0]}×{m.kernel_size[1]}, stride {m.stride[0]}"
    if isinstance(m, nn.Linear):
        return f" {m.in_features}→{m.out_features}"
    if isinstance(m, nn.LeakyReLU):
        return f" ({m.negative_slope:g})"
    if isinstance(m, nn.Dropout):
        return f" ({m.p:g})"
    return ""


def _parametrizations(m: nn.Module) -> str:
    if not parametrize.is_parametrized(m):
        return ""
    names = {"_SpectralNorm": "spectral norm", "_WeightNorm": "weight norm"}
    return "".join(f", {names.get(type(p).__name__, type(p).__name__.lstrip('_'))}{'' if t == 'weight' else ' of ' + t}"
                   for t, plist in m.parametrizations.items() for p in plist)


def model_tables(name: str, z_dim: int, image_shape: tuple[int, int, int], num_classes: int = 0,
                 **kwargs: Any) -> dict[str, list[dict[str, Any]]]:
    """The generator's and the discriminator's layer tables of a registered model."""
    if num_classes:
        kwargs = {**kwargs, "num_classes": num_classes}
    torch.manual_seed(0)
    G, D = build(name, z_dim, **kwargs)
    G.eval()
    D.eval()
    z, x = torch.zeros(2, z_dim), torch.zeros(2, *image_shape)
    y = torch.zeros(2, dtype=torch.long)
    cond = is_conditional(G)
    return {"generator": layer_table(G, *((z, y) if cond else (z,))),
            "discriminator": layer_table(D, *((x, y) if cond else (x,)))}
