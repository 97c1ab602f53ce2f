"""Before/after strip: simulator frames (held-out scenes) and their translations.

    python -m training.strip --model models/default --out docs/img/before_after.jpg

Rows: sim input | the simulator's ``real`` rendering of the same view (the footage
stand-in the model was trained towards; never its input) | translated (style seed A) |
translated (style seed B) | translated with the label boundaries of the *sim* frame drawn
on top (they must still sit on the edges). Columns: frames of different held-out scenes, at
``--size`` (default 256x256, the demo's size). Uses the PyTorch generator checkpoint.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from sim2real_gan.artifact.pixels import from_net, to_net
from sim2real_gan.models import load_generator

from .nets import resolve_generator_dir


def label_edges(labels: np.ndarray) -> np.ndarray:
    """bool (H,W): pixels whose 4-neighbourhood holds another class id."""
    e = np.zeros(labels.shape, bool)
    e[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    e[1:, :] |= labels[1:, :] != labels[:-1, :]
    return e


# Held-out evaluation scenes (never used for training) shown by the strip and the style probe.
HELD_OUT_SCENES = [1_000_001, 1_000_002, 1_000_003, 1_000_004]


def to_input(rgb: np.ndarray) -> torch.Tensor:
    """uint8 (H,W,3) -> generator input (1,3,H,W) in [-1,1]."""
    return torch.from_numpy(to_net(rgb))[None]


def aux_input(fr, aux_channels: tuple[str, ...]) -> np.ndarray | None:
    """A simulator frame's aux planes in the generator's channel order -> float32 (H,W,A),
    or None when the generator reads none (``uv``: 2 channels, ``depth``: 1)."""
    if not aux_channels:
        return None
    parts = {"uv": fr.uv, "depth": fr.depth[..., None]}
    return np.concatenate([parts[a] for a in aux_channels], -1).astype(np.float32)


def aux_tensor(aux: np.ndarray | None) -> torch.Tensor | None:
    """float32 (H,W,A) -> (1,A,H,W) tensor (None stays None)."""
    return None if aux is None else torch.from_numpy(aux).permute(2, 0, 1)[None].float()


@torch.no_grad()
def translate(model: torch.nn.Module, rgb: np.ndarray, style: torch.Tensor | None,
              aux: np.ndarray | None = None) -> np.ndarray:
    """uint8 (H,W,3) -> uint8 (H,W,3) through the generator (H, W multiples of size_multiple)."""
    y = model(to_input(rgb), style, aux_tensor(aux))[0]
    return from_net(y.numpy())


def build_strip(model_dir: str | Path, seeds: list[int], size: int = 256, frame: int = 10,
                style_seeds: tuple[int, int] = (1, 2)) -> np.ndarray:
    from sim2real_gan.sim.config import SimConfig
    from sim2real_gan.sim.simulator import EndoscopeSimulator

    model, cfg = load_generator(resolve_generator_dir(model_dir))
    styles = [torch.randn(1, cfg.style_dim, generator=torch.Generator().manual_seed(s))
              if cfg.style_dim else None for s in style_seeds]
    cols = []
    for seed in seeds:
        sim = EndoscopeSimulator(SimConfig(width=size, height=size,
                                           appearances=("sim", "real")), seed=seed)
        fr = list(sim.frames(1, start=frame))[0]
        aux = aux_input(fr, cfg.aux_channels)
        rgb = fr.image("sim")
        outs = [translate(model, rgb, s, aux) for s in styles]
        over = outs[0].copy()
        over[label_edges(fr.labels)] = (255, 255, 0)
        cols.append(np.concatenate([rgb, fr.image("real"), *outs, over], 0))
    pad = np.full((cols[0].shape[0], 4, 3), 255, np.uint8)
    strip = cols[0]
    for c in cols[1:]:
        strip = np.concatenate([strip, pad, c], 1)
    return strip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="models/default", help="generator checkpoint or run dir")
    ap.add_argument("--out", default="docs/img/before_after.jpg")
    ap.add_argument("--seeds", type=int, nargs="+", default=HELD_OUT_SCENES,
                    help="simulator scene seeds (default: held-out evaluation scenes)")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--frame", type=int, default=10, help="frame index within each sequence")
    args = ap.parse_args()
    torch.set_num_threads(1)
    strip = build_strip(args.model, args.seeds, args.size, args.frame)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    from sim2real_gan.io.media import write_image

    write_image(out, strip)
    print(f"wrote {out} ({strip.shape[1]}x{strip.shape[0]})")


if __name__ == "__main__":
    main()
