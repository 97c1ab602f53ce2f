"""Generator presets, style, neural texture, discriminators: shapes, errors, gradients, ONNX."""

from __future__ import annotations

import io

import numpy as np
import onnxruntime as ort
import pytest
import torch
from sim2real_gan.models import (
    PRESETS,
    DiscriminatorConfig,
    GeneratorConfig,
    NeuralTexture,
    StyleEncoder,
    build_discriminator,
    build_generator,
    count_gmac,
    count_params,
    get_preset,
)


def _inputs(cfg: GeneratorConfig, b: int = 2, h: int = 32, w: int = 32, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    image = torch.rand(b, 3, h, w, generator=g) * 2 - 1
    style = torch.randn(b, cfg.style_dim, generator=g) if cfg.style_dim else None
    aux = torch.rand(b, cfg.aux_dim, h, w, generator=g) if cfg.aux_dim else None
    return image, style, aux


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_shape_range(name: str) -> None:
    torch.manual_seed(0)
    cfg = get_preset(name)
    g = build_generator(cfg)
    assert g.size_multiple == cfg.size_multiple
    image, style, aux = _inputs(cfg, b=1, h=32, w=48)
    with torch.no_grad():
        out = g(image, style, aux)
    assert out.shape == image.shape and out.dtype == torch.float32
    assert out.abs().max() <= 1.0 and torch.isfinite(out).all()


def test_rt_budget_and_ordering() -> None:
    """rt is the real-time preset: at most 1.5 GMAC at 256x256 and far below cyclegan."""
    rt = count_gmac(build_generator(get_preset("rt")), get_preset("rt"), 256, 256)
    base_128 = count_gmac(build_generator(get_preset("base")), get_preset("base"), 128, 128)
    assert 0 < rt <= 1.5
    assert 4 * base_128 > 2 * rt  # MACs scale with the pixel count


def test_gradients_reach_every_parameter() -> None:
    torch.manual_seed(0)
    cfg = get_preset("tiny", aux_channels=("uv", "depth"), texture_channels=4,
                     texture_size=16, texture_levels=2)
    g = build_generator(cfg)
    # The mapping MLP's last layer starts at zero; move it so gradients flow everywhere.
    torch.nn.init.normal_(g.mapping.net[-1].weight, std=0.1)
    image, style, aux = _inputs(cfg)
    g(image, style, aux).square().mean().backward()
    dead = [n for n, p in g.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not dead


def test_pixelshuffle_head_starts_without_checkerboard() -> None:
    """ICNR init: before training, the head's four sub-pixels of each 2x2 block are equal."""
    torch.manual_seed(0)
    g = build_generator(get_preset("rt"))
    feat = torch.randn(1, g.head[0].in_channels, 8, 8)
    with torch.no_grad():
        out = g.head(feat)                                       # (1, 3, 16, 16)
        blocks = out.unfold(2, 2, 2).unfold(3, 2, 2)             # (1, 3, 8, 8, 2, 2)
    assert out.abs().mean() > 1e-3
    assert torch.allclose(blocks, blocks[..., :1, :1].expand_as(blocks))


def test_style_controls_output_deterministically() -> None:
    torch.manual_seed(0)
    cfg = get_preset("tiny")
    g = build_generator(cfg).eval()
    torch.nn.init.normal_(g.mapping.net[-1].weight, std=0.5)
    image, style, _ = _inputs(cfg)
    with torch.no_grad():
        a, b = g(image, style), g(image, style)
        c = g(image, style + 1.0)
    assert torch.equal(a, b)
    assert (a - c).abs().mean() > 1e-3


@pytest.mark.parametrize("bad", ["channels", "size", "style", "aux_missing", "aux_extra"])
def test_bad_inputs_name_the_problem(bad: str) -> None:
    cfg = get_preset("tiny", aux_channels=("depth",))
    g = build_generator(cfg)
    image, style, aux = _inputs(cfg)
    args = {"channels": (image[:, :2], style, aux), "size": (image[:, :, :30], style, aux[:, :, :30]),
            "style": (image, style[:, :2], aux), "aux_missing": (image, style, None),
            "aux_extra": (image, style, torch.cat([aux, aux], 1))}[bad]
    word = {"channels": "image", "size": "divisible", "style": "style", "aux_missing": "aux",
            "aux_extra": "aux"}[bad]
    with pytest.raises(ValueError, match=word):
        g(*args)
    with pytest.raises(ValueError, match="takes no aux"):
        build_generator(get_preset("tiny"))(image, style, aux)


def test_config_validation_and_round_trip() -> None:
    cfg = get_preset("rt", aux_channels=("uv",), texture_channels=8)
    assert GeneratorConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.style_color and not get_preset("rt", style_dim=0).style_color  # no code, no grade
    with pytest.raises(ValueError, match="needs 'uv'"):
        GeneratorConfig(texture_channels=4)
    with pytest.raises(ValueError, match="unknown"):
        GeneratorConfig(aux_channels=("normals",))
    with pytest.raises(ValueError, match="unknown keys"):
        GeneratorConfig.from_dict({"ngf": 8, "bogus": 1})
    with pytest.raises(ValueError, match="expected one of"):
        get_preset("huge")


def test_neural_texture_reads_atlas_at_texel_centres() -> None:
    tex = NeuralTexture(channels=2, size=8, levels=1)
    with torch.no_grad():
        tex.atlases[0].copy_(torch.arange(128.0).reshape(1, 2, 8, 8))
    iy, ix = 3, 5
    uv = torch.tensor([(ix + 0.5) / 8, (iy + 0.5) / 8]).reshape(1, 2, 1, 1)
    got = tex(uv).flatten()
    assert torch.allclose(got, tex.atlases[0][0, :, iy, ix], atol=1e-5)


def test_style_encoder_and_discriminator_shapes() -> None:
    enc = StyleEncoder(style_dim=5, ngf=8, n_down=3)
    assert enc(torch.zeros(3, 3, 40, 24)).shape == (3, 5)
    with pytest.raises(ValueError, match=r"\(B,3,H,W\)"):
        enc(torch.zeros(3, 1, 40, 24))
    d = build_discriminator(DiscriminatorConfig(ndf=8, n_layers=2, n_scales=3))
    outs = d(torch.zeros(2, 3, 64, 64))
    assert len(outs) == 3 and all(o.shape[:2] == (2, 1) for o in outs)
    assert outs[0].shape[-1] > outs[1].shape[-1] > outs[2].shape[-1]
    assert count_params(d) > 0


def test_onnx_export_matches_torch_with_dynamic_size() -> None:
    torch.manual_seed(0)
    cfg = get_preset("tiny", aux_channels=("uv", "depth"), texture_channels=4,
                     texture_size=16, texture_levels=2)
    g = build_generator(cfg).eval()
    torch.nn.init.normal_(g.mapping.net[-1].weight, std=0.3)
    image, style, aux = _inputs(cfg, b=1, h=32, w=32)
    f = io.BytesIO()
    names = ["image", "style", "aux"]
    torch.onnx.export(g, (image, style, aux), f, dynamo=False, opset_version=17,
                      input_names=names, output_names=["output"],
                      dynamic_axes={"image": {0: "B", 2: "H", 3: "W"}, "style": {0: "B"},
                                    "aux": {0: "B", 2: "H", 3: "W"}, "output": {0: "B", 2: "H", 3: "W"}})
    sess = ort.InferenceSession(f.getvalue(), providers=["CPUExecutionProvider"])
    for b, h, w in [(1, 32, 32), (2, 24, 40)]:
        image, style, aux = _inputs(cfg, b=b, h=h, w=w, seed=b)
        got = sess.run(None, {"image": image.numpy(), "style": style.numpy(),
                              "aux": aux.numpy()})[0]
        with torch.no_grad():
            ref = g(image, style, aux).numpy()
        assert got.shape == (b, 3, h, w)
        np.testing.assert_allclose(got, ref, atol=1e-4)
