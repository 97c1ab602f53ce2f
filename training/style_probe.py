"""How much the style code controls a styled generator, and whether a reference frame sets
the look of the output, on held-out simulator scenes.

    python -m training.style_probe --model models/default

Scenes: held-out evaluation seeds (default 1,000,001-1,000,004), frame 10, 256x256.

- ``spread``: per-pixel standard deviation of the translation over ``--codes`` random
  style codes ([-1, 1] units; 0 = the style input is ignored): N(0, 1) codes, or drawn
  through the artifact's style prior when ``model.json`` has one (``export --style-prior``),
  as the runtime draws them; ``code_spread``:
  the standard deviation over those codes of the output's CIELAB mean L, a and b (Lab
  units, averaged over the three and the scenes): how different random looks are.
- Reference following: every scene is translated with the default style (code 0, or the
  artifact's ``default`` bank entry: the style prior's mean) and with
  the code the style encoder gives for each reference frame; ``distance`` is the Euclidean
  distance (Lab units) between the output's CIELAB moments (mean and std of L, a, b over
  the frame) and the reference's (over its content area, the black surround left out).
  ``closer`` = 1 - encoded / default distance (0.5 = half the distance the default style
  leaves). References, none of them a training frame:
  ``in_domain``: the ``real`` rendering of the held-out scenes (each scene gets the others');
  ``out_of_domain``: those frames recoloured and relit beyond the training jitter (white
  balance warm / cool, dark, bright, hue +25 degrees, desaturated, vivid with strong
  highlights), standing in for footage from another scope.

Prints a JSON dict (per-reference rows with ``--per-reference``).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import torch
from sim2real_gan.artifact.pixels import from_net
from sim2real_gan.artifact.styles import prior_code
from sim2real_gan.models import load_generator, load_style_encoder
from sim2real_gan.models.colour import lab_moments, rgb_to_lab

from .data.appearance import hue_matrix
from .nets import resolve_generator_dir
from .strip import HELD_OUT_SCENES, aux_input, aux_tensor, to_input

LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _grade(rgb: np.ndarray, gain: tuple[float, float, float] = (1, 1, 1), gamma: float = 1.0,
           sat: float = 1.0, hue: float = 0.0, contrast: float = 1.0,
           highlights: float = 0.0) -> np.ndarray:
    """A recoloured / relit copy of uint8 (H,W,3) (black stays black)."""
    x = rgb.astype(np.float32) / 255.0
    black = x.max(-1) < 20 / 255
    x = x * np.asarray(gain, np.float32)
    y = x @ LUMA
    pivot = float(y[~black].mean()) if (~black).any() else 0.5
    x = pivot + (x - pivot) * contrast
    y = x @ LUMA
    x = (y[..., None] + (x - y[..., None]) * sat) @ hue_matrix(hue).T
    x = x + highlights * np.clip(x @ LUMA - 0.6, 0, None)[..., None]
    out = (np.clip(x, 0, 1) ** gamma * 255 + 0.5).astype(np.uint8)
    out[black] = 0
    return out


#: Out-of-domain references: each held-out real frame graded beyond the training jitter.
GRADES: dict[str, dict] = {
    "warm": {"gain": (1.15, 0.93, 0.7)},
    "cool": {"gain": (0.8, 0.95, 1.2)},
    "dark": {"gain": (0.55, 0.55, 0.55), "gamma": 1.2},
    "bright": {"gain": (1.45, 1.45, 1.45), "contrast": 1.2},
    "hue+25": {"hue": 25.0},
    "desaturated": {"sat": 0.45},
    "vivid": {"sat": 1.6, "highlights": 2.0},
}


def _moments(rgb: np.ndarray, content: bool) -> torch.Tensor:
    """uint8 (H,W,3) -> (6,) CIELAB moments (over the content area when ``content``)."""
    x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255.0
    w = (x.amax(1, keepdim=True) >= 20 / 255).float() if content else None
    return lab_moments(rgb_to_lab(x), w)[0]


def _to_rgb(y: torch.Tensor) -> np.ndarray:
    return from_net(y.numpy())


def _scenes(seeds: list[int], size: int, frame: int, aux_channels: tuple[str, ...]
            ) -> tuple[list[tuple[torch.Tensor, torch.Tensor | None]], list[np.ndarray]]:
    """-> ([(sim input (1,3,H,W), aux (1,A,H,W) or None)], [real rendering uint8 (H,W,3)])."""
    from sim2real_gan.sim.config import SimConfig
    from sim2real_gan.sim.simulator import EndoscopeSimulator

    sims, reals = [], []
    for seed in seeds:
        sim = EndoscopeSimulator(SimConfig(width=size, height=size,
                                           appearances=("sim", "real")), seed=seed)
        fr = list(sim.frames(1, start=frame))[0]
        sims.append((to_input(fr.image("sim")), aux_tensor(aux_input(fr, aux_channels))))
        reals.append(fr.image("real"))
    return sims, reals


def _distance(out: np.ndarray, ref_m: torch.Tensor) -> float:
    return float((_moments(out, False) - ref_m).norm())


@torch.no_grad()
def probe(model_dir: str | Path, seeds: list[int], size: int = 256, frame: int = 10,
          codes: int = 6, code_seed: int = 0) -> dict:
    """The measurements of the module doc -> dict (``scenes``: per-scene rows;
    ``references``: per-reference rows when the model has a style encoder)."""
    if len(seeds) < 2:
        raise ValueError("style_probe: give at least two scene seeds (each scene's reference "
                         "is another scene's real rendering)")
    directory = resolve_generator_dir(model_dir)
    model, cfg = load_generator(directory)
    if not cfg.style_dim:
        raise ValueError(f"style_probe: {directory} has no style input (style_dim 0)")
    encoder = load_style_encoder(directory)
    styles = torch.randn(codes, cfg.style_dim, generator=torch.Generator().manual_seed(code_seed))
    default = torch.zeros(1, cfg.style_dim)
    prior = _style_prior(directory)
    if prior is not None:  # what the runtime does with seeds and `random` for this artifact
        styles = torch.from_numpy(prior_code(styles.numpy(), prior))
        default = torch.tensor(prior.mean, dtype=torch.float32)[None]
    sims, reals = _scenes(seeds, size, frame, cfg.aux_channels)
    rows = []
    for i, (x, aux) in enumerate(sims):
        many = None if aux is None else aux.expand(codes, -1, -1, -1)
        outs = model(x.expand(codes, -1, -1, -1), styles, many)
        means = torch.stack([_moments(o, False)[:3] for o in _to_rgb(outs)])
        rows.append({"seed": seeds[i], "spread": float(outs.std(dim=0).mean()),
                     "code_spread": float(means.std(0).mean())})
    res = {"model": str(directory), "size": size, "frame": frame, "codes": codes,
           "spread": float(np.mean([r["spread"] for r in rows])),
           "code_spread": float(np.mean([r["code_spread"] for r in rows])), "scenes": rows}
    res["style_prior"] = prior is not None
    if encoder is not None:
        res.update(_follow(model, encoder, sims, reals, default))
    return res


def _style_prior(directory: Path):
    """The artifact's style prior (``model.json`` beside the weights), or None."""
    from sim2real_gan.artifact import ModelManifest

    manifest = directory / "model.json"
    if not manifest.is_file():
        return None
    return ModelManifest.from_json(json.loads(manifest.read_text()), str(manifest)).style_prior


