"""CIELAB moments, the statistics-conditioned output stage and style encoder, the bilinear
head: values against OpenCV, moments reached, black surround ignored, ONNX parity."""

from __future__ import annotations

import io

import cv2
import numpy as np
import onnxruntime as ort
import pytest
import torch
from sim2real_gan.models import (
    StatsConditioning,
    build_generator,
    build_style_encoder,
    get_preset,
)
from sim2real_gan.models.colour import lab_moments, lab_to_rgb, rgb_to_lab


def _image(seed: int, h: int = 32, w: int = 32) -> torch.Tensor:
    """A smooth random RGB image (1,3,H,W) in [0,1] (no pixel near black): colour ramps
    along x and y with different slopes per channel, and a little pixel noise."""
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(1, 3, 1, 1, generator=g) * 0.4 + 0.3
    rx = torch.linspace(-1, 1, w).view(1, 1, 1, w)
    ry = torch.linspace(-1, 1, h).view(1, 1, h, 1)
    cx, cy = (torch.rand(2, 1, 3, 1, 1, generator=g) * 2 - 1) * 0.2
    return (base + rx * cx + ry * cy
            + 0.01 * torch.rand(1, 3, h, w, generator=g)).clamp(0.1, 1)


def test_lab_matches_opencv_and_round_trips() -> None:
    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    lab = rgb_to_lab(x)
    ref = cv2.cvtColor(x[0].permute(1, 2, 0).numpy(), cv2.COLOR_RGB2Lab)
    assert np.abs(lab[0].permute(1, 2, 0).numpy() - ref).max() < 0.3
    assert (lab_to_rgb(lab) - x).abs().max() < 1e-4
    assert torch.isfinite(torch.autograd.functional.jacobian(
        lambda t: rgb_to_lab(t).sum(), torch.zeros(1, 3, 2, 2))).all()  # no NaN at black


