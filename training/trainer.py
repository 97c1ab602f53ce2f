"""The training loop: one generator step and one discriminator step per iteration.

The mode (training/modes/) declares the networks, data fields and losses; the trainer only
drives: data, optimiser steps, EMA, checkpoints, logging, DDP, stop signals.

Works on one CPU, one GPU, or N processes under ``torchrun`` (DDP). Only rank 0 writes
checkpoints, TensorBoard events and the progress bar. Data order, style draws and
augmentation depend only on (seed, step, rank), so a run resumed from step k replays
exactly what an uninterrupted run would have done.

Order of work: recipe checks (training/preflight.py: nothing expensive, nothing written),
data (simulation, caches), networks, resume state, the frozen segmenter, then the loop.
The command (training/train.py) claims the run folder around all of it
(``sim2real_gan.io.run_dir``: a failure before the first checkpoint removes it again).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import time
from pathlib import Path
from typing import Any

import torch
import torch.distributed as tdist
from sim2real_gan.models import save_generator
from sim2real_gan.models.checkpoint import atomic_write_text
from torch.utils.data import DataLoader
from tqdm import tqdm

from . import state as S
from .config import TrainConfig
from .data import RealFrames, SimPairs, StepBatchSampler, TranslationDataset, load_source
from .distributed import DistInfo, barrier, init_distributed, unwrap, wrap
from .ema import EMA
from .fields import Available, require, resolve
from .modes import MODES
from .preflight import check_crop
from .preflight import preflight as run_preflight
from .probe import SourceProbe
from .schedule import lr_factor
from .stop import Interrupted, StopSignal, ignore_sigint_in_worker
from .visual import image_grid

log = logging.getLogger("sim2real_gan.train")


class Trainer:
    """``Trainer(cfg).fit()``; ``resume`` = a step directory or run directory; ``explicit``
    = config keys set on the command line (a missing field for one of them is an error,
    not a log line; see training/fields.py)."""

    def __init__(self, cfg: TrainConfig, resume: str | Path | None = None,
                 dist: DistInfo | None = None, explicit: frozenset[str] = frozenset()) -> None:
        self.cfg = cfg
        self.dist = dist or init_distributed(cfg.device)
        self.device = self.dist.device
        if cfg.threads and self.device.type == "cpu":
            torch.set_num_threads(cfg.threads)
        self.out = Path(cfg.out_dir)
        self.mode = MODES[cfg.mode](cfg)
        resume_dir = S.latest_checkpoint(resume) if resume else None
        self._say(run_preflight(cfg, self.mode, explicit).notes)
        self.data = self._build_data(explicit)
        self.nets = self.mode.build_nets(self.device)
        self.mode.prepare(self.nets, self.data)
        self.w = self.nets.wrapped(lambda m: wrap(m, self.dist))
        o = cfg.optim
        self.opt = {"G": self._adam(self.nets.generator_side(), o.lr_g)}
        if self.nets.discriminator_side():
            self.opt["D"] = self._adam(self.nets.discriminator_side(), o.lr_d)
        self.ema = EMA(self.nets.G, o.ema) if o.ema > 0 else None
        amp_on = cfg.amp != "off" and self.device.type == "cuda"
        self.amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(cfg.amp)
        self.autocast = (lambda: torch.autocast("cuda", dtype=self.amp_dtype)) if amp_on else (
            contextlib.nullcontext)
        use_scaler = amp_on and cfg.amp == "fp16"
        self.scalers = {k: torch.amp.GradScaler("cuda", enabled=use_scaler) for k in self.opt}
        self.step = 0
        self.history: list[dict[str, float]] = []
        if resume_dir is not None:
            self._resume(resume_dir)
        self.segmenter = self.mode.segmenter(self.device, cfg.progress and self.dist.is_main)

    # ----------------------------------------------------------------- setup
    def _say(self, notes: list[str]) -> None:
        for note in notes if self.dist.is_main else []:
            log.info("%s", note)

    def _adam(self, nets: dict[str, torch.nn.Module], lr: float) -> torch.optim.Adam:
        o = self.cfg.optim
        return torch.optim.Adam([p for m in nets.values() for p in m.parameters()], lr=lr,
                                betas=tuple(o.betas), weight_decay=o.weight_decay)

    def _build_data(self, explicit: frozenset[str]) -> TranslationDataset:
        """Load the sources; check what arrived against what preflight assumed."""
        cfg, mode = self.cfg, self.mode
        sim = load_source(cfg.data.sim, "sim", mode.sim_fields())
        where = f"data.sim: the loaded {cfg.data.sim.kind} frames"
        have = frozenset(sim.fields)
        require(mode, have, where)
        on, notes = resolve(mode, Available(have, None, where), explicit, among=mode.on)
        if on != mode.on:
            mode.configure(on)
            mode.check()
            self._say(notes)
        pairs = SimPairs(sim)
        size = pairs.seqs[0][0].load()["image"].shape[:2]
        check_crop(cfg.data.crop, [], [SourceProbe(None, size, where)])
        real = None
        if mode.needs_real:
            real = RealFrames(load_source(cfg.data.real, "real"))
            size = real.load(0)["image"].shape[:2]
            check_crop(cfg.data.crop, [], [SourceProbe(None, size, "data.real")])
        return TranslationDataset(pairs, real, tuple(cfg.data.crop), cfg.seed,
                                  cfg.data.hflip, cfg.data.vflip, mode.g_cfg.aux_channels,
                                  cfg.data.real_min_content, cfg.data.real_jitter)

    def loader(self, start: int, stop: int) -> DataLoader:
        d = self.cfg.data
        sampler = StepBatchSampler(start, stop, d.batch_size, self.dist.rank, self.dist.world)
        return DataLoader(self.data, batch_sampler=sampler, num_workers=d.workers,
                          pin_memory=self.device.type == "cuda",
                          worker_init_fn=ignore_sigint_in_worker if d.workers else None,
                          persistent_workers=False)

    # ----------------------------------------------------------------- one step
    def _set_lr(self) -> None:
        o = self.cfg.optim
        f = lr_factor(self.step, self.cfg.steps, o.schedule, o.decay_start, o.warmup)
        for name, opt in self.opt.items():
            for group in opt.param_groups:
                group["lr"] = (o.lr_g if name == "G" else o.lr_d) * f

    def _backward(self, name: str, loss: torch.Tensor) -> float:
        opt, scaler = self.opt[name], self.scalers[name]
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        params = [p for g in opt.param_groups for p in g["params"] if p.grad is not None]
        norm = torch.nn.utils.clip_grad_norm_(
            params, self.cfg.optim.grad_clip if self.cfg.optim.grad_clip > 0 else math.inf)
        scaler.step(opt)
        scaler.update()
        return float(norm)

    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        """One G update and one D update; returns the logged scalars."""
        cfg = self.cfg
        batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
        if cfg.channels_last:
            batch = {k: v.contiguous(memory_format=torch.channels_last) if v.ndim == 4 else v
                     for k, v in batch.items()}
        gen = torch.Generator().manual_seed(
            (cfg.seed * 1_000_003 + self.step) * 4099 + self.dist.rank)
        self._set_lr()
        for opt in self.opt.values():
            opt.zero_grad(set_to_none=True)
        for m in self.nets.generator_side().values():
            m.train()
        with self.autocast():
            terms, fakes = self.mode.g_step(self.w, batch, gen, self.segmenter)
            g_total = terms.total()
        logs = {f"g/{k}": float(v.detach()) for k, v in terms.values.items()}
        logs["g/total"] = float(g_total.detach())
        logs["grad_norm/G"] = self._backward("G", g_total)
        if "D" in self.opt:
            for m in self.nets.discriminator_side().values():
                m.requires_grad_(True).train()
            with self.autocast():
                d_parts = self.mode.d_step(self.w, batch, fakes)
                d_total = sum(d_parts.values())
            logs.update({f"d/{k}": float(v.detach()) for k, v in d_parts.items()})
            logs["grad_norm/D"] = self._backward("D", d_total)
        if self.ema is not None:
            self.ema.update(self.nets.G, self.step)
        logs["lr/G"] = self.opt["G"].param_groups[0]["lr"]
        self._last = (batch, fakes)
        self.step += 1
        return logs

    # ----------------------------------------------------------------- loop
    def fit(self, stop: StopSignal | None = None) -> Path | None:
        """Train until ``cfg.steps``; returns the final checkpoint directory (rank 0).

        With ``stop`` (installed by the command), SIGINT/SIGTERM end the run after the
        current step with a checkpoint: :class:`~training.stop.Interrupted` is raised.
        """
        cfg, main = self.cfg, self.dist.is_main
        if self.step >= cfg.steps:
            raise ValueError(f"steps: the run is already at step {self.step}; raise steps "
                             f"(--steps N, N > {self.step}) to train further")
        writer, bar, last = None, None, None
        try:
            if main:
                self.out.mkdir(parents=True, exist_ok=True)
                atomic_write_text(self.out / "train_config.json",
                                  json.dumps(cfg.to_dict(), indent=2))
                from torch.utils.tensorboard import SummaryWriter

                writer = SummaryWriter(str(self.out / "tb"))
            bar = tqdm(total=cfg.steps, initial=self.step, disable=not (main and cfg.progress),
                       desc=f"train {cfg.mode}", unit="it", dynamic_ncols=True)
            with stop.deferred() if stop is not None else contextlib.nullcontext():
                last = self._loop(bar, writer, stop)
        finally:
            if bar is not None:
                bar.close()
            if writer is not None:
                writer.close()
        return last

    def _loop(self, bar: tqdm, writer: Any, stop: StopSignal | None) -> Path | None:
        cfg, t0, last, start = self.cfg, time.perf_counter(), None, self.step
        for batch in self.loader(self.step, cfg.steps):
            logs = self.train_step(batch)
            self.history.append({"step": self.step, **logs})
            bar.update(1)
            if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                self._log(bar, writer, logs)
            if writer and (self.step % cfg.image_every == 0 or self.step == cfg.steps):
                writer.add_image("translation", image_grid(self._grid_rows()), self.step)
            saved = self.step % cfg.ckpt_every == 0 or self.step == cfg.steps
            if saved:
                last = self.save_checkpoint()
            signum = self._stop_requested(stop)
            if signum:
                ckpt = last if saved else self.save_checkpoint()
                raise Interrupted(signum, ckpt, self.step)
        if self.dist.is_main:
            log.info("trained steps %d-%d in %.1f s -> %s", start + 1, cfg.steps,
                     time.perf_counter() - t0, last)
        return last

    def _log(self, bar: tqdm, writer: Any, logs: dict[str, float]) -> None:
        cfg = self.cfg
        bar.set_postfix({k.split("/")[-1]: f"{v:.3f}" for k, v in logs.items()
                         if k in ("g/total", "d/d_real", "g/temporal")})
        if self.dist.is_main and not cfg.progress:  # no bar (logs, batch jobs): one line
            log.info("step %d/%d  %s", self.step, cfg.steps, "  ".join(
                f"{k}={v:.3f}" for k, v in logs.items()
                if k in ("g/total", "d/d_real", "g/temporal", "g/semantic", "g/stereo")))
        if writer:
            for k, v in logs.items():
                writer.add_scalar(k, v, self.step)
            writer.add_scalar("speed/it_per_s", bar.format_dict.get("rate") or 0.0, self.step)

    def _stop_requested(self, stop: StopSignal | None) -> int:
        """The signal number if any rank was asked to stop (all ranks agree), else 0."""
        if stop is None:
            return 0
        if not self.dist.enabled:
            return stop.signum
        flag = torch.tensor([stop.signum], dtype=torch.int64,
                            device=self.device if self.device.type == "cuda" else "cpu")
        tdist.all_reduce(flag, op=tdist.ReduceOp.MAX)
        return int(flag.item())

    def _grid_rows(self) -> list[torch.Tensor]:
        batch, fakes = self._last
        rows = [batch["sim_t"], fakes["fake"]]
        if "teacher" in fakes:
            rows.append(fakes["teacher"])
        if "target_t" in batch:
            rows.append(batch["target_t"])
        if "real" in batch:
            rows.append(batch["real"])
        return [r[:4].detach().float().cpu() for r in rows]

    # ----------------------------------------------------------------- checkpoints
    def generator_for_export(self) -> torch.nn.Module:
        return self.ema.shadow if self.ema is not None else unwrap(self.nets.G)

    def save_checkpoint(self) -> Path | None:
        """Rank 0 writes ``checkpoints/step_N`` atomically; other ranks wait."""
        final = None
        if self.dist.is_main:
            root = self.out / "checkpoints"
            root.mkdir(parents=True, exist_ok=True)
            tmp = root / f".tmp-step_{self.step:07d}"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            recent = dict(self.history[-1]) if self.history else {}
            meta = {"step": self.step, "mode": self.cfg.mode, "ema": self.ema is not None,
                    "resolution": self._resolution(), "crop": list(self.cfg.data.crop),
                    "losses": recent, "train_config": self.cfg.to_dict()}
            save_generator(tmp, self.generator_for_export(), self.nets.g_cfg, meta,
                           style_encoder=unwrap(self.nets.E) if self.nets.E is not None else None)
            nets = dict(self.nets.trainable())
            if self.ema is not None:
                nets["G_ema"] = self.ema.shadow
            extra: dict[str, Any] = {"config": self.cfg.to_dict(), "cwd": os.getcwd(),
                                     "scalers": {k: s.state_dict() for k, s in self.scalers.items()},
                                     "history_tail": self.history[-50:]}
            S.save_trainer_state(tmp, self.step, nets, self.opt, extra)
            final = S.publish(root, tmp, self.step, self.cfg.keep_ckpts)
        barrier(self.dist)
        return final

    def _resolution(self) -> list[int]:
        """Frame size the model was trained for (the runtime's working resolution)."""
        src = self.cfg.data.sim
        if src.size:
            return [int(src.size[0]), int(src.size[1])]
        if src.kind == "synthetic":
            return [src.height, src.width]
        first = self.data.sim.seqs[0][0].load()["image"]
        return [int(first.shape[0]), int(first.shape[1])]

    def _resume(self, directory: Path) -> None:
        from sim2real_gan.models.checkpoint import read_config

        saved, _ = read_config(directory)
        if saved != self.nets.g_cfg:
            diff = {k: (v, b) for (k, v), b in zip(saved.to_dict().items(),
                                                  self.nets.g_cfg.to_dict().values(),
                                                  strict=True) if v != b}
            raise ValueError(f"resume: checkpoint {directory} holds a generator that differs "
                             f"from this run's (checkpoint, now): {diff}")
        nets = dict(self.nets.trainable())
        if self.ema is not None:
            nets["G_ema"] = self.ema.shadow
        doc = S.load_trainer_state(directory, nets, self.opt, self.device)
        for k, s in doc.get("scalers", {}).items():
            if k in self.scalers and s:
                self.scalers[k].load_state_dict(s)
        self.step = int(doc["step"])
        if self.dist.is_main:
            log.info("resumed from %s at step %d", directory, self.step)
