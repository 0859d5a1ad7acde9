"""Why does the confident share stop near 74 % while LeNet-FID keeps falling? Two measurements with the committed
LeNet-FID network of MNIST-5k:

1. the confident share and LeNet-FID of the digits it never trained on (its 500 held-out digits), clean and with
   known defects (pixel noise, blur, a shift, thinner or thicker strokes): how much does a defect of texture cost?
2. with NAME, 2,000 samples of that pilot's last checkpoint: how the samples that do not read confidently split
   into "between two digits" (the top two classes hold >= 0.9 together) and "no digit" (they do not), beside the
   same split for the held-out digits; and a grid of the least confident samples next to the most confident,
   written to pilots/results/NAME_confidence.png.

    python pilots/confidence.py [NAME]    # NAME a pilot whose run folder /tmp/pilot-NAME-*/ still holds its checkpoint
"""

from __future__ import annotations

import glob
import sys

import torch

from gan.config import DataConfig, TrainConfig
from gan.data import load_dataset, to_uint8
from gan.metrics import extract_features, fid_from_features
from gan.metrics.calibration import _blur
from gan.metrics.digits import CONFIDENCE, class_probabilities
from gan.metrics.features import heldout_indices, lenet_fid_network
from gan.pilots import load
from gan.plots import save_image_grid
from gan.train import build_models, generate


def split(p: torch.Tensor) -> tuple[float, float, float]:
    """(confident, between two digits, no digit) shares of softmax rows `p`."""
    top2 = p.topk(2, 1).values
    confident = top2[:, 0] >= CONFIDENCE
    two = ~confident & (top2.sum(1) >= CONFIDENCE)
    return float(confident.double().mean()), float(two.double().mean()), float((~confident & ~two).double().mean())


def line(tag: str, net: torch.nn.Module, x: torch.Tensor, ref) -> str:
    c, two, none = split(class_probabilities(net, x))
    return (f"{tag:34s} LeNet-FID {fid_from_features(extract_features(net, x), ref):6.1f}  confident {c:.3f}  "
            f"between two {two:.3f}  no digit {none:.3f}")


def main() -> None:
    torch.set_num_threads(1)
    data = load_dataset(DataConfig(name="mnist5k"))
    net, info = lenet_fid_network(data)
    ref = extract_features(net, data.images)
    held = data.images[heldout_indices(info)]
    x = held.float() / 255
    g = torch.Generator().manual_seed(0)
    defects = {"held-out digits, clean": held}
    for s in (0.1, 0.2, 0.3):
        defects[f"pixel noise σ = {s}"] = to_uint8(x + s * torch.randn(x.shape, generator=g), "unit")
    for s in (0.5, 1.0):
        defects[f"blur σ = {s} px"] = to_uint8(_blur(x, s), "unit")
    defects["strokes thinner (x²)"] = to_uint8(x ** 2, "unit")
    defects["strokes thicker (√x)"] = to_uint8(x ** 0.5, "unit")
    defects["shifted 2 px right"] = torch.roll(held, 2, dims=3)
    print(f"{len(held)} held-out digits; LeNet-FID against all {len(data.images):,} real digits (500 samples: its floor is high)")
    for tag, v in defects.items():
        print(line(tag, net, v, ref))
    if len(sys.argv) < 2:
        return
    name = sys.argv[1]
    cfg = TrainConfig.from_dict(load(name)[-1]["config"])
    ck = torch.load(glob.glob(f"/tmp/pilot-{name}-*/checkpoint.pt")[0], weights_only=True, map_location="cpu")
    G, _ = build_models(cfg, data)
    G.load_state_dict(ck["G"])
    with torch.no_grad():
        s = generate(G, 2000, cfg.z_dim, seed=777, pixel_range=cfg.data.pixel_range)
    print(f"\n{name}, step {ck['step']}, 2,000 samples")
    print(line("samples", net, s, ref))
    print(line("samples, 500 of them", net, s[:500], ref))
    p = class_probabilities(net, s)
    top = p.max(1).values
    order = top.argsort()
    pairs: dict[tuple[int, int], int] = {}
    for row in p[top < CONFIDENCE]:
        a, b = sorted(row.topk(2).indices.tolist())
        pairs[(a, b)] = pairs.get((a, b), 0) + 1
    print("commonest pairs of top-two classes among the unconfident samples:",
          ", ".join(f"{a}/{b} {n}" for (a, b), n in sorted(pairs.items(), key=lambda kv: -kv[1])[:6]))
    save_image_grid(torch.cat([s[order[:32]], s[order[-32:]]]), f"pilots/results/{name}_confidence.png", nrow=8)
    print(f"pilots/results/{name}_confidence.png: the 32 least confident samples (top four rows), the 32 most confident")


if __name__ == "__main__":
    main()
