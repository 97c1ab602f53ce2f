"""Trainer checkpoints: one directory per step, written to a temporary sibling and renamed.

``checkpoints/step_0000100/``: ``generator.safetensors`` + ``config.json`` (+
``style_encoder.safetensors``): a plain generator checkpoint (EMA weights when EMA is on),
loadable by ``sim2real_gan.models.load_generator`` and ``sim2real-gan export``;
``trainer_state.safetensors`` (every network, EMA, optimizer tensors, torch RNG) and
``trainer_state.json`` (step, optimizer hyper-parameters, scheduler/scaler state, Python and
NumPy RNG, the full training config). ``checkpoints/latest`` names the newest directory.
No pickle anywhere.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file
from sim2real_gan.models.checkpoint import atomic_write_text, save_state_dict

STATE_T = "trainer_state.safetensors"
STATE_J = "trainer_state.json"
FORMAT = "sim2real_gan.trainer/1"


def _split_optimizer(name: str, sd: dict) -> tuple[dict[str, torch.Tensor], dict]:
    tensors, meta = {}, {"param_groups": sd["param_groups"], "scalars": {}}
    for idx, st in sd["state"].items():
        for k, v in st.items():
            if torch.is_tensor(v):
                tensors[f"optim/{name}/{idx}/{k}"] = v
            else:
                meta["scalars"][f"{idx}/{k}"] = v
    return tensors, meta


def _join_optimizer(name: str, tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    state: dict[int, dict] = {}
    prefix = f"optim/{name}/"
    for key, v in tensors.items():
        if key.startswith(prefix):
            idx, k = key[len(prefix):].split("/", 1)
            state.setdefault(int(idx), {})[k] = v
    for key, v in meta["scalars"].items():
        idx, k = key.split("/", 1)
        state.setdefault(int(idx), {})[k] = v
    return {"state": state, "param_groups": meta["param_groups"]}


def rng_state() -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    t = {"rng/torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            t[f"rng/cuda{i}"] = s
    np_state = np.random.get_state()
    j = {"python": repr(random.getstate()),
         "numpy": [np_state[0], np_state[1].tolist(), *np_state[2:]]}
    return t, j


def set_rng_state(t: dict[str, torch.Tensor], j: dict[str, Any]) -> None:
    torch.set_rng_state(t["rng/torch"])
    cuda = [t[k] for k in sorted(k for k in t if k.startswith("rng/cuda"))]
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)
    import ast

    random.setstate(ast.literal_eval(j["python"]))
    n = j["numpy"]
    np.random.set_state((n[0], np.asarray(n[1], dtype=np.uint32), *n[2:]))


def save_trainer_state(directory: Path, step: int, nets: dict[str, torch.nn.Module],
                       optimizers: dict[str, torch.optim.Optimizer], extra: dict[str, Any]
                       ) -> None:
    """Write trainer_state.{safetensors,json} into ``directory`` (which must exist)."""
    tensors: dict[str, torch.Tensor] = {}
    for name, net in nets.items():
        for k, v in net.state_dict().items():
            tensors[f"net/{name}/{k}"] = v
    opt_meta = {}
    for name, opt in optimizers.items():
        t, m = _split_optimizer(name, opt.state_dict())
        tensors.update(t)
        opt_meta[name] = m
    rt, rj = rng_state()
    tensors.update(rt)
    save_state_dict(directory / STATE_T, tensors)
    doc = {"format": FORMAT, "step": step, "optimizers": opt_meta, "rng": rj, **extra}
    atomic_write_text(directory / STATE_J, json.dumps(doc, indent=1, sort_keys=True))


def load_trainer_state(directory: Path, nets: dict[str, torch.nn.Module],
                       optimizers: dict[str, torch.optim.Optimizer], device: torch.device
                       ) -> dict[str, Any]:
    """Restore networks, optimizers and RNG; returns the JSON document (step, extras)."""
    for f in (STATE_T, STATE_J):
        if not (directory / f).is_file():
            raise FileNotFoundError(f"resume: {directory / f} is missing")
    doc = json.loads((directory / STATE_J).read_text(encoding="utf-8"))
    if doc.get("format") != FORMAT:
        raise ValueError(f"resume: {directory / STATE_J} has format {doc.get('format')!r}, "
                         f"expected {FORMAT!r}")
    tensors = load_file(str(directory / STATE_T))
    for name, net in nets.items():
        prefix = f"net/{name}/"
        sd = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        if not sd:
            raise ValueError(f"resume: checkpoint {directory} has no weights for {name!r}")
        net.load_state_dict(sd)
    for name, opt in optimizers.items():
        opt.load_state_dict(_join_optimizer(name, tensors, doc["optimizers"][name]))
    set_rng_state(tensors, doc["rng"])
    return doc


def publish(ckpt_root: Path, tmp: Path, step: int, keep: int) -> Path:
    """Rename the finished ``tmp`` directory to ``step_XXXXXXX``, point ``latest`` at it and
    delete all but the newest ``keep`` step directories."""
    final = ckpt_root / f"step_{step:07d}"
    if final.exists():
        shutil.rmtree(final)
    tmp.rename(final)
    atomic_write_text(ckpt_root / "latest", final.name + "\n")
    steps = sorted(p for p in ckpt_root.glob("step_*") if p.is_dir())
    for old in steps[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest_checkpoint(path: str | Path) -> Path:
    """A step directory, or a run / checkpoints directory resolved through ``latest``."""
    p = Path(path)
    for root in (p, p / "checkpoints"):
        if (root / "latest").is_file():
            return root / (root / "latest").read_text(encoding="utf-8").strip()
    if (p / STATE_J).is_file():
        return p
    raise FileNotFoundError(f"resume: no trainer checkpoint at {p} (expected a step directory "
                            f"or a run directory with checkpoints/latest)")
