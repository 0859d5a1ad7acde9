"""Losses against their textbook formulas, their numerical safety on logits, the saturation that motivates the
non-saturating loss, and the gradient penalty against its analytic value."""

from __future__ import annotations

import pytest
import torch

from gan import losses

torch.set_default_dtype(torch.float32)


def _logits(seed: int, n: int = 64, scale: float = 3.0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, generator=g) * scale, torch.randn(n, generator=g) * scale


def _log_d(l: torch.Tensor) -> torch.Tensor:  # log D(x), the naive way, in float64
    return torch.log(torch.sigmoid(l.double()))


def _log_1md(l: torch.Tensor) -> torch.Tensor:  # log(1 - D(x)), the naive way, in float64
    return torch.log(1 - torch.sigmoid(l.double()))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_values_match_the_formulas(seed):
    r, f = _logits(seed)
    # Goodfellow et al.: D maximises log D(x) + log(1 - D(G(z)))
    want_d = -(_log_d(r).mean() + _log_1md(f).mean())
    for kind in ("minimax", "non_saturating"):
        assert losses.d_loss(kind, r, f).item() == pytest.approx(want_d.item(), rel=1e-5)
    assert losses.g_loss("minimax", f).item() == pytest.approx(_log_1md(f).mean().item(), rel=1e-5)
    assert losses.g_loss("non_saturating", f).item() == pytest.approx(-_log_d(f).mean().item(), rel=1e-5)
    # hinge (Lim & Ye; Miyato et al.) and Wasserstein (critic) losses
    hinge_d = torch.clamp(1 - r, min=0).mean() + torch.clamp(1 + f, min=0).mean()
    assert losses.d_loss("hinge", r, f).item() == pytest.approx(hinge_d.item(), rel=1e-6)
    assert losses.g_loss("hinge", f).item() == pytest.approx(-f.mean().item(), rel=1e-6)
    assert losses.d_loss("wgan_gp", r, f).item() == pytest.approx((f.mean() - r.mean()).item(), rel=1e-6)
    assert losses.g_loss("wgan_gp", f).item() == pytest.approx(-f.mean().item(), rel=1e-6)


def test_one_sided_label_smoothing():
    r, f = _logits(4)
    s = 0.1
    want = -((1 - s) * _log_d(r) + s * _log_1md(r)).mean() - _log_1md(f).mean()
    assert losses.d_loss("non_saturating", r, f, label_smoothing=s).item() == pytest.approx(want.item(), rel=1e-5)
    # one-sided: the fake term is unchanged
    assert (losses.d_loss("minimax", r, f, 0.2) - losses.d_loss("minimax", r, f, 0.0)).item() == pytest.approx(
        (-(0.8 * _log_d(r) + 0.2 * _log_1md(r)).mean() + _log_d(r).mean()).item(), abs=1e-6)  # fp32 difference


def test_hand_example():
    r, f = torch.tensor([0.0]), torch.tensor([0.0])  # D = 1/2 on both: loss = 2 log 2
    assert losses.d_loss("minimax", r, f).item() == pytest.approx(2 * 0.6931471805599453, rel=1e-6)
    assert losses.d_loss("hinge", torch.tensor([2.0, 0.5]), torch.tensor([-3.0, 0.0])).item() == pytest.approx(0.25 + 0.5)


def test_finite_for_extreme_logits():
    big = torch.full((8,), 100.0)
    # a sigmoid-then-log in float32 overflows here ...
    assert torch.isinf(torch.log(1 - torch.sigmoid(big))).all()
    assert torch.isinf(torch.log(torch.sigmoid(-big))).all()
    # ... the losses on logits do not, and give the exact limit
    assert losses.d_loss("minimax", -big, big).item() == pytest.approx(200.0)  # D wrong on both, by 100 nats each
    assert losses.d_loss("minimax", big, -big).item() == pytest.approx(0.0, abs=1e-30)
    assert losses.g_loss("non_saturating", -big).item() == pytest.approx(100.0)
    assert losses.g_loss("minimax", big).item() == pytest.approx(-100.0)
    for kind in ("minimax", "non_saturating", "hinge", "wgan_gp"):
        for r, f in ((big, -big), (-big, big)):
            r_ = r.clone().requires_grad_(True)
            f_ = f.clone().requires_grad_(True)
            total = losses.d_loss(kind, r_, f_, 0.1 if kind != "wgan_gp" else 0.0) + losses.g_loss(kind, f_)
            total.backward()
            assert torch.isfinite(total) and torch.isfinite(r_.grad).all() and torch.isfinite(f_.grad).all()


def test_saturating_loss_vanishes_when_d_rejects_fakes():
    """Goodfellow et al. 2014, section 3: early on D(G(z)) -> 0 and log(1 - D(G(z))) saturates."""
    grads = {}
    for kind in ("minimax", "non_saturating"):
        f = torch.tensor([-12.0], requires_grad=True)  # D(G(z)) = sigmoid(-12) ~ 6e-6
        losses.g_loss(kind, f).backward()
        grads[kind] = f.grad.abs().item()
    assert grads["minimax"] == pytest.approx(torch.sigmoid(torch.tensor(-12.0)).item(), rel=1e-4)  # d/dl = -sigmoid(l)
    assert grads["minimax"] < 1e-5
    assert grads["non_saturating"] == pytest.approx(1.0, abs=1e-5)  # d/dl = -(1 - sigmoid(l))
    # and the saturating gradient shrinks without bound as D grows surer
    g = []
    for l in (-2.0, -6.0, -10.0):
        f = torch.tensor([l], requires_grad=True)
        losses.g_loss("minimax", f).backward()
        g.append(f.grad.abs().item())
    assert g[0] / g[1] > 40 and g[1] / g[2] > 50  # about e^4 = 55 per 4 nats of D's confidence


