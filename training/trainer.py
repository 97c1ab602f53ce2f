"""The training loop: one generator step and one discriminator step per iteration.

Works on one CPU, one GPU, or N processes under ``torchrun`` (DDP). Only rank 0 writes
checkpoints, TensorBoard events and the progress bar. Data order, style draws and
augmentation depend only on (seed, step, rank), so a run resumed from step k replays
exactly what an uninterrupted run would have done.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import shutil
import time
from pathlib import Path
from typing import Any

import torch
from sim2real_gan.models import save_generator
from torch.utils.data import DataLoader
from tqdm import tqdm

from . import state as S
from .config import TrainConfig
from .data import RealFrames, SimPairs, StepBatchSampler, TranslationDataset, build_source
from .distributed import DistInfo, barrier, init_distributed, unwrap, wrap
from .ema import EMA
from .nets import build_nets, needs_real, sim_fields
from .schedule import lr_factor
from .steps import d_losses, g_losses, weighted_sum
from .visual import image_grid

log = logging.getLogger("sim2real_gan.train")


class Trainer:
    """``Trainer(cfg).fit()``; ``resume`` = a step directory or run directory."""

    def __init__(self, cfg: TrainConfig, resume: str | Path | None = None,
                 dist: DistInfo | None = None) -> None:
        self.cfg = cfg
        self.dist = dist or init_distributed(cfg.device)
        self.device = self.dist.device
        if cfg.threads and self.device.type == "cpu":
            torch.set_num_threads(cfg.threads)
        self.out = Path(cfg.out_dir)
        self.nets = build_nets(cfg, self.device)
        self.w = {k: wrap(m, self.dist) for k, m in self.nets.trainable().items()}
        g_params = [p for k in self.nets.generator_side for p in self.nets.trainable()[k].parameters()]
        d_params = [p for k in self.nets.discriminator_side
                    for p in self.nets.trainable()[k].parameters()]
        o = cfg.optim
        self.opt = {"G": torch.optim.Adam(g_params, lr=o.lr_g, betas=tuple(o.betas),
                                          weight_decay=o.weight_decay)}
        if d_params:
            self.opt["D"] = torch.optim.Adam(d_params, lr=o.lr_d, betas=tuple(o.betas),
                                             weight_decay=o.weight_decay)
        self.ema = EMA(self.nets.G, o.ema) if o.ema > 0 else None
        amp_on = cfg.amp != "off" and self.device.type == "cuda"
        self.amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(cfg.amp)
        self.autocast = (lambda: torch.autocast("cuda", dtype=self.amp_dtype)) if amp_on else (
            contextlib.nullcontext)
        use_scaler = amp_on and cfg.amp == "fp16"
        self.scalers = {k: torch.amp.GradScaler("cuda", enabled=use_scaler) for k in self.opt}
        self.step = 0
        self.history: list[dict[str, float]] = []
        if resume:
            self._resume(S.latest_checkpoint(resume))
        self.segmenter = self._load_segmenter()
        self.data = self._build_data()

    # ----------------------------------------------------------------- setup
    def _build_data(self) -> TranslationDataset:
        cfg, g_cfg = self.cfg, self.nets.g_cfg
        sim = SimPairs(build_source(cfg.data.sim, "sim", sim_fields(cfg, g_cfg)))
        real = None
        if needs_real(cfg):
            if cfg.data.real is None:
                raise ValueError(f"mode {cfg.mode!r} needs data.real (real-domain frames)")
            real = RealFrames(build_source(cfg.data.real, "real"))
        crop = tuple(cfg.data.crop)
        m = g_cfg.size_multiple
        if crop[0] % m or crop[1] % m:
            raise ValueError(f"data.crop {list(crop)} must be divisible by the generator's "
                             f"size_multiple {m}")
        return TranslationDataset(sim, real, crop, cfg.seed, cfg.data.hflip, cfg.data.vflip,
                                  g_cfg.aux_channels)

    def _load_segmenter(self) -> torch.nn.Module | None:
        lw = self.cfg.loss
        if lw.semantic <= 0:
            return None
        from .semantic import load_segmenter, train_auto_segmenter

        kw = {"crop": lw.segmenter_crop, "progress": self.cfg.progress and self.dist.is_main}
        if lw.segmenter in ("auto", "auto-sim"):
            log.info("training the frozen segmenter of loss.semantic (%s, %d steps)",
                     lw.segmenter, lw.segmenter_steps)
        if lw.segmenter == "auto-sim":
            seg = train_auto_segmenter(self.cfg.data.sim, lw.segmenter_steps, self.cfg.seed,
                                       domain="sim", **kw)
        elif lw.segmenter == "auto":
            if self.cfg.data.real is None:
                raise ValueError("loss.segmenter 'auto' trains on data.real, which is null")
            seg = train_auto_segmenter(self.cfg.data.real, lw.segmenter_steps, self.cfg.seed,
                                       **kw)
        elif lw.segmenter:
            seg = load_segmenter(lw.segmenter)
        else:
            raise ValueError("loss.semantic > 0 needs loss.segmenter ('auto-sim', 'auto' or "
                             "a .safetensors SmallUNet)")
        return seg.to(self.device)

    def loader(self, start: int, stop: int) -> DataLoader:
        d = self.cfg.data
        sampler = StepBatchSampler(start, stop, d.batch_size, self.dist.rank, self.dist.world)
        return DataLoader(self.data, batch_sampler=sampler, num_workers=d.workers,
                          pin_memory=self.device.type == "cuda",
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
        for k in self.nets.generator_side:
            self.nets.trainable()[k].train()
        with self.autocast():
            parts, fakes = g_losses(cfg, self.w, batch, gen, self.nets.T, self.segmenter)
            g_total = weighted_sum(cfg, parts)
        logs = {f"g/{k}": float(v.detach()) for k, v in parts.items()}
        logs["g/total"] = float(g_total.detach())
        logs["grad_norm/G"] = self._backward("G", g_total)
        if "D" in self.opt:
            for k in self.nets.discriminator_side:
                self.nets.trainable()[k].requires_grad_(True).train()
            with self.autocast():
                d_parts = d_losses(cfg, self.w, batch, fakes)
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
    def fit(self) -> Path | None:
        """Train until ``cfg.steps``; returns the final checkpoint directory (rank 0)."""
        cfg, main = self.cfg, self.dist.is_main
        writer = None
        if main:
            self.out.mkdir(parents=True, exist_ok=True)
            from torch.utils.tensorboard import SummaryWriter

            writer = SummaryWriter(str(self.out / "tb"))
            (self.out / "train_config.json").write_text(json.dumps(cfg.to_dict(), indent=2))
        bar = tqdm(total=cfg.steps, initial=self.step, disable=not (main and cfg.progress),
                   desc=f"train {cfg.mode}", unit="it", dynamic_ncols=True)
        t0, last = time.perf_counter(), None
        for batch in self.loader(self.step, cfg.steps):
            logs = self.train_step(batch)
            self.history.append({"step": self.step, **logs})
            bar.update(1)
            if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                bar.set_postfix({k.split("/")[-1]: f"{v:.3f}" for k, v in logs.items()
                                 if k in ("g/total", "d/d_real", "g/temporal")})
                if main and not cfg.progress:  # no bar (logs, batch jobs): one line instead
                    log.info("step %d/%d  %s", self.step, cfg.steps, "  ".join(
                        f"{k}={v:.3f}" for k, v in logs.items()
                        if k in ("g/total", "d/d_real", "g/temporal", "g/semantic")))
                if writer:
                    for k, v in logs.items():
                        writer.add_scalar(k, v, self.step)
                    writer.add_scalar("speed/it_per_s", bar.format_dict.get("rate") or 0.0,
                                      self.step)
            if writer and (self.step % cfg.image_every == 0 or self.step == cfg.steps):
                writer.add_image("translation", image_grid(self._grid_rows()), self.step)
            if self.step % cfg.ckpt_every == 0 or self.step == cfg.steps:
                last = self.save_checkpoint()
        bar.close()
        if writer:
            writer.close()
        if main:
            log.info("trained %d steps in %.1f s -> %s", cfg.steps,
                     time.perf_counter() - t0, last)
        return last

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
            recent = {k: v for k, v in self.history[-1].items()} if self.history else {}
            meta = {"step": self.step, "mode": self.cfg.mode, "ema": self.ema is not None,
                    "resolution": self._resolution(), "crop": list(self.cfg.data.crop),
                    "losses": recent, "train_config": self.cfg.to_dict()}
            save_generator(tmp, self.generator_for_export(), self.nets.g_cfg, meta,
                           style_encoder=unwrap(self.nets.E) if self.nets.E is not None else None)
            nets = dict(self.nets.trainable())
            if self.ema is not None:
                nets["G_ema"] = self.ema.shadow
            extra: dict[str, Any] = {"config": self.cfg.to_dict(),
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
