"""Simulator geometry, labels, determinism, appearances and API errors (tiny sizes)."""

from __future__ import annotations

import numpy as np
import pytest
from sim2real_gan.sim import config as C
from sim2real_gan.sim.config import SimConfig, scene_seed_for
from sim2real_gan.sim.scene import CAVITY, CYLINDER
from sim2real_gan.sim.simulator import EndoscopeSimulator

W, H = 64, 48


def _inside(kind: int, size: tuple, R: np.ndarray, c: np.ndarray,  # noqa: N803
            pts: np.ndarray) -> np.ndarray:
    """Is each world point (...,3) inside the solid (for the cavity: outside the hollow)?"""
    loc = (pts - c) @ R
    if kind == CYLINDER:
        r, s0, s1 = size
        return (loc[..., 0] ** 2 + loc[..., 1] ** 2 < r * r) & (loc[..., 2] >= s0) & (loc[..., 2] <= s1)
    q = ((loc / np.asarray(size)) ** 2).sum(-1)
    return q >= 1.0 if kind == CAVITY else q < 1.0


def test_labels_and_depth_agree_with_an_independent_ray_march() -> None:
    """March every pixel's ray in 0.25 mm steps through the implicit solids: the first solid
    met must be the labelled surface class (instrument vs tissue, and which class) at the
    reported depth."""
    cfg = SimConfig(width=W, height=H, instruments=2)
    sim = EndoscopeSimulator(cfg, 11)
    index = 7
    f = next(sim.frames(1, start=index))
    st = sim.state(index)
    K = f.K  # noqa: N806
    jj, ii = np.meshgrid(np.arange(0, W, 2), np.arange(1, H, 2))  # every 4th pixel: fast
    rays = np.stack([(jj - K[0, 2]) / K[0, 0], (ii - K[1, 2]) / K[1, 1], np.ones_like(jj, float)], -1)
    labels, depth = f.labels[ii, jj], f.depth[ii, jj]
    step = 0.00025
    ts = np.arange(cfg.near_m, cfg.far_m, step)
    pts = st.cam_p + (rays[..., None, :] * ts[:, None]) @ st.cam_R.T  # (H,W,T,3)
    first_t = np.full(jj.shape, np.inf)
    first_label = np.zeros(jj.shape, np.uint8)
    for k, spec in enumerate(sim.scene.primitives):
        inside = _inside(spec.kind, spec.size, st.R[k], st.c[k], pts)
        hit = inside.any(-1)
        t = np.where(hit, ts[np.argmax(inside, -1)], np.inf)
        closer = t < first_t
        first_t[closer], first_label[closer] = t[closer], spec.label
    patch = labels == C.FAT  # fat patches are painted on the wall/gallbladder surfaces
    march = np.where(patch & (first_label != C.FAT), C.FAT, first_label)
    agree = march == labels
    assert agree.mean() > 0.985  # disagreements: rays grazing a silhouette within a step
    instrument = labels >= C.SHAFT
    assert ((march >= C.SHAFT) == instrument).mean() > 0.99
    assert instrument.any() and (~instrument).any()
    both = agree & (labels > 0)
    assert np.abs(first_t[both] - depth[both]).max() < step + 1e-6
    assert np.all(f.depth[f.labels == 0] == 0) and np.all(f.depth[f.labels > 0] > 0)


