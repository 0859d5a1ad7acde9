"""Digit metrics: what a classifier of the real digits says about generated ones.

FID says how far two feature distributions are apart; it does not say whether a sample is a digit. The LeNet-FID
network is a classifier of the real digits (`gan.metrics.features.train_lenet_fid`), so its softmax answers two
questions an examiner asks of a sample grid:

- **confident share**: the share of samples it classifies with probability >= `confidence` (0.9): legible digits;
- **class coverage**: the classes that receive at least `min_share` (5 %) of the samples: a collapsed generator
  covers few of the 10.

Both are read beside the same numbers for real digits (`confident_share` of the real set), never alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

CONFIDENCE = 0.9
MIN_SHARE = 0.05


@dataclass(frozen=True)
class DigitMetrics:
    confident_share: float  # share of samples with max softmax >= confidence
    classes_covered: int  # classes with at least min_share of the samples (argmax)
    class_shares: tuple[float, ...]  # share of samples per predicted class
    confidence: float
    min_share: float
    n: int

    def to_dict(self) -> dict:
        d = asdict(self)
        d["class_shares"] = list(self.class_shares)
        return d


@torch.no_grad()
def class_probabilities(net: torch.nn.Module, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """Softmax of a feature network that has a classification `head` (LeNet-FID), for uint8 images."""
    if not hasattr(net, "head"):
        raise ValueError(f"{getattr(net, 'name', net)} has no classifier head: digit metrics need LeNet-FID")
    net.eval()
    out = [torch.softmax(net.head(net(net.preprocess(images[i : i + batch_size]))), 1) for i in range(0, len(images), batch_size)]
    return torch.cat(out)


def digit_metrics(net: torch.nn.Module, images: torch.Tensor, confidence: float = CONFIDENCE,
                  min_share: float = MIN_SHARE) -> DigitMetrics:
    p = class_probabilities(net, images)
    top, cls = p.max(1)
    shares = torch.bincount(cls, minlength=p.shape[1]).double() / len(images)
    return DigitMetrics(float((top >= confidence).double().mean()), int((shares >= min_share).sum()),
                        tuple(float(s) for s in shares), confidence, min_share, len(images))
