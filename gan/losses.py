"""GAN losses, all on discriminator logits.

With D(x) = sigmoid(l): log D = -softplus(-l) and log(1 - D) = -softplus(l). Writing the losses with softplus
(what BCEWithLogits does) keeps them finite where a sigmoid would round to 0 or 1, and makes them safe under
bf16 autocast. Each function returns a scalar to *minimise*.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F


# Losses whose D is a critic: a score with no threshold (Arjovsky et al. 2017), so the sign of its output, which
# `accuracy` reads, says nothing about whether it tells real from fake (gan.health does not ask a critic if it won)
CRITICS = frozenset({"wgan_gp"})


def is_critic(kind: str) -> bool:
    """Whether a loss trains D as a critic, whose `accuracy` means nothing."""
    return kind in CRITICS


def d_loss(kind: str, real: torch.Tensor, fake: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """Discriminator (critic) loss from logits on a real and a fake batch."""
    real, fake = real.float(), fake.float()
    if kind in ("minimax", "non_saturating"):
        # -[log D(x) + log(1 - D(G(z)))], with one-sided label smoothing (Salimans et al. 2016) if asked
        target = torch.full_like(real, 1.0 - label_smoothing)
        return F.binary_cross_entropy_with_logits(real, target) + F.softplus(fake).mean()
    if kind == "wgan_gp":
        return fake.mean() - real.mean()  # the gradient penalty is added by `gradient_penalty`
    if kind == "hinge":
        return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()
    raise ValueError(f"unknown loss {kind!r}")


def g_loss(kind: str, fake: torch.Tensor) -> torch.Tensor:
    """Generator loss from D's logits on a fake batch."""
    fake = fake.float()
    if kind == "minimax":
        return -F.softplus(fake).mean()  # minimise log(1 - D(G(z))): saturates when D rejects the fakes
    if kind == "non_saturating":
        return F.softplus(-fake).mean()  # minimise -log D(G(z)): strong gradients early in training
    if kind in ("wgan_gp", "hinge"):
        return -fake.mean()
    raise ValueError(f"unknown loss {kind!r}")


def gradient_penalty(D: Callable[..., torch.Tensor], real: torch.Tensor, fake: torch.Tensor, *extra: torch.Tensor) -> torch.Tensor:
    """Gulrajani et al. 2017: E[(||grad_x D(x_hat)||_2 - 1)^2] on random interpolates of real and fake."""
    eps = torch.rand(real.shape[0], *([1] * (real.ndim - 1)), device=real.device, dtype=real.dtype)
    x_hat = (eps * real + (1 - eps) * fake.detach()).requires_grad_(True)
    out = D(x_hat, *extra)
    (grad,) = torch.autograd.grad(out.float().sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).float().norm(2, dim=1) - 1.0) ** 2).mean()


def r1_penalty(out_real: torch.Tensor, x_real: torch.Tensor) -> torch.Tensor:
    """Mescheder et al. 2018: E[||grad_x D(x)||_2^2] at the real images `x_real` (which must require grad) from
    D's logits on them, `out_real`; the caller weights it by gamma / 2. Differentiable in D's weights."""
    (grad,) = torch.autograd.grad(out_real.float().sum(), x_real, create_graph=True)
    return grad.flatten(1).float().pow(2).sum(1).mean()


def accuracy(real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """D's accuracy on real (logit > 0) and on fake (logit < 0) images; for WGAN critics it is only a sign."""
    return (real > 0).float().mean(), (fake < 0).float().mean()
