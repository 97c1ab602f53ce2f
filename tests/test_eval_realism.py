"""KID/FID with the in-project feature network, Inception loading, domain classifier."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sim2real_gan.eval.features import FeatureNetConfig, load_or_train_feature_net
from sim2real_gan.eval.realism import (
    DomainClassifierConfig,
    RealismScorer,
    domain_classifier_accuracy,
    frechet_distance,
    load_inception,
)

PALETTE = np.array([[20, 10, 10], [150, 60, 50], [220, 190, 90], [190, 120, 110],
                    [230, 210, 200], [90, 120, 40], [140, 140, 150], [200, 200, 210]], np.float32)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One thread for the module-scoped feature_net fixture too (conftest's one_torch_thread
    is function-scoped, so it starts after module fixtures)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _scenes(n: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random rectangles of classes 0..7 on textured colour fields: (N,S,S,3) uint8, (N,S,S)."""
    rng = np.random.default_rng(seed)
    labels = np.zeros((n, size, size), np.uint8)
    for i in range(n):
        labels[i] = rng.integers(1, 4)
        for _ in range(4):
            y, x = rng.integers(0, size - 8, 2)
            h, w = rng.integers(6, size // 2, 2)
            labels[i, y:y + h, x:x + w] = rng.integers(0, 8)
    tex = rng.normal(0, 12, (n, size, size, 3))
    img = np.clip(PALETTE[labels] + tex, 0, 255).astype(np.uint8)
    return img, labels


@pytest.fixture(scope="module")
def feature_net(tmp_path_factory: pytest.TempPathFactory):
    img, lab = _scenes(48, 32, seed=0)
    cfg = FeatureNetConfig(width=8, input_size=32, steps=60, batch_size=16)
    net, path = load_or_train_feature_net(img, lab, cfg, cache_dir=tmp_path_factory.mktemp("c"))
    return net, cfg, path, (img, lab)


def _shift(img: np.ndarray, delta: tuple[int, int, int]) -> np.ndarray:
    return np.clip(img.astype(np.int16) + np.array(delta, np.int16), 0, 255).astype(np.uint8)


def test_kid_of_set_against_itself_is_about_zero_and_grows_with_colour_shift(feature_net) -> None:
    net = feature_net[0]
    real, _ = _scenes(64, 32, seed=1)
    scorer = RealismScorer(net, real, subsets=20, subset_size=64)
    same = scorer.score(real)
    other = scorer.score(_scenes(64, 32, seed=2)[0])  # a new sample of the same distribution
    small = scorer.score(_shift(real, (30, 0, -30)))
    large = scorer.score(_shift(real, (60, 0, -60)))
    # The unbiased estimator on identical sets is slightly negative (-2 (k(x,x) - k(x,y)) / m).
    assert abs(same.kid) < 0.1 * large.kid
    assert abs(other.kid) < 0.2 * small.kid
    assert other.kid < small.kid < large.kid
    assert same.fid == pytest.approx(0.0, abs=1e-3)
    assert 0 < small.fid < large.fid
    assert small.kid_std > 0  # subsets (half of each set) differ


def test_scores_are_repeatable(feature_net) -> None:
    real, _ = _scenes(20, 32, seed=3)
    fake = _shift(real, (30, 10, 0))
    a = RealismScorer(feature_net[0], real, subsets=10, subset_size=10).score(fake)
    b = RealismScorer(feature_net[0], real, subsets=10, subset_size=10).score(fake)
    assert a == b


def test_feature_net_is_cached_and_deterministic(feature_net, tmp_path) -> None:
    net, cfg, path, (img, lab) = feature_net
    assert path.is_file() and not list(path.parent.glob("*.tmp"))
    again, path2 = load_or_train_feature_net(img, lab, cfg, cache_dir=path.parent.parent)
    assert path2 == path
    fresh, path3 = load_or_train_feature_net(img, lab, cfg, cache_dir=tmp_path)
    x = torch.rand(2, 3, 40, 40)
    assert torch.equal(net(x), again(x)) and torch.allclose(net(x), fresh(x), atol=1e-5)
    assert net(x).shape == (2, net.num_features)
    with torch.no_grad():  # standardised on the real training frames
        f = net(torch.from_numpy(img).permute(0, 3, 1, 2).float() / 255)
    assert f.mean(0).abs().max() < 1e-3 and (f.std(0) - 1).abs().max() < 1e-2


def test_bad_inputs(feature_net) -> None:
    real, lab = _scenes(4, 32, seed=4)
    with pytest.raises(ValueError, match="num_features"):
        RealismScorer(torch.nn.Identity(), real)
    with pytest.raises(ValueError, match="uint8"):
        RealismScorer(feature_net[0], real.astype(np.float32))
    with pytest.raises(ValueError, match="at least 2"):
        RealismScorer(feature_net[0], real).score(real[:1])
    with pytest.raises(FileNotFoundError, match="Inception"):
        load_inception("/nonexistent/inception.pt")
    with pytest.raises(ValueError, match="labels"):
        load_or_train_feature_net(real, lab[:, :8], FeatureNetConfig(steps=1))


class _TinyInception(torch.nn.Module):
    """Same call convention as inception-2015-12-05.pt: x in [0,255], return_features."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.proj = torch.nn.Linear(48, 2048)

    def forward(self, x: torch.Tensor, return_features: bool = False) -> torch.Tensor:
        return self.proj(torch.nn.functional.adaptive_avg_pool2d(x / 255.0, 4).flatten(1))


def test_inception_torchscript_file_is_loaded_and_scored(tmp_path) -> None:
    path = tmp_path / "inception.pt"
    with pytest.warns(DeprecationWarning):  # torch.jit is deprecated, still the file format
        torch.jit.script(_TinyInception()).save(str(path))
    inc = load_inception(path)
    real, _ = _scenes(12, 32, seed=5)
    scorer = RealismScorer(inc, real, subsets=5, subset_size=12)
    assert scorer.score(real).fid == pytest.approx(0.0, abs=1e-3)
    assert scorer.score(_shift(real, (40, 40, 40))).kid > 0.01
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="TorchScript"):
        load_inception(bad)


def test_domain_classifier_separates_shifted_and_not_identical() -> None:
    real, _ = _scenes(32, 32, seed=6)
    cfg = DomainClassifierConfig(width=8, input_size=16, steps=30, batch_size=16)
    shifted = domain_classifier_accuracy(real, _shift(real, (70, -40, 0)), cfg)
    same, _ = _scenes(32, 32, seed=7)
    chance = domain_classifier_accuracy(real, same, cfg)
    assert shifted > 0.9
    assert chance < 0.75


class _Passthrough(torch.nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.num_features = d

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


@pytest.mark.parametrize("n", [10, 40])
def test_frechet_distance_matches_torchmetrics(n: int) -> None:
    from torchmetrics.image.fid import FrechetInceptionDistance

    gen = torch.Generator().manual_seed(n)
    a = torch.randn(n, 16, generator=gen, dtype=torch.float64)
    b = torch.randn(n + 3, 16, generator=gen, dtype=torch.float64) * 1.3 + 0.4
    ref = FrechetInceptionDistance(feature=_Passthrough(16))
    ref.update(a, real=True)
    ref.update(b, real=False)
    assert frechet_distance(a, b) == pytest.approx(float(ref.compute()), rel=1e-6, abs=1e-8)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="N >= 2"):
        frechet_distance(a[:1], b)