class _Linear(torch.nn.Module):
    """A linear critic D(x) = <w, x> + b, whose input gradient is w everywhere."""

    def __init__(self, w: torch.Tensor) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(w.clone())
        self.b = torch.nn.Parameter(torch.tensor(0.3))

    def forward(self, x: torch.Tensor, *extra: torch.Tensor) -> torch.Tensor:
        out = x.flatten(1) @ self.w.flatten() + self.b
        return out + (extra[0].float() if extra else 0)


@pytest.mark.parametrize("norm", [0.5, 1.0, 3.0])
def test_gradient_penalty_of_a_linear_critic(norm):
    g = torch.Generator().manual_seed(0)
    w = torch.randn(1, 4, 4, generator=g)
    w = w / w.norm() * norm
    D = _Linear(w)
    real, fake = torch.randn(6, 1, 4, 4, generator=g), torch.randn(6, 1, 4, 4, generator=g)
    gp = losses.gradient_penalty(D, real, fake)
    assert gp.item() == pytest.approx((norm - 1) ** 2, abs=1e-6)
    # create_graph: the penalty trains the critic, d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||
    gp.backward()
    assert torch.allclose(D.w.grad, 2 * (norm - 1) * D.w.detach() / norm, atol=1e-6)
    # extra arguments (labels of a conditional critic) are passed through
    assert losses.gradient_penalty(D, real, fake, torch.ones(6)).item() == pytest.approx((norm - 1) ** 2, abs=1e-6)


def test_gradient_penalty_does_not_backprop_into_generator():
    D = _Linear(torch.ones(1, 2, 2))
    fake = torch.randn(3, 1, 2, 2, requires_grad=True)
    losses.gradient_penalty(D, torch.randn(3, 1, 2, 2), fake).backward()
    assert fake.grad is None


def test_r1_penalty_of_a_linear_and_a_quadratic_critic():
    g = torch.Generator().manual_seed(1)
    w = torch.randn(1, 4, 4, generator=g)
    D = _Linear(w)
    real = torch.randn(6, 1, 4, 4, generator=g).requires_grad_(True)
    r1 = losses.r1_penalty(D(real), real)
    assert r1.item() == pytest.approx(w.pow(2).sum().item(), rel=1e-6)  # grad_x (w . x + b) = w, for every image
    r1.backward()  # create_graph: it trains D, d/dw ||w||^2 = 2 w
    assert torch.allclose(D.w.grad, 2 * D.w.detach(), atol=1e-6)
    x = torch.randn(5, 1, 3, 3, generator=g).requires_grad_(True)
    # D(x) = sum x^2: grad = 2 x, so the penalty is the mean of 4 ||x||^2
    assert losses.r1_penalty(x.pow(2).flatten(1).sum(1), x).item() == pytest.approx(
        (4 * x.detach().flatten(1).pow(2).sum(1)).mean().item(), rel=1e-6)


def test_accuracy():
    ar, af = losses.accuracy(torch.tensor([1.0, -1.0, 2.0, 0.5]), torch.tensor([-1.0, 1.0, -0.1, -3.0]))
    assert ar.item() == 0.75 and af.item() == 0.75


def test_only_a_wasserstein_critic_has_no_accuracy_to_read():
    assert losses.is_critic("wgan_gp")
    assert not any(losses.is_critic(k) for k in ("minimax", "non_saturating", "hinge"))  # hinge: a margin at 0


def test_unknown_loss():
    with pytest.raises(ValueError, match="unknown loss"):
        losses.d_loss("lsgan", torch.zeros(1), torch.zeros(1))
    with pytest.raises(ValueError, match="unknown loss"):
        losses.g_loss("lsgan", torch.zeros(1))


def test_bf16_autocast_on_cpu_gives_fp32_losses():
    torch.manual_seed(0)
    lin = torch.nn.Linear(16, 1)
    x = torch.randn(32, 16) * 40  # logits of tens: where bf16 probabilities would round to 0 or 1
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = lin(x).view(-1)
        assert logits.dtype == torch.bfloat16
        out = {k: (losses.d_loss(k, logits, -logits), losses.g_loss(k, -logits))
               for k in ("minimax", "non_saturating", "hinge", "wgan_gp")}
    for k, (d, g) in out.items():
        assert d.dtype == torch.float32 and g.dtype == torch.float32, k
        assert torch.isfinite(d) and torch.isfinite(g), k
        # the same numbers as fp32 maths on the bf16 logits
        l32 = logits.float()
        assert d.item() == pytest.approx(losses.d_loss(k, l32, -l32).item(), rel=1e-6)
        assert g.item() == pytest.approx(losses.g_loss(k, -l32).item(), rel=1e-6)
