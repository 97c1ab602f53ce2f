"""The ``real`` appearance's footage effects: optics, highlights, detail, switches (tiny sizes)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from sim2real_gan.sim import config as C
from sim2real_gan.sim.appearance import View, light_terms
from sim2real_gan.sim.config import LOOK_SWITCHES, RealLookConfig, SimConfig
from sim2real_gan.sim.detail import detail_texture
from sim2real_gan.sim.optics import field_stop
from sim2real_gan.sim.simulator import EndoscopeSimulator
from sim2real_gan.sim.smoke import Smoke

W, H = 96, 80


def _frames(seed: int = 3, n: int = 2, start: int = 10, size: tuple[int, int] = (W, H),
            **look: object) -> list:
    cfg = SimConfig(width=size[0], height=size[1], appearances=("real",),
                    real=RealLookConfig(**look))
    return list(EndoscopeSimulator(cfg, seed).frames(n, start=start))


def _warp(img: np.ndarray, flow: np.ndarray) -> np.ndarray:
    mx = np.arange(flow.shape[1], dtype=np.float32)[None, :] + flow[..., 0]
    my = np.arange(flow.shape[0], dtype=np.float32)[:, None] + flow[..., 1]
    return cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def test_field_stop_is_black_fixed_and_reported_as_content_mask() -> None:
    a, b = _frames(n=2)
    mask = a.content_mask
    assert mask.shape == (H, W) and mask.dtype == bool and not mask.flags.writeable
    assert np.array_equal(mask, b.content_mask)  # a fixed scope: same surround every frame
    assert 0.6 < mask.mean() < 0.98 and not mask[0, 0] and mask[H // 2, W // 2]
    img = a.image("real").astype(np.int32)
    surround = cv2.erode((~mask).view(np.uint8), np.ones((3, 3), np.uint8)) > 0
    assert img[surround].max() <= 12  # black, up to sensor noise (the rim pixel may blur)
    assert img[mask].mean() > 40
    # the surround noise changes from frame to frame (per-frame sensor noise) ...
    assert not np.array_equal(a.image()[surround], b.image()[surround])
    # ... and is absent with the sensor switched off
    quiet = _frames(n=1, sensor_noise=False)[0]
    assert quiet.image()[surround].max() == 0


def test_field_stop_shapes() -> None:
    circle = field_stop(W, H, "circle", 1.0, (0.0, 0.0))
    octagon = field_stop(W, H, "octagon", 1.0, (0.0, 0.0))
    assert field_stop(W, H, "none", 1.0, (0.0, 0.0)).min() == 1.0
    r = H / 2  # radius 1.0 = half the shorter side: the circle touches top and bottom
    yy, xx = np.mgrid[0:H, 0:W]
    dist = np.hypot(xx - (W - 1) / 2, yy - (H - 1) / 2)
    assert (circle[dist < r - 1.5] == 1).all() and (circle[dist > r + 1.5] == 0).all()
    assert octagon.sum() < circle.sum() * 1.1 and not np.array_equal(octagon > 0.5, circle > 0.5)
    full = _frames(n=1, field_stop="none")[0]
    assert full.content_mask.all()


def test_vignetting_darkens_towards_the_rim() -> None:
    def radial(**look: object) -> float:
        f = _frames(n=1, sensor_noise=False, specular=False, auto_exposure=False, **look)[0]
        lum = f.image().astype(np.float32).mean(-1)
        yy, xx = np.mgrid[0:H, 0:W]
        r = np.hypot(xx - (W - 1) / 2, yy - (H - 1) / 2) / (H / 2)
        hit = f.depth > 0
        return float(lum[(r > 0.75) & (r < 0.95) & hit].mean() / lum[(r < 0.4) & hit].mean())
    assert radial(vignetting=True) < 0.75 * radial(vignetting=False)


def test_highlights_follow_the_light_on_the_scope_tip() -> None:
    """A plane facing the camera at depth z: the Blinn peak (n.H = 1) is at the principal
    point when the light is at the optical centre, and moves to x = fx * dx / (2 z) pixels
    when the light moves dx along x (the half vector halves the offset)."""
    cfg = SimConfig(width=W, height=H)
    view = View(cfg)
    z, dx = 0.05, 0.006
    depth = np.full((H, W), z, np.float32)
    n = [np.zeros((H, W), np.float32), np.zeros((H, W), np.float32),
         np.full((H, W), -1.0, np.float32)]
    for light, expect in ((np.zeros(3), 0.0), (np.array([dx, 0, 0]), cfg.K[0, 0] * dx / (2 * z))):
        ndl, ndh, d2 = light_terms(view, n, depth, light)
        row = ndh[int(cfg.K[1, 2])]
        peak = float(np.argmax(row)) - cfg.K[0, 2]
        assert abs(peak - expect) <= 1.0
        assert d2.min() == pytest.approx(z * z, rel=1e-3)


def test_wet_highlights_sit_where_the_surface_faces_the_scope() -> None:
    """Turning specular on adds light where n.v is near 1 (the light is at the camera), far
    more than on obliquely seen tissue, and the highlights move as the scope moves."""
    on = _frames(seed=2, n=2, start=30, sensor_noise=False, auto_exposure=False)
    off = _frames(seed=2, n=2, start=30, sensor_noise=False, auto_exposure=False,
                  specular=False)
    sim = EndoscopeSimulator(SimConfig(width=W, height=H), 2)
    for f_on, f_off in zip(on, off, strict=True):
        gain = (f_on.image().astype(np.float32) - f_off.image()).mean(-1)
        cos = View(sim.config).cos(sim.geometry(f_on.index).normal)
        tissue = (f_on.labels > 0) & (f_on.labels < C.SHAFT) & f_on.content_mask
        assert gain[tissue & (cos > 0.97)].mean() > 3 * gain[tissue & (cos < 0.8)].mean()
    a, b = (np.abs(f.image().astype(np.float32) - g.image()).mean(-1) > 20
            for f, g in zip(on, off, strict=True))
    assert a.sum() > 10 and not np.array_equal(a, b)


@pytest.mark.parametrize("switch", [*LOOK_SWITCHES, "field_stop", "distortion"])
def test_every_switch_changes_the_image_and_nothing_else(switch: str) -> None:
    default = RealLookConfig()
    if switch == "field_stop":
        other = {switch: "octagon"}
    elif switch == "distortion":
        other = {switch: -0.2}
    else:
        other = {switch: not getattr(default, switch)}
    start, size = 30, (160, 128)  # seed 3, frame 30 shows fat, blood and instruments
    if switch == "smoke":  # start at a frame inside a puff
        smoke = Smoke(3, *size, np.random.default_rng(0))
        start = next(i for i in range(2000) if smoke.envelope(i / 30.0) > 0.2)
    a = _frames(n=1, start=start, size=size)[0]
    b = _frames(n=1, start=start, size=size, **other)[0]
    assert np.abs(a.image().astype(np.int32) - b.image()).mean() > 0.1
    for name in ("labels", "depth", "uv", "flow", "flow_valid"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_barrel_distortion_matches_its_camera_info_and_makes_real_unlabelled() -> None:
    """Undistorting the distorted image with OpenCV and the frame's plumb_bob coefficients
    gives back the pinhole rendering (so the CameraInfo written with it is honest)."""
    base = dict(sensor_noise=False, lens_blur=False, field_stop="none", vignetting=False)
    pin = _frames(seed=5, n=1, start=3, **base)[0]
    bent = _frames(seed=5, n=1, start=3, distortion=-0.3, **base)[0]
    assert pin.labelled("real") and not bent.labelled("real") and bent.labelled("sim")
    k_d, dist = bent.real_camera
    np.testing.assert_array_equal(dist, [-0.3, 0, 0, 0, 0])
    assert k_d[0, 0] > bent.K[0, 0] and np.array_equal(k_d[:2, 2], bent.K[:2, 2])
    with pytest.raises(ValueError, match="unlabelled"):
        bent.ground_truth("real")

    def blur(x: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(x.astype(np.float32), (0, 0), 1.0)
    back = cv2.undistort(bent.image(), k_d, dist, newCameraMatrix=bent.K)
    seen = cv2.undistort(np.full((H, W), 255, np.uint8), k_d, dist, newCameraMatrix=bent.K)
    seen = cv2.erode((seen == 255).view(np.uint8), np.ones((9, 9), np.uint8)) > 0
    assert seen.mean() > 0.3  # the barrel image covers the pinhole's middle
    err_back = np.abs(blur(back) - blur(pin.image()))[seen].mean()
    err_bent = np.abs(blur(bent.image()) - blur(pin.image()))[seen].mean()
    assert err_back < 0.15 * err_bent


def test_ground_truth_of_real_hides_the_surround() -> None:
    f = _frames(n=1)[0]
    gt, sim_gt = f.ground_truth("real"), f.ground_truth("sim")
    m = f.content_mask
    assert np.array_equal(sim_gt.labels, f.labels)
    assert np.array_equal(gt.labels[m], f.labels[m]) and (gt.labels[~m] == 0).all()
    assert (gt.depth[~m] == 0).all() and not gt.flow_valid[~m].any()
    assert (gt.uv[~m] == 0).all() and (gt.flow[~m] == 0).all()
    with pytest.raises(ValueError, match="appearance"):
        f.ground_truth("photo")


def test_auto_exposure_compensates_brightness() -> None:
    sim = EndoscopeSimulator(SimConfig(width=W, height=H, appearances=("real",)), 4)
    optics = sim.shader("real").optics
    rad = np.full((H, W, 3), 0.05, np.float32)
    g1, g4 = optics.exposure(rad), optics.exposure(rad * 4)
    assert g1 / g4 == pytest.approx(4 ** 0.85, rel=1e-3)

    def spread(ae: bool) -> float:
        means = [f.image()[f.content_mask].mean() for s in range(1, 7)
                 for f in _frames(seed=s, n=1, auto_exposure=ae)]
        return float(np.std(means) / np.mean(means))
    assert spread(True) < spread(False)


def test_fine_detail_adds_texture_without_temporal_shimmer() -> None:
    """Physically sized detail is low-passed where pixels cover several texels: it adds
    contrast inside a class but the flow-warped difference between frames barely grows."""
    plain = dict(sensor_noise=False, specular=False, auto_exposure=False, field_stop="none",
                 vignetting=False, lens_blur=False)
    tex, err = {}, {}
    for det in (True, False):
        fr = _frames(seed=1, n=3, start=10, size=(160, 128), tissue_detail=det,
                     fat_lobules=det, **plain)
        wall = fr[0].labels == C.WALL
        lum = fr[0].image().astype(np.float32).mean(-1)
        tex[det] = np.abs(lum - cv2.GaussianBlur(lum, (0, 0), 3))[wall].mean()
        err[det] = np.mean([np.abs(_warp(b.image().astype(np.float32), a.flow) - a.image())
                            [a.flow_valid].mean() for a, b in zip(fr[:-1], fr[1:], strict=True)])
    assert tex[True] > 1.35 * tex[False]
    assert err[True] < 1.4 * err[False]


def test_detail_texture_is_periodic_and_shared() -> None:
    sharp, soft = detail_texture(1)
    assert sharp.shape == soft.shape and sharp.shape[2] == 4 and not sharp.flags.writeable
    step = np.abs(np.diff(sharp, axis=1)).mean((0, 1))
    seam = np.abs(sharp[:, 0] - sharp[:, -1]).mean(0)
    assert (seam < 2 * step).all()  # no edge where the texture wraps
    assert detail_texture(1)[0] is sharp
    caps, lob = sharp[..., 2], sharp[..., 3]
    assert 0 <= caps.min() and caps.max() <= 1 and 0.01 < (caps > 0.5).mean() < 0.3
    assert lob.min() >= -0.61 and lob.max() <= 0.41


def test_smoke_is_random_access_and_intermittent() -> None:
    a, b = (Smoke(11, W, H, np.random.default_rng(5)) for _ in range(2))
    times = np.arange(0, 120, 0.25)
    env = [a.envelope(t) for t in times]
    assert env == [b.envelope(t) for t in times[::-1]][::-1]  # any query order
    on = np.mean(np.array(env) > 0.05)
    assert 0.05 < on < 0.9 and max(env) < 1.0
    t = times[int(np.argmax(env))]
    d = a.density(t)
    assert d.shape == (H, W) and d.dtype == np.float32 and 0 <= d.min() and d.max() < 1
    assert a.density(float(times[np.argmin(env)])) is None


@pytest.mark.parametrize("kwargs, match", [
    ({"field_stop": "square"}, "field_stop"),
    ({"distortion": 0.2}, "distortion"),
    ({"smoke": "yes"}, "smoke"),
])
def test_look_config_rejects_bad_values(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        RealLookConfig(**kwargs)
    with pytest.raises(ValueError, match="real"):
        SimConfig(real={"smoke": True})  # type: ignore[arg-type]


def test_real_look_is_deterministic_and_random_access() -> None:
    look = dict(smoke=True)
    a = _frames(seed=8, n=3, start=0, **look)
    b = _frames(seed=8, n=1, start=2, **look)
    assert np.array_equal(a[2].image(), b[0].image())
    assert not np.array_equal(a[0].image(), a[1].image())


def test_distorted_real_bag_has_only_image_and_its_camera_model(tmp_path) -> None:
    from sim2real_gan.cli.main import main
    from sim2real_gan.io.bag import BagReader

    out = tmp_path / "bag"
    assert main(["simulate", str(out), "--paired", "--frames", "1", "--width", "48",
                 "--height", "40", "--look", "distortion=-0.2", "--look", "smoke=on",
                 "--no-progress"]) == 0
    with BagReader(out) as r:
        topics = set(r.topics)
        info = next(m.decode() for m in r.messages(["/real/camera/camera_info"]))
    assert {t for t in topics if t.startswith("/real/")} == {"/real/camera/image_raw",
                                                              "/real/camera/camera_info"}
    assert "/sim/camera/segmentation" in topics  # the sim image stays labelled
    np.testing.assert_array_equal(info.d, [-0.2, 0, 0, 0, 0])
    assert info.distortion_model == "plumb_bob"
    assert info.k[0] > SimConfig(width=48, height=40).K[0, 0]  # K_d, not the pinhole K