def _follow(model: torch.nn.Module, encoder: torch.nn.Module,
            sims: list[tuple[torch.Tensor, torch.Tensor | None]], reals: list[np.ndarray],
            default_code: torch.Tensor) -> dict:
    """Default style vs encoded reference: distances of the output's moments to each
    reference's, for in-domain and out-of-domain references."""
    default = [_to_rgb(model(x, default_code, a))[0] for x, a in sims]
    refs = []
    for j, real in enumerate(reals):
        refs.append(("in_domain", f"real_{j}", j, real))
        refs += [("out_of_domain", f"{name}_{j}", j, _grade(real, **kw))
                 for name, kw in GRADES.items()]
    table = []
    for group, name, j, ref in refs:
        ref_m = _moments(ref, True)
        code = encoder(to_input(ref))
        for i, (x, a) in enumerate(sims):
            if i == j:
                continue  # a scene is never styled by its own real rendering
            enc = _to_rgb(model(x, code, a))[0]
            table.append({"group": group, "reference": name, "scene": i,
                          "default": _distance(default[i], ref_m),
                          "encoded": _distance(enc, ref_m)})
    out: dict = {"references": table}
    for group in ("in_domain", "out_of_domain"):
        d = float(np.mean([r["default"] for r in table if r["group"] == group]))
        e = float(np.mean([r["encoded"] for r in table if r["group"] == group]))
        out[group] = {"default": d, "encoded": e, "closer": 1.0 - e / d if d > 0 else math.nan}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="models/default", help="generator checkpoint or run dir")
    ap.add_argument("--seeds", type=int, nargs="+", default=HELD_OUT_SCENES,
                    help="simulator scene seeds (default: held-out evaluation scenes)")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--frame", type=int, default=10)
    ap.add_argument("--codes", type=int, default=6, help="random style codes per scene")
    ap.add_argument("--per-reference", action="store_true",
                    help="also print the per-scene and per-reference rows")
    args = ap.parse_args()
    torch.set_num_threads(1)
    res = probe(args.model, args.seeds, args.size, args.frame, args.codes)
    if not args.per_reference:
        res.pop("scenes")
        res.pop("references", None)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
