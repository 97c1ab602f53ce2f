"""Render the simulator pictures of docs/simulator.md (small JPEGs under docs/img/).

    .venv/bin/python scripts/render_sim_docs.py            # writes docs/img/sim_*.jpg

Everything comes from the built-in simulator with fixed seeds, so the pictures are
reproducible; each file is written atomically.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import cv2
import numpy as np
from sim2real_gan.sim import EndoscopeSimulator, RealLookConfig, SimConfig, StereoConfig
from sim2real_gan.sim.stereo_writers import stereo_preview_strip

OUT = Path(__file__).resolve().parents[1] / "docs" / "img"
# (label, RealLookConfig overrides) for the effects grid: the default, then one change each.
EFFECTS = [
    ("default", {}),
    ("field_stop=octagon", {"field_stop": "octagon"}),
    ("field_stop=none", {"field_stop": "none"}),
    ("vignetting=off", {"vignetting": False}),
    ("specular=off", {"specular": False}),
    ("tissue_detail=off", {"tissue_detail": False}),
    ("fat_lobules=off", {"fat_lobules": False}),
    ("blood=off", {"blood": False}),
    ("auto_exposure=off", {"auto_exposure": False}),
    ("smoke=on", {"smoke": True}),
    ("distortion=-0.25", {"distortion": -0.25}),
    ("all effects off", {"field_stop": "none", "vignetting": False, "specular": False,
                         "tissue_detail": False, "fat_lobules": False, "blood": False,
                         "auto_exposure": False, "sensor_noise": False, "lens_blur": False}),
]


def _label(img: np.ndarray, text: str) -> np.ndarray:
    out = img.copy()
    (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
    out[:h + 10, :w + 10] //= 3
    cv2.putText(out, text, (5, h + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1,
                cv2.LINE_AA)
    return out


def _save(name: str, rgb: np.ndarray) -> None:
    fd, tmp = tempfile.mkstemp(suffix=".jpg", dir=OUT)
    os.close(fd)
    if not cv2.imwrite(tmp, rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85]):
        raise OSError(f"could not write {tmp}")
    os.replace(tmp, OUT / name)
    print(f"{OUT / name}: {(OUT / name).stat().st_size // 1024} KiB")


def sim_vs_real(seeds: tuple[int, ...] = (1, 3, 4, 7), size: int = 256) -> np.ndarray:
    """Columns: one scene each; rows: sim, real (the same frame)."""
    cols = []
    for seed in seeds:
        sim = EndoscopeSimulator(SimConfig(width=size, height=size,
                                           appearances=("sim", "real")), seed)
        f = next(sim.frames(1, start=30))
        cols.append(np.concatenate([f.image("sim"), f.image("real")], axis=0))
    return np.concatenate(cols, axis=1)


def effects(seed: int = 3, size: int = 192, smoke_frame: int | None = None) -> np.ndarray:
    """A 4x3 grid: the default real look and one switch changed per tile."""
    from sim2real_gan.sim.smoke import Smoke

    smoke = Smoke(seed, size, size, np.random.default_rng(0))
    start = smoke_frame if smoke_frame is not None else next(
        i for i in range(30, 5000) if smoke.envelope(i / 30.0) > 0.45)
    tiles = []
    for label, over in EFFECTS:
        cfg = SimConfig(width=size, height=size, appearances=("real",),
                        real=RealLookConfig(**over))
        f = next(EndoscopeSimulator(cfg, seed).frames(1, start=start))
        tiles.append(_label(f.image("real"), label))
    rows = [np.concatenate(tiles[i:i + 4], axis=1) for i in range(0, len(tiles), 4)]
    return np.concatenate(rows, axis=0)


def stereo(seed: int = 3, size: int = 192) -> np.ndarray:
    """left | right | GT disparity (black = occluded / out of view) | depth."""
    cfg = SimConfig(width=size, height=size, appearances=("real",),
                    stereo=StereoConfig(baseline_m=0.005))
    return stereo_preview_strip(EndoscopeSimulator(cfg, seed), [30])


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    _save("sim_vs_real.jpg", sim_vs_real())
    _save("sim_real_effects.jpg", effects())
    _save("sim_stereo.jpg", stereo())


if __name__ == "__main__":
    main()
