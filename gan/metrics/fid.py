"""Fréchet Inception Distance (Heusel et al. 2017), in float64.

FID = |mu_1 - mu_2|^2 + tr(S_1 + S_2 - 2 (S_1 S_2)^(1/2)). The trace of the matrix square root is computed as
the sum of the square roots of the eigenvalues of S_1^(1/2) S_2 S_1^(1/2), a symmetric PSD matrix with the same
spectrum as S_1 S_2: exact for PSD covariances, no complex parts to discard, and faster than scipy's sqrtm
(tests check it against sqrtm to 1e-6 relative).

A set of n < d feature vectors has a covariance of rank at most n - 1: S = A^T A with A the centred features over
sqrt(n - 1). The nonzero eigenvalues of S S_2 = A^T (A S_2) are those of A S_2 A^T, an n x n matrix, so the trace
is exact from it in O(n d^2) rather than O(d^3): three 2,048-d eigendecompositions become one small one when a few
hundred samples are scored in Inception's space (the feature-network calibration, small runs).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gan.metrics.features import FeatureNet, extract_features


@dataclass(frozen=True)
class FeatureStats:
    mu: np.ndarray  # [d] float64
    sigma: np.ndarray  # [d, d] float64
    n: int
    factor: np.ndarray | None = None  # [n, d] with factor.T @ factor == sigma, kept only when n <= d (low rank)


def feature_stats(features: np.ndarray) -> FeatureStats:
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"need at least 2 feature vectors [n, d], got shape {f.shape}")
    mu = f.mean(0)
    factor = (f - mu) / np.sqrt(len(f) - 1) if len(f) <= f.shape[1] else None
    return FeatureStats(mu, np.cov(f, rowvar=False), len(f), factor)


def _sqrt_psd(s: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((s + s.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     factor1: np.ndarray | None = None) -> float:
    """The Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2). With `factor1` (A, sigma1 = A^T A, fewer rows
    than dimensions) the trace comes from the small matrix A S_2 A^T instead of S_1^(1/2) S_2 S_1^(1/2)."""
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (len(mu1), len(mu1)) or (
            factor1 is not None and np.shape(factor1)[1:] != mu1.shape):
        raise ValueError(f"shape mismatch: mu {mu1.shape} vs {mu2.shape}, sigma {s1.shape} vs {s2.shape}"
                         + ("" if factor1 is None else f", factor {np.shape(factor1)}"))
    if factor1 is None:
        r1 = _sqrt_psd(s1)
        m = r1 @ s2 @ r1
    else:
        a = np.asarray(factor1, np.float64)
        m = a @ s2 @ a.T
    tr_covmean = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum()
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_covmean)


def fid_from_features(a: np.ndarray | FeatureStats, b: np.ndarray | FeatureStats) -> float:
    """FID between two feature sets (arrays [n, d] or their statistics); exact by the low-rank route when either
    set has no more vectors than dimensions (the smaller such set goes first, with its factor)."""
    sa = a if isinstance(a, FeatureStats) else feature_stats(a)
    sb = b if isinstance(b, FeatureStats) else feature_stats(b)
    low = [s for s in (sa, sb) if s.factor is not None]
    first = min(low, key=lambda s: s.n) if low else sa
    second = sb if first is sa else sa
    return frechet_distance(first.mu, first.sigma, second.mu, second.sigma, factor1=first.factor)


def reference_stats(net: FeatureNet, images: torch.Tensor, cache: Path | None = None) -> FeatureStats:
    """Feature statistics of a real image set, cached on disk by (network, images) so each is computed once."""
    if cache is not None:
        h = hashlib.sha1(net.cache_key.encode())
        h.update(str(tuple(images.shape)).encode())
        h.update(images.contiguous().numpy().tobytes())
        path = Path(cache) / f"refstats-{h.hexdigest()[:16]}.npz"
        if path.exists():
            z = np.load(path)  # plain arrays: np.load refuses pickled objects by default
            return FeatureStats(z["mu"], z["sigma"], int(z["n"]), z["factor"] if "factor" in z.files else None)
    st = feature_stats(extract_features(net, images))
    if cache is not None:
        from gan.provenance import atomic_write_bytes
        import io

        buf = io.BytesIO()
        np.savez(buf, mu=st.mu, sigma=st.sigma, n=st.n, **({} if st.factor is None else {"factor": st.factor}))
        atomic_write_bytes(path, buf.getvalue())
    return st


def score_samples(net: FeatureNet, fake: torch.Tensor, real: torch.Tensor, cache: Path | None = None) -> dict[str, float | int | str]:
    """FID of uint8 samples against uint8 real images, in `net`'s feature space, with what is needed to read it."""
    return score_features(net, extract_features(net, fake), real, cache)


def score_features(net: FeatureNet, features: np.ndarray, real: torch.Tensor, cache: Path | None = None) -> dict[str, float | int | str]:
    """`score_samples` for samples whose features `net` has already extracted: one extraction, several references."""
    ref = reference_stats(net, real, cache)
    finite = bool(np.isfinite(features).all())
    return {"fid": fid_from_features(features, ref) if finite else float("nan"), "fid_features": net.name,
            "fid_samples": int(len(features)), "fid_reference_images": int(ref.n)}
