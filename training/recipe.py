"""The recipe of a run: from a preset/YAML file plus ``--set`` overrides, or - with
``--resume RUN`` - the run's own recipe restored from its checkpoint, with any ``--set``
given on resume applied on top and logged.

Relative paths in a restored recipe (data paths, caches, teacher, segmenter file) meant
the directory the run was started from; the checkpoint records it (``cwd``), and they are
re-anchored there when resuming from elsewhere.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from . import state as S
from .config import TrainConfig, load_config, parse_override
from .data.footage_mask import MODES as MASK_MODES
from .distributed import launched_rank
from .semantic import AUTO

log = logging.getLogger("sim2real_gan.train")

#: Dotted keys of the recipe that hold file system paths (a string or a list of strings)
#: -> the values of that key that are not paths.
PATH_KEYS: dict[str, tuple[str, ...]] = {
    "teacher": (), "loss.segmenter": AUTO,
    **{f"data.{role}.{k}": (MASK_MODES if k == "mask" else ())
       for role in ("sim", "real") for k in ("paths", "cache", "mask")},
}


def _get(tree: dict[str, Any], dotted: str) -> Any:
    node: Any = tree
    for k in dotted.split("."):
        if not isinstance(node, dict) or k not in node:
            return None
        node = node[k]
    return node


def _anchor(value: Any, cwd: Path, special: tuple[str, ...]) -> Any:
    if isinstance(value, list):
        return [_anchor(v, cwd, special) for v in value]
    if (isinstance(value, str) and value and value not in special
            and not Path(value).is_absolute()):
        return str(cwd / value)
    return value


def reanchor(tree: dict[str, Any], cwd: Path) -> dict[str, Any]:
    """Relative paths of ``tree`` (a recipe dict) made absolute under ``cwd`` (in place)."""
    for dotted, special in PATH_KEYS.items():
        *parents, leaf = dotted.split(".")
        node = _get(tree, ".".join(parents)) if parents else tree
        if isinstance(node, dict) and leaf in node:
            node[leaf] = _anchor(node[leaf], cwd, special)
    return tree


def input_paths(cfg: TrainConfig) -> list[str]:
    """Every path the run reads (data, caches, masks, teacher, segmenter file): the run
    folder must keep off them (``sim2real_gan.io.run_dir``)."""
    tree, out = cfg.to_dict(), []
    for dotted, special in PATH_KEYS.items():
        value = _get(tree, dotted)
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and v and v not in special:
                out.append(v)
    return out


def run_dir_of(checkpoint: Path) -> Path:
    """``RUN/checkpoints/step_N`` -> ``RUN``."""
    return checkpoint.parent.parent


def restore(resume: str | Path, overrides: list[str]) -> tuple[TrainConfig, Path]:
    """The recipe of the run at ``resume`` (a run or step directory) with ``overrides``
    applied (each logged) -> (config, the checkpoint directory to resume from)."""
    ckpt = S.latest_checkpoint(resume)
    doc = json.loads((ckpt / S.STATE_J).read_text(encoding="utf-8"))
    tree = doc.get("config")
    if not isinstance(tree, dict):
        raise ValueError(f"resume: {ckpt / S.STATE_J} holds no training config")
    cwd = doc.get("cwd")
    if cwd and Path(cwd).resolve() != Path.cwd().resolve():
        reanchor(tree, Path(cwd))
    tree["out_dir"] = str(run_dir_of(ckpt))
    for ov in overrides if launched_rank() == 0 else []:
        key, value = parse_override(ov)
        log.info("resume: %s=%s (the run had %s)", key, json.dumps(value),
                 json.dumps(_get(tree, key)))
    cfg = load_config(None, overrides, base=tree)
    step = int(doc.get("step", 0))
    if step >= cfg.steps:
        raise ValueError(f"resume: {ckpt} is at step {step} and the recipe stops at steps="
                         f"{cfg.steps}; raise it to train further (--steps N, N > {step})")
    return cfg, ckpt
