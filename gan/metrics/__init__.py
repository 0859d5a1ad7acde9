"""Sample-quality metrics: Fréchet distance (FID), KID, and the feature networks they are computed in.

The feature network is always named with the number: `Inception-v3 pool3` (pytorch-fid's weights) when its
weights are on the machine, else `LeNet-FID`, a small classifier trained on the real data of the pipeline, whose
values are *not* comparable with published (Inception) FIDs.
"""

from gan.metrics.fid import (FeatureStats, feature_stats, fid_from_features, frechet_distance, score_features,
                             score_samples)
from gan.metrics.features import FeatureNet, extract_features, feature_network
from gan.metrics.kid import kid

__all__ = ["FeatureNet", "FeatureStats", "extract_features", "feature_network", "feature_stats",
           "fid_from_features", "frechet_distance", "kid", "score_features", "score_samples"]
