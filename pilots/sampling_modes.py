"""Does sampling with G's batch-norm running statistics cost sample quality? One pilot's last checkpoint, the same
weights sampled three ways: eval mode (running statistics, as `gan.train.generate`), train mode (each batch's own
statistics), and eval mode after recomputing the running statistics as a plain average over 20 batches.

    python pilots/sampling_modes.py NAME    # NAME a pilot whose run folder /tmp/pilot-NAME-*/ still holds its checkpoint
"""

from __future__ import annotations

import copy
import glob
import json
import sys

import torch

from gan.config import TrainConfig
from gan.data import load_dataset
from gan.metrics import extract_features, feature_network, fid_from_features
from gan.metrics.digits import digit_metrics
from gan.train import build_models, to_uint8


def sample(G: torch.nn.Module, z_dim: int, train_mode: bool, n: int = 2000, batch: int = 500, seed: int = 777) -> torch.Tensor:
    G.train(train_mode)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        return torch.cat([to_uint8(G(torch.randn(batch, z_dim, generator=g)).float(), "symmetric") for _ in range(n // batch)])


def main() -> None:
    torch.set_num_threads(1)
    name = sys.argv[1]
    rows = [json.loads(x) for x in open(f"pilots/results/{name}.jsonl")]
    cfg = TrainConfig.from_dict(rows[-1]["config"])
    data = load_dataset(cfg.data)
    net, _ = feature_network("lenet", data)
    ref = extract_features(net, data.images)
    ck = torch.load(glob.glob(f"/tmp/pilot-{name}-*/checkpoint.pt")[0], weights_only=True, map_location="cpu")
    G, _ = build_models(cfg, data)
    G.load_state_dict(ck["G"])
    precise = copy.deepcopy(G)
    for m in precise.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None  # a cumulative average
    precise.train()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for _ in range(20):
            precise(torch.randn(500, cfg.z_dim, generator=g))
    print(f"{name}, step {ck['step']}")
    for tag, x in [("eval mode (running statistics)", sample(G, cfg.z_dim, False)),
                   ("train mode (batch statistics)", sample(G, cfg.z_dim, True)),
                   ("eval mode (recomputed statistics)", sample(precise, cfg.z_dim, False))]:
        d = digit_metrics(net, x)
        print(f"{tag:36s} LeNet-FID {fid_from_features(extract_features(net, x), ref):6.1f}  "
              f"confident {d.confident_share:.3f}  classes {d.classes_covered}")


if __name__ == "__main__":
    main()
