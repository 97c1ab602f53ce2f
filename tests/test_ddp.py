"""DDP under torchrun: 2 CPU processes on gloo. Ranks see different shards, gradients agree
after a step, parameters stay identical, only rank 0 writes.

Run as a test (launches ``python -m torch.distributed.run``) or, as the launched worker,
``torchrun --nproc_per_node=2 tests/test_ddp.py OUT``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SMALL = ["data.sim.seeds=[0]", "data.sim.frames=3", "data.sim.width=32", "data.sim.height=32",
         "data.real.seeds=[0]", "data.real.frames=3", "data.real.width=32",
         "data.real.height=32", "data.crop=[32,32]", "data.batch_size=1", "progress=false",
         "threads=1", "steps=1", "loss.ref_style_prob=0"]


def _worker(out: Path) -> None:
    import torch

    from training.config import load_config
    from training.trainer import Trainer

    cfg = load_config("tiny", [*SMALL, f"out_dir={out / 'run'}"])
    t = Trainer(cfg)
    t.fit()
    batch, _ = t._last
    grads = {f"{net}.{n}": p.grad.flatten()[:16].tolist()
             for net, m in t.nets.trainable().items() for n, p in m.named_parameters()
             if p.grad is not None}
    params = {f"{net}.{n}": float(p.detach().double().sum())
              for net, m in t.nets.trainable().items() for n, p in m.named_parameters()}
    report = {"rank": t.dist.rank, "world": t.dist.world, "samples": batch["n"].tolist(),
              "sim_mean": float(batch["sim_t"].mean()), "grads": grads, "params": params,
              "threads": torch.get_num_threads()}
    (out / f"rank{t.dist.rank}.json").write_text(json.dumps(report))


@pytest.mark.slow
def test_ddp_two_cpu_ranks(tmp_path: Path) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(Path(__file__).parents[1]))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           __file__, str(tmp_path)]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert res.returncode == 0, res.stderr[-3000:]
    r0, r1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    assert (r0["world"], r1["world"]) == (2, 2)
    assert not set(r0["samples"]) & set(r1["samples"])        # different shards
    assert r0["sim_mean"] != r1["sim_mean"]                   # ... with different data
    assert r0["grads"].keys() == r1["grads"].keys() and len(r0["grads"]) > 10
    for k in r0["grads"]:                                     # all-reduced gradients
        assert r0["grads"][k] == pytest.approx(r1["grads"][k], rel=1e-5, abs=1e-7), k
    for k in r0["params"]:                                    # identical weights after a step
        assert r0["params"][k] == pytest.approx(r1["params"][k], rel=1e-6, abs=1e-8), k
    run = tmp_path / "run"
    assert len(list((run / "checkpoints").glob("step_*"))) == 1   # only rank 0 wrote
    assert len(list((run / "tb").glob("events.out.tfevents.*"))) == 1


if __name__ == "__main__":
    _worker(Path(sys.argv[1]))
