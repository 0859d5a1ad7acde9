"""The lecture's autoencoders (gan.models.autoencoders) and their training loop (gan.demos.autoencoding).

The loss terms are checked against their formulas and against torch.distributions; the models and the loop on
real MNIST-5k digits (shapes, determinism, that training lowers the held-out loss, that the sparsity penalty
pulls mean activations towards ρ, that the denoising autoencoder denoises).
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Bernoulli, Normal, kl_divergence

from gan.demos import autoencoding as ae
from gan.models.autoencoders import (VAE, Autoencoder, corrupt, gaussian_kl, kl_sparsity, reconstruction_loss,
                                     vae_loss)


# --- loss terms ----------------------------------------------------------------------------------------------------


def test_kl_sparsity_equals_the_lecture_formula():
    rho, rho_hat = 0.05, torch.tensor([0.01, 0.05, 0.2, 0.6], dtype=torch.float64)
    by_hand = sum(rho * math.log(rho / r) + (1 - rho) * math.log((1 - rho) / (1 - r)) for r in rho_hat.tolist())
    assert float(kl_sparsity(rho, rho_hat)) == pytest.approx(by_hand, rel=1e-12)
    as_bernoulli_kl = kl_divergence(Bernoulli(probs=torch.full_like(rho_hat, rho)), Bernoulli(probs=rho_hat)).sum()
    assert float(kl_sparsity(rho, rho_hat)) == pytest.approx(float(as_bernoulli_kl), rel=1e-9)


def test_kl_sparsity_is_zero_and_flat_at_rho():
    rho_hat = torch.full((8,), 0.1, dtype=torch.float64, requires_grad=True)
    pen = kl_sparsity(0.1, rho_hat)
    (g,) = torch.autograd.grad(pen, rho_hat)
    assert float(pen.detach()) == 0.0
    assert torch.allclose(g, torch.zeros_like(g), atol=1e-12)
    assert float(kl_sparsity(0.1, torch.tensor([0.3]))) > 0 and float(kl_sparsity(0.1, torch.tensor([0.02]))) > 0


def test_kl_sparsity_rejects_rho_outside_unit_interval():
    with pytest.raises(ValueError, match="rho"):
        kl_sparsity(0.0, torch.tensor([0.1]))


def test_gaussian_kl_matches_closed_form_and_torch():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(5, 3, generator=g, dtype=torch.float64), torch.randn(5, 3, generator=g, dtype=torch.float64)
    closed = (0.5 * (mu**2 + logvar.exp() - logvar - 1)).sum(1).mean()
    ref = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(1).mean()
    assert float(gaussian_kl(mu, logvar)) == pytest.approx(float(closed), rel=1e-12)
    assert float(gaussian_kl(mu, logvar)) == pytest.approx(float(ref), rel=1e-9)
    assert float(gaussian_kl(torch.zeros(2, 4), torch.zeros(2, 4))) == 0.0  # q = prior


def test_reconstruction_loss_is_bernoulli_nll_per_image():
    g = torch.Generator().manual_seed(1)
    logits, x = torch.randn(4, 1, 28, 28, generator=g), torch.rand(4, 1, 28, 28, generator=g)
    ref = F.binary_cross_entropy(torch.sigmoid(logits), x, reduction="sum") / 4
    assert float(reconstruction_loss(logits, x)) == pytest.approx(float(ref), rel=1e-5)
    total, rec, kl = vae_loss(logits, x, torch.zeros(4, 2), torch.zeros(4, 2))
    assert float(total) == pytest.approx(float(rec)) and float(kl) == 0.0


def test_corruptions():
    g = torch.Generator().manual_seed(2)
    x = torch.rand(64, 1, 28, 28, generator=g)
    noisy = corrupt(x, "gaussian", 0.5, torch.Generator().manual_seed(0))
    assert noisy.min() >= 0 and noisy.max() <= 1 and not torch.equal(noisy, x)
    masked = corrupt(torch.ones(64, 1, 28, 28), "masking", 0.3, torch.Generator().manual_seed(0))
    assert float((masked == 0).float().mean()) == pytest.approx(0.3, abs=0.01)
    sp = corrupt(torch.full((64, 1, 28, 28), 0.5), "salt_pepper", 0.2, torch.Generator().manual_seed(0))
    assert float((sp != 0.5).float().mean()) == pytest.approx(0.2, abs=0.01)
    assert torch.equal(corrupt(x, "gaussian", 0.5, torch.Generator().manual_seed(0)), noisy)  # seeded
    with pytest.raises(ValueError, match="unknown corruption"):
        corrupt(x, "blur", 0.1)


# --- models ---------------------------------------------------------------------------------------------------------


def test_shapes_and_code_ranges():
    x = torch.rand(6, 1, 28, 28)
    logits, code = Autoencoder(code_dim=7, hidden=32)(x)
    assert logits.shape == x.shape and code.shape == (6, 7)
    _, code = Autoencoder(code_dim=7, hidden=32, code_activation="sigmoid")(x)
    assert code.min() > 0 and code.max() < 1
    logits, mu, logvar = VAE(latent_dim=3, hidden=32)(x)
    assert logits.shape == x.shape and mu.shape == logvar.shape == (6, 3)
    assert VAE(latent_dim=3, hidden=32).decode(torch.zeros(2, 3)).shape == (2, 1, 28, 28)
    with pytest.raises(ValueError, match="code_activation"):
        Autoencoder(code_activation="relu")


def test_reparameterization_samples_the_posterior():
    vae = VAE(latent_dim=2, hidden=8)
    mu = torch.tensor([[1.0, -2.0]]).expand(20000, -1)
    logvar = torch.log(torch.tensor([[0.25, 4.0]])).expand(20000, -1)
    z = vae.reparameterize(mu, logvar, torch.Generator().manual_seed(0))
    assert torch.allclose(z.mean(0), torch.tensor([1.0, -2.0]), atol=0.05)
    assert torch.allclose(z.std(0), torch.tensor([0.5, 2.0]), rtol=0.03)


def test_config_rejects_unknown_keys_and_kinds():
    with pytest.raises(ValueError, match="autoencoder keys: code_size: unknown key"):
        ae.AEConfig.from_dict({"kind": "ae", "code_size": 3})
    with pytest.raises(ValueError, match="kind"):
        ae.AEConfig.from_dict({"kind": "gan"})


# --- training on MNIST-5k -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits_split(mnist5k):
    train, test = ae.split(mnist5k.images[:1300], 300, seed=0)
    return train, test


def test_split_is_seeded_and_disjoint(mnist5k):
    tr, te = ae.split_indices(1000, 100, seed=3)
    assert len(set(tr.tolist()) | set(te.tolist())) == 1000 and len(te) == 100
    assert torch.equal(ae.split_indices(1000, 100, seed=3)[1], te)


def test_training_is_repeatable_and_lowers_the_held_out_loss(digits_split):
    train, test = digits_split
    cfg = {"kind": "vae", "code_dim": 4, "hidden": 64, "epochs": 3, "seed": 1}
    a = ae.train_autoencoder(cfg, train, test)
    b = ae.train_autoencoder(cfg, train, test)
    assert a.history == b.history
    assert a.history[-1]["test_loss"] < a.history[0]["test_loss"]
    assert set(a.history[0]) >= {"test_reconstruction", "test_kl", "train_kl"}
    ev = ae.evaluate(a, test)
    assert ev["neg_elbo"] == a.history[-1]["test_loss"] and 0 < ev["mse_clean"] < 0.2


def test_sparsity_penalty_pulls_mean_activation_towards_rho(digits_split):
    train, test = digits_split
    base = {"kind": "sparse", "code_dim": 32, "hidden": 64, "epochs": 4, "rho": 0.05, "seed": 0}
    free = ae.evaluate(ae.train_autoencoder({**base, "sparsity_weight": 0.0}, train, test), test)
    sparse = ae.evaluate(ae.train_autoencoder({**base, "sparsity_weight": 3.0}, train, test), test)
    assert abs(sparse["rho_hat_mean"] - 0.05) < abs(free["rho_hat_mean"] - 0.05)
    assert sparse["kl_penalty"] < free["kl_penalty"]


@pytest.mark.slow
def test_denoising_autoencoder_denoises_better_than_a_plain_one(mnist5k):
    train, test = ae.split(mnist5k.images, 500, seed=0)
    base = {"code_dim": 32, "hidden": 128, "epochs": 6, "seed": 0, "noise_level": 0.5}
    plain = ae.evaluate(ae.train_autoencoder({**base, "kind": "ae"}, train, test), test)
    dae = ae.evaluate(ae.train_autoencoder({**base, "kind": "dae"}, train, test), test)
    assert dae["mse_noisy"] < plain["mse_noisy"]
