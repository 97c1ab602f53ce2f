"""How much the style code controls a styled generator, on held-out simulator scenes.

    python -m training.style_probe --model models/default

For each scene (default: held-out evaluation seeds 1,000,001-1,000,004, frame 10, 256x256):

- ``spread``: per-pixel standard deviation of the translation over ``--codes`` random
  N(0, 1) style codes, averaged over pixels and channels ([-1, 1] units). 0 means the
  generator ignores its style input.
- ``ref_gap_encoded`` / ``ref_gap_random``: L1 distance between the per-channel colour mean
  and standard deviation of the translation and of a reference frame (the ``real`` rendering
  of the next scene in the list), with the reference's own code E(ref) and, averaged, with
  the random codes. Encoded below random means the code carries the reference's look.

Prints a JSON dict of the means over scenes (and per scene with ``--per-scene``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from sim2real_gan.models import load_generator, load_style_encoder

from .nets import resolve_generator_dir
from .strip import HELD_OUT_SCENES, to_input


def _moments(x: torch.Tensor) -> torch.Tensor:
    return torch.cat([x.mean(dim=(2, 3)), x.std(dim=(2, 3))], 1)


@torch.no_grad()
def probe(model_dir: str | Path, seeds: list[int], size: int = 256, frame: int = 10,
          codes: int = 6, code_seed: int = 0) -> dict:
    from sim2real_gan.sim.config import SimConfig
    from sim2real_gan.sim.simulator import EndoscopeSimulator

    if len(seeds) < 2:
        raise ValueError("style_probe: give at least two scene seeds (each scene's reference "
                         "is the next scene's real rendering)")
    directory = resolve_generator_dir(model_dir)
    model, cfg = load_generator(directory)
    if not cfg.style_dim:
        raise ValueError(f"style_probe: {directory} has no style input (style_dim 0)")
    if cfg.aux_channels:
        raise ValueError("style_probe: generators with aux inputs are not supported")
    encoder = load_style_encoder(directory)
    styles = torch.randn(codes, cfg.style_dim, generator=torch.Generator().manual_seed(code_seed))
    sims, reals = [], []
    for seed in seeds:
        sim = EndoscopeSimulator(SimConfig(width=size, height=size,
                                           appearances=("sim", "real")), seed=seed)
        fr = list(sim.frames(1, start=frame))[0]
        sims.append(to_input(fr.image("sim")))
        reals.append(to_input(fr.image("real")))
    rows = []
    for i, x in enumerate(sims):
        ref = reals[(i + 1) % len(reals)]
        outs = model(x.expand(codes, -1, -1, -1), styles)
        row = {"seed": seeds[i], "spread": float(outs.std(dim=0).mean())}
        ref_m = _moments(ref)
        row["ref_gap_random"] = float((_moments(outs) - ref_m).abs().mean())
        if encoder is not None:
            y = model(x, encoder(ref))
            row["ref_gap_encoded"] = float((_moments(y) - ref_m).abs().mean())
        rows.append(row)
    keys = [k for k in rows[0] if k != "seed"]
    return {"model": str(directory), "size": size, "frame": frame, "codes": codes,
            **{k: float(np.mean([r[k] for r in rows])) for k in keys}, "scenes": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="models/default", help="generator checkpoint or run dir")
    ap.add_argument("--seeds", type=int, nargs="+", default=HELD_OUT_SCENES,
                    help="simulator scene seeds (default: held-out evaluation scenes)")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--frame", type=int, default=10)
    ap.add_argument("--codes", type=int, default=6, help="random style codes per scene")
    ap.add_argument("--per-scene", action="store_true", help="also print each scene's numbers")
    args = ap.parse_args()
    torch.set_num_threads(1)
    res = probe(args.model, args.seeds, args.size, args.frame, args.codes)
    if not args.per_scene:
        res.pop("scenes")
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