def test_weighted_moments_ignore_the_region_outside() -> None:
    lab = rgb_to_lab(_image(1))
    w = torch.zeros(1, 1, 32, 32)
    w[..., 8:24, 8:24] = 1
    inside = lab_moments(lab[..., 8:24, 8:24])
    garbage = lab.clone()
    garbage[..., :8, :] = 99.0
    np.testing.assert_allclose(lab_moments(garbage, w), inside, atol=1e-3)
    np.testing.assert_allclose(lab_moments(lab, torch.zeros_like(w)), lab_moments(lab), atol=1e-3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stats_stage_reaches_the_wanted_moments(seed: int) -> None:
    st = StatsConditioning()
    want = lab_moments(rgb_to_lab(_image(seed + 10)))
    out = st(_image(seed) * 2 - 1, st.code(want))
    got = lab_moments(rgb_to_lab((out + 1) / 2))
    # means within a Lab unit, spreads within 10% (the CIELAB transfer is fitted on a 4x
    # pooled copy and carried to the full image as an affine map in YCbCr)
    np.testing.assert_allclose(got[:, :3], want[:, :3], atol=1.0)
    np.testing.assert_allclose(got[:, 3:], want[:, 3:], rtol=0.1, atol=0.5)


def test_stats_stage_keeps_black_black_and_measures_without_it() -> None:
    """A black cavity (the background class) stays black whatever the code asks, and does
    not count in the moments (as a reference's black surround does not)."""
    st = StatsConditioning()
    img = _image(4, 32, 32)
    img[..., :10, :10] = 0.0
    want = lab_moments(rgb_to_lab(_image(11)))
    out = (st(img * 2 - 1, st.code(want)) + 1) / 2
    assert float(out[..., :8, :8].max()) < 1e-6
    scene = torch.ones(1, 1, 32, 32)
    scene[..., :10, :10] = 0
    got = lab_moments(rgb_to_lab(out), scene)
    np.testing.assert_allclose(got[:, :3], want[:, :3], atol=1.5)


def test_stats_calibration_and_bad_input() -> None:
    st = StatsConditioning()
    g = torch.Generator().manual_seed(0)
    base = torch.randn(200, 1, generator=g)            # correlated moments (e.g. mean L, std L)
    m = torch.tensor([40.0, 20, 15, 10, 5, 6]) + torch.cat(
        [8 * base, 4 * torch.randn(200, 2, generator=g), 3 * base + torch.randn(200, 1, generator=g),
         torch.randn(200, 2, generator=g)], 1)
    st.calibrate(m)
    z = st.code(m)
    np.testing.assert_allclose(z.mean(0), torch.zeros(6), atol=1e-4)
    c = torch.cov(z.T)            # whitened (the 0.25 variance floor leaves 1/1.25 on a unit)
    np.testing.assert_allclose(c - torch.diag(torch.diag(c)), torch.zeros(6, 6), atol=0.05)
    assert 0.75 < float(torch.diag(c).min()) and float(torch.diag(c).max()) <= 1.0 + 1e-4
    np.testing.assert_allclose(st.moments(z), m, atol=1e-3)                # and back
    with pytest.raises(ValueError, match=r"\(N>=2, 6\)"):
        st.calibrate(torch.zeros(1, 6))


def test_encoder_reads_the_content_area_of_a_reference_with_surround() -> None:
    cfg = get_preset("tiny", style_dim=8, style_stats=True)
    enc = build_style_encoder(cfg).eval()
    scene = _image(3, 32, 32)
    framed = torch.zeros(1, 3, 48, 48)
    framed[..., 8:40, 8:40] = scene           # black surround, as footage has
    with torch.no_grad():
        a, b = enc(scene * 2 - 1), enc(framed * 2 - 1)
    assert a.shape == (1, 8)
    np.testing.assert_allclose(a[:, :6], b[:, :6], atol=1e-3)   # the colour part: exact
    np.testing.assert_allclose(a[:, :6], enc.stats.code(lab_moments(rgb_to_lab(scene))),
                               atol=1e-4)
    with pytest.raises(ValueError, match="style_stats needs style_dim >= 6"):
        get_preset("tiny", style_dim=4, style_stats=True)


def test_generator_follows_an_out_of_domain_reference() -> None:
    """An untrained statistics-conditioned G already carries any reference's moments (its
    decoder's random contribution switched off: the test is about the output stage)."""
    torch.manual_seed(0)
    cfg = get_preset("tiny", style_dim=8, style_stats=True, head="bilinear")
    g, enc = build_generator(cfg).eval(), build_style_encoder(cfg).eval()
    torch.nn.init.zeros_(g.head[0].weight)
    torch.nn.init.zeros_(g.head[0].bias)
    ref = _image(5) * torch.tensor([1.15, 0.85, 0.7]).view(1, 3, 1, 1)   # a strong warm cast
    with torch.no_grad():
        out = g(_image(6) * 2 - 1, enc(ref.clamp(0, 1) * 2 - 1))
    got = lab_moments(rgb_to_lab((out + 1) / 2))
    want = lab_moments(rgb_to_lab(ref.clamp(0, 1)))
    np.testing.assert_allclose(got[:, :3], want[:, :3], atol=1.0)
    np.testing.assert_allclose(got[:, 3:], want[:, 3:], rtol=0.1, atol=0.5)


def _onnx(module: torch.nn.Module, args: tuple, names: list[str]) -> ort.InferenceSession:
    f = io.BytesIO()
    axes = {n: {0: "B", 2: "H", 3: "W"} for n in names if n != "style"}
    axes["style"] = {0: "B"}
    torch.onnx.export(module, args, f, dynamo=False, opset_version=17, input_names=names,
                      output_names=["out"], dynamic_axes={**axes, "out": {0: "B"}})
    return ort.InferenceSession(f.getvalue(), providers=["CPUExecutionProvider"])


def test_onnx_parity_of_stats_generator_and_encoder() -> None:
    torch.manual_seed(0)
    cfg = get_preset("tiny", style_dim=8, style_stats=True, head="bilinear", vignette=True)
    g, enc = build_generator(cfg).eval(), build_style_encoder(cfg).eval()
    torch.nn.init.normal_(g.mapping.net[-1].weight, std=0.3)
    x, s = _image(0) * 2 - 1, torch.randn(1, 8)
    sess_g = _onnx(g, (x, s), ["image", "style"])
    sess_e = _onnx(enc, (x,), ["image"])
    for b, h, w in [(1, 32, 32), (2, 24, 40)]:
        x = torch.cat([_image(b + i, h, w) for i in range(b)]) * 2 - 1
        s = torch.randn(b, 8)
        with torch.no_grad():
            ref_g, ref_e = g(x, s).numpy(), enc(x).numpy()
        np.testing.assert_allclose(sess_g.run(None, {"image": x.numpy(), "style": s.numpy()})[0],
                                   ref_g, atol=2e-4)
        np.testing.assert_allclose(sess_e.run(None, {"image": x.numpy()})[0], ref_e, atol=2e-4)


def test_bilinear_head_has_no_checkerboard_at_init() -> None:
    torch.manual_seed(0)
    cfg = get_preset("tiny", head="bilinear", input_skip=False)
    g = build_generator(cfg).eval()
    with torch.no_grad():
        y = g(torch.rand(1, 3, 32, 32) * 2 - 1, torch.zeros(1, cfg.style_dim))
    # period-2 energy: the difference between neighbouring pixels alternates sign
    d = y[..., 1:] - y[..., :-1]
    alternation = (d[..., 1:] * d[..., :-1] < 0).float().mean()
    assert alternation < 0.6
    with pytest.raises(ValueError, match="head"):
        get_preset("tiny", head="transposed")


def test_vignette_darkens_towards_the_rim_of_the_whole_frame() -> None:
    torch.manual_seed(0)
    cfg = get_preset("tiny", vignette=True, input_skip=True)
    g = build_generator(cfg).eval()
    torch.nn.init.zeros_(g.head[0].weight)      # output = tanh(input): a flat grey frame in,
    torch.nn.init.zeros_(g.head[0].bias)        # the vignetting alone shapes the output
    with torch.no_grad():
        g.mapping.net[-1].bias[-2] = 4.0        # strong vignetting (k 0.93) for every code
        x = torch.full((1, 3, 64, 64), 0.4)
        y = g(x, torch.zeros(1, cfg.style_dim))
        centre, corner = y[0, :, 30:34, 30:34].mean(), y[0, :, :4, :4].mean()
        assert corner < centre - 0.3
        assert float(((y + 1) / 2).min()) >= 0.3 * float((torch.tanh(x) + 1).min() / 2) - 1e-4
        # a crop told where it lies in the frame is shaded like that part of the frame
        from sim2real_gan.models.vignette import rim_distance
        rim = rim_distance(x)[..., :32, :32]
        crop = g(x[..., :32, :32], torch.zeros(1, cfg.style_dim), rim=rim)
        np.testing.assert_allclose(crop, y[..., :32, :32], atol=1e-5)
        with pytest.raises(ValueError, match="rim"):
            g(x, torch.zeros(1, cfg.style_dim), rim=rim)
