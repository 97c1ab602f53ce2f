"""The style prior (``export --style-prior``): random styles and seeds drawn from the
distribution of the footage's style codes instead of N(0, I). Fitting, the manifest field and
its checks, the bank, the runtime's seeds, the CLI's frame sampling and its errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from sim2real_gan.artifact import ArtifactError, ModelManifest, StylePrior, prior_style, seed_style
from sim2real_gan.export.exporter import fit_style_prior, style_bank


def test_fit_recovers_the_codes_distribution() -> None:
    rng = np.random.default_rng(0)
    mean = np.array([1.0, -2.0, 0.5])
    a = np.array([[0.5, 0, 0], [0.2, 0.1, 0], [0.0, -0.3, 0.05]])
    codes = mean + rng.standard_normal((4000, 3)) @ a.T
    prior = fit_style_prior(codes, "clips")
    np.testing.assert_allclose(prior.mean, mean, atol=0.03)
    chol = np.array(prior.chol)
    np.testing.assert_allclose(chol @ chol.T, a @ a.T + 1e-4 * np.eye(3), atol=0.02)
    assert prior.frames == 4000 and prior.source == "clips" and np.allclose(chol, np.tril(chol))
    # seeds through the prior: mean + chol @ z, z the N(0, I) code of that seed
    np.testing.assert_allclose(prior_style(5, 3, prior), mean + chol @ seed_style(5, 3),
                               atol=0.05)
    assert np.array_equal(prior_style(5, 3, None), seed_style(5, 3))
    bank = style_bank(3, 2, {}, prior)
    assert bank["default"] == prior.mean and np.allclose(bank["seed_1"], prior_style(1, 3, prior))
    with pytest.raises(ValueError, match="at least 16 frames"):
        fit_style_prior(codes[:10])


def _manifest(prior: StylePrior | None) -> dict:
    m = ModelManifest(preset="tiny", style_dim=2, working_resolution=(64, 64), size_multiple=8,
                      styles={"default": [0.0, 0.0]}, style_prior=prior)
    return json.loads(json.dumps(m.to_json()))


def test_manifest_round_trip_and_checks() -> None:
    prior = StylePrior([0.5, -1.0], [[0.3, 0.0], [0.1, 0.2]], 40, "or3.mp4")
    back = ModelManifest.from_json(_manifest(prior))
    assert back.style_prior == prior
    assert ModelManifest.from_json(_manifest(None)).style_prior is None
    assert "style_prior" not in _manifest(None)  # older readers see the format unchanged
    bad = {
        "style_prior.mean: expected 2 values": {"mean": [0.5]},
        "style_prior.chol: expected a 2 x 2 matrix": {"chol": [[0.3, 0.0]]},
        "style_prior.mean[0]: expected a finite number": {"mean": [float("nan"), 0.0]},
        "style_prior.chol: expected lower-triangular": {"chol": [[0.3, 0.1], [0.1, 0.2]]},
        "style_prior.frames": {"frames": 1},
    }
    for message, change in bad.items():
        doc = _manifest(prior)
        doc["style_prior"].update(change)
        with pytest.raises(ArtifactError, match=re.escape(message)):
            ModelManifest.from_json(doc)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from sim2real_gan.models import build_generator, build_style_encoder, get_preset, save_generator

    cfg = get_preset("tiny")
    torch.manual_seed(3)
    path = tmp_path_factory.mktemp("prior") / "ckpt"
    save_generator(path, build_generator(cfg), cfg, style_encoder=build_style_encoder(cfg))
    return path


def _footage(tmp_path: Path, n: int = 30) -> tuple[Path, Path]:
    """A folder of n frames and an MP4 of the same frames (a tinted, noisy scene)."""
    rng = np.random.default_rng(1)
    folder = tmp_path / "frames"
    folder.mkdir()
    video = cv2.VideoWriter(str(tmp_path / "or.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 10,
                            (64, 48))
    for i in range(n):
        rgb = np.clip(rng.normal((150 + i, 60, 50), 25, (48, 64, 3)), 0, 255).astype(np.uint8)
        cv2.imwrite(str(folder / f"{i:03d}.png"), rgb[..., ::-1])
        video.write(rgb[..., ::-1])
    video.release()
    return folder, tmp_path / "or.mp4"


def test_export_fits_the_prior_and_seeds_follow_it(tmp_path: Path, checkpoint: Path) -> None:
    from sim2real_gan.cli.main import main
    from sim2real_gan.export import load_manifest
    from sim2real_gan.runtime import Translator

    folder, video = _footage(tmp_path)
    assert main(["export", str(checkpoint), str(tmp_path / "art"), "--working-resolution",
                 "64x64", "--style-prior", str(folder), "--style-prior", str(video),
                 "--style-prior-frames", "40"]) == 0
    m = load_manifest(tmp_path / "art")
    assert m.style_prior is not None and m.style_prior.frames == 40
    assert m.style_prior.source == "frames, or.mp4"
    t = Translator.from_artifact(tmp_path / "art", backend="onnxruntime")
    codes = np.stack([t.set_style(s) for s in range(200)])
    # seeds are drawn around the footage's codes, not around 0
    assert np.allclose(t.set_style(3), prior_style(3, m.style_dim, m.style_prior), atol=1e-5)
    assert np.allclose(t.set_style("seed_3"), t.set_style(3), atol=1e-6)
    assert np.allclose(t.set_style("default"), m.style_prior.mean, atol=1e-6)
    footage = np.stack([t.set_style(cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB))
                        for p in sorted(folder.iterdir())])
    assert np.abs(codes.mean(0) - footage.mean(0)).max() < 0.5 * np.abs(footage.mean(0)).max()
    # without --style-prior: N(0, I) seeds, as before
    assert main(["export", str(checkpoint), str(tmp_path / "plain"), "--working-resolution",
                 "64x64"]) == 0
    plain = Translator.from_artifact(tmp_path / "plain", backend="onnxruntime")
    assert load_manifest(tmp_path / "plain").style_prior is None
    assert np.allclose(plain.set_style(3), seed_style(3, m.style_dim), atol=1e-6)


def test_style_prior_bad_sources_are_one_line_errors(tmp_path: Path, checkpoint: Path,
                                                     caplog) -> None:
    from sim2real_gan.cli.main import main

    folder, _ = _footage(tmp_path, n=8)
    (tmp_path / "not_video.mp4").write_text("hello")
    (tmp_path / "empty").mkdir()
    cases = {"missing": (tmp_path / "nope", "no such file or folder"),
             "not a video": (tmp_path / "not_video.mp4", "not_video.mp4"),
             "empty folder": (tmp_path / "empty", "no decodable frame"),
             "too few": (folder, "at least 16 frames")}
    for what, (path, words) in cases.items():
        caplog.clear()
        out = tmp_path / what.replace(" ", "_")
        assert main(["export", str(checkpoint), str(out), "--working-resolution", "64x64",
                     "--style-prior", str(path)]) == 2, what
        assert not out.exists(), what
        errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
        assert len(errors) == 1 and words in errors[0], (what, errors)


def test_style_probe_draws_through_the_prior(tmp_path: Path) -> None:
    """training.style_probe measures the artifact as served: its random codes and default
    style go through the style prior when model.json has one."""
    import torch
    from sim2real_gan.cli.main import main
    from sim2real_gan.models import build_generator, build_style_encoder, get_preset, save_generator

    from training.style_probe import probe

    cfg = get_preset("tiny")
    torch.manual_seed(5)
    gen = build_generator(cfg)
    with torch.no_grad():  # random weights everywhere, so the style input shows
        for p in gen.parameters():
            p.normal_(0.0, 0.2)
    checkpoint = tmp_path / "ckpt"
    save_generator(checkpoint, gen, cfg, style_encoder=build_style_encoder(cfg))
    folder, _ = _footage(tmp_path)
    assert main(["export", str(checkpoint), str(tmp_path / "art"), "--working-resolution",
                 "64x64", "--style-prior", str(folder)]) == 0
    assert main(["export", str(checkpoint), str(tmp_path / "plain"), "--working-resolution",
                 "64x64"]) == 0
    with_prior = probe(tmp_path / "art", [1_000_001, 1_000_002], size=64, codes=3)
    plain = probe(tmp_path / "plain", [1_000_001, 1_000_002], size=64, codes=3)
    assert with_prior["style_prior"] and not plain["style_prior"]
    assert with_prior["spread"] != pytest.approx(plain["spread"], rel=1e-3)
