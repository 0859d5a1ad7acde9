"""The saturating and the non-saturating generator loss, as functions of D(G(z)), with their gradients.

Goodfellow et al. 2014 (Sec. 3): early in training D rejects the fakes with confidence, D(G(z)) ≈ 0, and
log(1 - D(G(z))) saturates; maximising log D(G(z)) instead gives the same fixed point and strong gradients.
Where exactly does it saturate? As a function of D the slope of log(1 - D) is -1/(1 - D), about -1 near D = 0:
flat only next to -log D, whose slope -1/D blows up. What the generator receives, though, passes through D's
sigmoid: with D = sigmoid(l), d log(1 - D)/dl = -D -> 0, while d(-log D)/dl = -(1 - D) -> -1. That is the
vanishing gradient. The curves are computed through `gan.losses.g_loss` and autograd, so they also check the
library's losses against these closed forms.
"""

from __future__ import annotations

import numpy as np
import torch

from gan.losses import g_loss

LOSSES = {
    "minimax": "saturating: minimise log(1 − D(G(z)))",
    "non_saturating": "non-saturating: minimise −log D(G(z))",
}


def loss_curves(d: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """For each generator loss and each value of D(G(z)) in `d` (0 < d < 1): the per-sample loss, its derivative
    with respect to D, and its derivative with respect to D's logit (what backpropagation hands to G)."""
    d = np.asarray(d, dtype=np.float64)
    out: dict[str, dict[str, np.ndarray]] = {}
    for kind in LOSSES:
        logit = torch.logit(torch.from_numpy(d)).requires_grad_(True)
        per_sample = torch.stack([g_loss(kind, l.reshape(1)) for l in logit])
        (grad_logit,) = torch.autograd.grad(per_sample.sum(), logit)
        # chain rule: dL/dD = dL/dl * dl/dD, with dl/dD = 1 / (D (1 - D))
        grad_d = grad_logit.numpy() / (d * (1.0 - d))
        out[kind] = {"loss": per_sample.detach().numpy(), "grad_d": grad_d, "grad_logit": grad_logit.numpy()}
    return out