def test_instrument_labels_are_exactly_where_an_instrument_is_the_first_hit() -> None:
    """Per primitive closed-form hit depths: instrument pixels in the labels are exactly the
    pixels where an instrument's hit is nearer than every tissue hit."""
    cfg = SimConfig(width=W, height=H, instruments=2)
    sim = EndoscopeSimulator(cfg, 5)
    rc = sim.raycaster
    for index in (0, 9):
        st = sim.state(index)
        f = next(sim.frames(1, start=index))
        best = {True: np.full((H, W), cfg.far_m), False: np.full((H, W), cfg.far_m)}
        tables = rc._tables(st, sim.state(index + 1))
        for k, spec in enumerate(sim.scene.primitives):
            t = rc._hit_t(k, tables, rc.xs, rc.ys)
            if t is not None:
                group = best[spec.is_instrument]
                np.fmin(group, t, out=group)  # NaN: no hit
        first_is_instrument = best[True] < best[False]
        assert np.array_equal(first_is_instrument, f.labels >= C.SHAFT)
        np.testing.assert_allclose(f.depth, np.where(np.minimum(best[True], best[False]) < cfg.far_m,
                                                     np.minimum(best[True], best[False]), 0),
                                   rtol=0, atol=0)


def test_depth_points_lie_on_their_surfaces() -> None:
    sim = EndoscopeSimulator(SimConfig(width=W, height=H), 2)
    g = sim.geometry(3)
    st = sim.state(3)
    K = sim.K  # noqa: N806
    for k, spec in enumerate(sim.scene.primitives):
        ii, jj = np.nonzero(g.pid == k)
        if ii.size == 0:
            continue
        z = g.depth[ii, jj].astype(np.float64)
        cam = np.stack([(jj - K[0, 2]) / K[0, 0] * z, (ii - K[1, 2]) / K[1, 1] * z, z], -1)
        loc = (cam @ st.cam_R.T + st.cam_p - st.c[k]) @ st.R[k]
        if spec.kind == CYLINDER:
            resid = np.hypot(loc[:, 0], loc[:, 1]) / spec.size[0] - 1
        else:
            resid = np.sqrt(((loc / np.asarray(spec.size)) ** 2).sum(-1)) - 1
        assert np.abs(resid).max() < 2e-3, spec.name


def _frame_bytes(f) -> list[bytes]:
    arrays = [*f.rgb.values(), f.labels, f.depth, f.uv, f.flow, f.flow_valid, f.K]
    return [a.tobytes() for a in arrays] + [str(f.stamp_ns).encode()]


def test_same_seed_same_bytes_and_random_access() -> None:
    cfg = SimConfig(width=W, height=H, appearances=("sim", "real"))
    a = list(EndoscopeSimulator(cfg, 123).frames(4))
    b = list(EndoscopeSimulator(cfg, 123).frames(4))
    assert [_frame_bytes(x) for x in a] == [_frame_bytes(x) for x in b]
    late = next(EndoscopeSimulator(cfg, 123).frames(1, start=3))
    assert _frame_bytes(late) == _frame_bytes(a[3])


def test_different_seed_different_scene() -> None:
    cfg = SimConfig(width=W, height=H)
    a = next(EndoscopeSimulator(cfg, 1).frames(1))
    b = next(EndoscopeSimulator(cfg, 2).frames(1))
    assert (a.labels != b.labels).mean() > 0.05
    assert np.abs(a.depth - b.depth).mean() > 0.002
    assert scene_seed_for(0, "sim") != scene_seed_for(0, "real")
    assert scene_seed_for(7, "sim", paired=True) == scene_seed_for(7, "real", paired=True) == 7


def test_appearances_share_labels_depth_uv_and_flow() -> None:
    both = EndoscopeSimulator(SimConfig(width=W, height=H, appearances=("sim", "real")), 9)
    only_real = EndoscopeSimulator(SimConfig(width=W, height=H, appearances=("real",)), 9)
    for fb, fr in zip(both.frames(3), only_real.frames(3), strict=True):
        for name in ("labels", "depth", "uv", "flow", "flow_valid"):
            assert np.array_equal(getattr(fb, name), getattr(fr, name)), name
        assert np.array_equal(fb.image("real"), fr.image("real"))
        assert not np.array_equal(fb.image("sim"), fb.image("real"))


