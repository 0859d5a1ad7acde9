"""The FID network's weights, got and checked once before any job: the workflow's `fid_network` rule.

Like the data rules (`gan.data.fetch`), this is a local job: on a cluster it runs once on the submitting host,
where the internet usually is. It downloads pytorch-fid's Inception-v3 file into the torch hub cache when no path
was given, checks that it loads into pytorch-fid's architecture, and writes a receipt naming the network the runs
will score in. `preflight` is the cheap check that the workflow's `onstart` runs before the first job.

    python -m gan.metrics.weights '<{"network": "auto" | "inception" | "lenet", "weights": path or null}>' <receipt.json>
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from gan.data import DataUnavailable
from gan.data.fetch import reachable, write_receipt
from gan.metrics.features import FID_WEIGHTS_SHA256_PREFIX, FID_WEIGHTS_URL, InceptionPool3, hub_weights_file


def weights_file(weights: str | None) -> Path:
    """The path the user gave, else the torch hub cache's, whether or not the file is there yet."""
    return Path(weights).expanduser() if weights else hub_weights_file()


def preflight(network: str, weights: str | None) -> str | None:
    """What stops the FID network from being ready, found before any job starts (None: nothing). A weights path the
    user typed must exist, whatever `network` says; `inception` needs weights or a reachable download; `auto` may
    fall back to LeNet-FID when nothing was asked for."""
    if network == "lenet":
        return None
    f = weights_file(weights)
    if weights and not f.is_file():
        return (f"fid.inception_weights: {f} does not exist. Download {FID_WEIGHTS_URL} and set "
                "fid.inception_weights to its path (or to null to use the torch hub cache).")
    if network == "inception" and not f.is_file() and not reachable(FID_WEIGHTS_URL):
        return (f"fid.network is 'inception' but {f} does not exist and github.com cannot be reached to download it: "
                f"download {FID_WEIGHTS_URL} into {f.parent}, or set fid.inception_weights, or use fid.network: lenet.")
    return None


def fetch(network: str, weights: str | None) -> dict[str, Any]:
    """Make sure the FID network's weights are there (downloading pytorch-fid's file into the hub cache when no path
    was given), check that they load into pytorch-fid's architecture, and say which network the runs will use."""
    problem = preflight(network, weights)
    if problem:
        raise DataUnavailable(problem)
    if network == "lenet":
        return {"network": "lenet"}
    f = weights_file(weights)
    if not f.is_file() and not weights:
        import torch

        try:
            f.parent.mkdir(parents=True, exist_ok=True)
            torch.hub.download_url_to_file(FID_WEIGHTS_URL, str(f), progress=False)
        except Exception as e:
            if network == "inception":
                raise DataUnavailable(f"fid.network is 'inception' and the download of {FID_WEIGHTS_URL} failed "
                                      f"({type(e).__name__}: {e}); put the file at {f}") from None
            return {"network": "lenet", "fallback": f"no Inception weights ({FID_WEIGHTS_URL} could not be downloaded)"}
    try:
        net = InceptionPool3(f)
    except Exception as e:
        raise DataUnavailable(f"{f} does not load into pytorch-fid's Inception-v3 ({type(e).__name__}: {e}); download "
                              f"{FID_WEIGHTS_URL} again") from None
    return {"network": "inception", "weights": str(f), "sha256": net.sha256, "name": net.name,
            "official": net.sha256.startswith(FID_WEIGHTS_SHA256_PREFIX)}  # the hub convention: the name carries the hash's first 8 hex


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 2:
        raise SystemExit("usage: python -m gan.metrics.weights '<{\"network\": ..., \"weights\": ...}>' <receipt.json>")
    spec, out = json.loads(args[0]), args[1]
    return write_receipt("gan.metrics.weights", "FID network", lambda: fetch(spec["network"], spec.get("weights")), out)


if __name__ == "__main__":
    sys.exit(main())