def test_frame_fields_shapes_and_types() -> None:
    cfg = SimConfig(width=W, height=H, appearances=("sim", "real"), fps=25.0)
    f0, f1 = list(EndoscopeSimulator(cfg, 4).frames(2))
    assert f0.image("sim").shape == (H, W, 3) and f0.image("sim").dtype == np.uint8
    assert f0.labels.shape == (H, W) and f0.labels.dtype == np.uint8
    assert f0.labels.max() < C.NUM_CLASSES
    assert f0.depth.dtype == np.float32 and f0.uv.shape == (H, W, 2) and f0.uv.dtype == np.float32
    assert 0.0 <= f0.uv.min() and f0.uv.max() <= 1.0
    assert f0.flow.shape == (H, W, 2) and f0.flow.dtype == np.float32
    assert f0.flow_valid.shape == (H, W) and f0.flow_valid.dtype == bool
    assert f0.K.shape == (3, 3) and f0.K[0, 2] == (W - 1) / 2
    assert f1.stamp_ns - f0.stamp_ns == 40_000_000
    with pytest.raises(KeyError, match="not rendered"):
        EndoscopeSimulator(SimConfig(width=W, height=H), 4).frames(1).__next__().image("real")


def test_real_appearance_looks_like_tissue_and_sim_is_flat() -> None:
    """Plausibility, not beauty: reddish tissue, yellow fat, grey instruments, specular
    glints and texture in ``real``; one colour per class and lit point in ``sim``."""
    cfg = SimConfig(width=128, height=96, appearances=("sim", "real"), instruments=2,
                    lighting="world")
    reds, fat, inst, tex_real, tex_sim = [], [], [], [], []
    for seed in (1, 2, 3):
        f = next(EndoscopeSimulator(cfg, seed).frames(1, start=10))
        real = f.image("real").astype(np.float32)
        sim = f.image("sim").astype(np.float32)
        tissue = np.isin(f.labels, (C.LIVER, C.WALL))
        reds.append(real[tissue].mean(0))
        if (f.labels == C.FAT).sum() > 20:
            fat.append(real[f.labels == C.FAT].mean(0))
        if (f.labels >= C.SHAFT).sum() > 20:
            px = real[f.labels >= C.SHAFT]
            inst.append((px.max(1) - px.min(1)).mean())  # chroma
        # texture: spread of colours inside one class, after removing smooth shading
        liver = f.labels == C.LIVER
        tex_real.append(np.std(real[liver][:, 0] / (real[liver].mean(1) + 1)))
        tex_sim.append(np.std(sim[liver][:, 0] / (sim[liver].mean(1) + 1)))
    for r, g, b in reds:
        assert r > 1.3 * g and r > 1.3 * b
    for r, g, b in fat:
        assert r > b and g > 1.2 * b
    assert inst and max(inst) < 40
    assert min(tex_real) > 5 * max(tex_sim)


@pytest.mark.parametrize("kwargs, match", [
    ({"width": 4}, "width"),
    ({"fps": 0}, "fps"),
    ({"appearances": ("photo",)}, "appearances"),
    ({"appearances": ()}, "appearances"),
    ({"instruments": 3}, "instruments"),
    ({"lighting": "sun"}, "lighting"),
    ({"near_m": 0.5}, "near_m"),
])
def test_config_rejects_bad_values(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        SimConfig(**kwargs)


def test_simulator_rejects_bad_arguments() -> None:
    cfg = SimConfig(width=W, height=H)
    with pytest.raises(ValueError, match="seed"):
        EndoscopeSimulator(cfg, -1)
    sim = EndoscopeSimulator(cfg, 0)
    with pytest.raises(ValueError, match="count"):
        next(sim.frames(-2))
    with pytest.raises(ValueError, match="appearance"):
        next(sim.frames(1, appearances=("photo",)))
    with pytest.raises(ValueError, match="appearance"):
        scene_seed_for(0, "photo")


def test_allocator_tuning_applies_on_linux_glibc() -> None:
    import platform

    from sim2real_gan.sim.alloc import retain_freed_memory

    expected = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert retain_freed_memory() is expected
