"""Typed training configuration: dataclasses, YAML presets, ``key.path=value`` overrides.

A YAML preset (training/configs/*.yaml) is a nested mapping mirroring :class:`TrainConfig`;
unknown keys are errors. Overrides use dotted paths, values parsed as YAML:
``--set optim.lr_g=1e-4 --set data.crop=[128,128] --set generator.overrides.style_dim=4``.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sim2real_gan.models import PRESETS, DiscriminatorConfig, GeneratorConfig, get_preset

from .data.sources import SourceConfig
from .losses import ADVERSARIAL
from .modes import MODES
from .schedule import SCHEDULES

CONFIG_DIR = Path(__file__).parent / "configs"


class _Yaml(yaml.SafeLoader):
    """YAML with 1.2 booleans: only true/false. YAML 1.1 also reads on/off/yes/no as
    booleans, which would turn ``flow: off`` or ``mask: off`` into False."""


_Yaml.yaml_implicit_resolvers = {
    k: [r for r in v if r[0] != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Yaml.add_implicit_resolver("tag:yaml.org,2002:bool",
                            re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def yaml_load(text: str) -> Any:
    """Parse recipe YAML (a file or an override's value) with :class:`_Yaml`."""
    return yaml.load(text, Loader=_Yaml)  # a SafeLoader subclass: no arbitrary objects
DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def _numbers(obj: Any, where: str) -> dict[str, float]:
    """The numeric fields of a config dataclass (bools excluded), for range checks."""
    return {f"{where}.{k}": v for k, v in vars(obj).items()
            if isinstance(v, int | float) and not isinstance(v, bool)}


def _at_least(values: dict[str, float], low: float) -> None:
    for name, v in values.items():
        if not (math.isfinite(v) and v >= low):
            raise ValueError(f"{name}: expected a finite number >= {low:g}, got {v!r}")


@dataclass
class GeneratorChoice:
    preset: str = "tiny"
    overrides: dict[str, Any] = field(default_factory=dict)

    def build_config(self) -> GeneratorConfig:
        if self.preset not in PRESETS:
            raise ValueError(f"generator.preset: expected one of {sorted(PRESETS)}, "
                             f"got {self.preset!r}")
        return get_preset(self.preset, **self.overrides)


@dataclass
class DataConfig:
    sim: SourceConfig = field(default_factory=SourceConfig)
    real: SourceConfig | None = field(default_factory=lambda: SourceConfig(appearance="real"))
    crop: list[int] = field(default_factory=lambda: [64, 64])
    hflip: bool = True
    vflip: bool = False
    batch_size: int = 1           # per rank
    workers: int = 0              # DataLoader worker processes (decoding happens there)
    labels: bool = False          # load sim class ids (semantic loss, image grids)
    real_min_content: float = 0.7  # real crops: share of content-area pixels a window should
                                   # hold (footage with a content mask; 0 = any window)
    real_jitter: float = 0.0      # strength of the real frames' appearance jitter (colour,
                                  # brightness, contrast, gamma, white balance, highlights)

    def __post_init__(self) -> None:
        if (not isinstance(self.crop, list) or len(self.crop) != 2
                or any(isinstance(c, bool) or not isinstance(c, int) or c < 1 for c in self.crop)):
            raise ValueError(f"data.crop: expected [H, W] with positive integers, got {self.crop!r}")
        for name in ("real_min_content", "real_jitter"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
                raise ValueError(f"data.{name}: expected a number in [0, 1], got {v!r}")
        if self.batch_size < 1 or self.workers < 0:
            raise ValueError(f"data: expected batch_size >= 1 and workers >= 0, got "
                             f"{self.batch_size} and {self.workers}")


@dataclass
class LossConfig:
    adversarial: str = "lsgan"    # "lsgan" | "hinge"
    adv: float = 1.0
    cycle: float = 10.0           # 0 disables the real->sim generator F entirely
    identity: float = 0.0
    style: float = 1.0            # MUNIT style reconstruction |s - E(G(x, s))|
    content: float = 0.0          # MUNIT content reconstruction (encoder features)
    structure: float = 1.0        # 1 - MS-SSIM on luminance (sim input vs translation)
    temporal: float = 1.0         # output-level, relative to the input change
    temporal_feat: float = 0.0    # bottleneck-feature level
    l1: float = 100.0             # pix2pix / distill reconstruction
    semantic: float = 0.0         # needs loss.segmenter
    segmenter: str = ""           # "auto-sim" (sim frames) | "auto" (labelled real) | .safetensors
    segmenter_steps: int = 300    # "auto"/"auto-sim": segmenter training steps
    segmenter_crop: int = 0       # "auto"/"auto-sim": train on crops of this side (0: whole)
    segmenter_jitter: float = 0.0  # "auto"/"auto-sim": also train on 2 appearance-jittered copies
                                   # of each frame at this strength (judge structure, not colour)
    ref_style_prob: float = 0.5   # sim2real: fraction of batches styled from a real reference
    ref_stats: float = 0.0        # reference-styled fakes match the reference's look (CIELAB
                                  # moments at full and 1/4 resolution, highlight share)
    d_blur: float = 0.0           # px: Gaussian blur of what D_real sees (real and fake alike;
                                  # hides per-frame sensor noise); 0 = off
    stereo: float = 0.0           # sim2real: cross-view consistency of a stereo pair (disparity-warped)

    def __post_init__(self) -> None:
        if self.adversarial not in ADVERSARIAL:
            raise ValueError(f"loss.adversarial: expected one of {ADVERSARIAL}, got "
                             f"{self.adversarial!r}")
        _at_least(_numbers(self, "loss"), 0)  # weights, step counts and the probability
        if self.ref_style_prob > 1:
            raise ValueError(f"loss.ref_style_prob: expected a probability in [0, 1], got "
                             f"{self.ref_style_prob}")
        if self.segmenter_jitter > 1:
            raise ValueError(f"loss.segmenter_jitter: expected a strength in [0, 1], got "
                             f"{self.segmenter_jitter}")
        if self.segmenter_steps < 1:
            raise ValueError(f"loss.segmenter_steps: expected >= 1, got {self.segmenter_steps}")


@dataclass
class OptimConfig:
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: list[float] = field(default_factory=lambda: [0.5, 0.999])
    weight_decay: float = 0.0
    schedule: str = "linear"      # "constant" | "linear" (decay to 0 after decay_start) | "cosine"
    decay_start: float = 0.5      # fraction of steps before the linear decay starts
    warmup: int = 0
    grad_clip: float = 10.0       # max grad norm per network; 0 = off
    ema: float = 0.999            # EMA decay of the generator; 0 = off

    def __post_init__(self) -> None:
        _at_least(_numbers(self, "optim"), 0)
        if self.schedule not in SCHEDULES:
            raise ValueError(f"optim.schedule: expected one of {SCHEDULES}, got {self.schedule!r}")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise ValueError(f"optim.betas: expected two numbers in [0, 1), got {self.betas!r}")
        if self.decay_start > 1 or self.ema >= 1:
            raise ValueError(f"optim: expected decay_start <= 1 and ema < 1, got "
                             f"{self.decay_start} and {self.ema}")


@dataclass
class TrainConfig:
    mode: str = "sim2real"
    generator: GeneratorChoice = field(default_factory=GeneratorChoice)
    inverse: GeneratorChoice = field(default_factory=lambda: GeneratorChoice(
        "tiny", {"style_dim": 0}))                     # F: real -> sim (cycle)
    discriminator: DiscriminatorConfig = field(default_factory=lambda: DiscriminatorConfig(
        ndf=16, n_layers=2, n_scales=2))
    data: DataConfig = field(default_factory=DataConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    teacher: str = ""             # distill: generator checkpoint directory of the teacher
    steps: int = 100
    seed: int = 0
    out_dir: str = "runs/tiny"
    device: str = "auto"          # "auto" | "cpu" | "cuda" | "cuda:N"
    amp: str = "off"              # "off" | "bf16" | "fp16" (CUDA only)
    channels_last: bool = False
    threads: int = 0              # torch.set_num_threads on CPU; 0 = leave as is
    log_every: int = 10
    image_every: int = 100
    ckpt_every: int = 100
    keep_ckpts: int = 3
    progress: bool = True

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode: expected one of {sorted(MODES)}, got {self.mode!r}")
        if self.amp not in ("off", "bf16", "fp16"):
            raise ValueError(f"amp: expected off|bf16|fp16, got {self.amp!r}")
        if not DEVICE_RE.match(self.device):
            raise ValueError(f"device: expected auto, cpu, cuda or cuda:N, got {self.device!r}")
        if not self.out_dir:
            raise ValueError("out_dir: expected a directory, got ''")
        _at_least({"steps": self.steps, "log_every": self.log_every,
                   "image_every": self.image_every, "ckpt_every": self.ckpt_every}, 1)
        _at_least({"keep_ckpts": self.keep_ckpts, "threads": self.threads}, 0)
        if self.mode == "distill" and not self.teacher:
            raise ValueError("mode 'distill' needs 'teacher' (a generator checkpoint directory)")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _build(tp: Any, value: Any, where: str) -> Any:
    """Turn plain YAML data into the annotated type (dataclasses and lists recursively)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return None if value is None else _build(args[0], value, where)
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ValueError(f"config {where or 'root'}: expected a mapping, got {value!r}")
        hints = typing.get_type_hints(tp)
        names = {f.name for f in dataclasses.fields(tp)}
        unknown = sorted(set(value) - names)
        if unknown:
            raise ValueError(f"config {where or 'root'}: unknown key(s) {unknown}; expected "
                             f"some of {sorted(names)}")
        kw = {k: _build(hints[k], v, f"{where}.{k}".lstrip(".")) for k, v in value.items()}
        try:
            return tp(**kw)
        except TypeError as exc:  # a field the dataclass's own checks could not compare
            raise ValueError(f"config {where or 'root'}: {exc}") from None
    if origin is list:
        if not isinstance(value, list):
            raise ValueError(f"config {where}: expected a list, got {value!r}")
        (item,) = typing.get_args(tp)
        return [_build(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict and not isinstance(value, dict):
        raise ValueError(f"config {where}: expected a mapping, got {value!r}")
    if tp is float and isinstance(value, int | str) and not isinstance(value, bool):
        try:
            return float(value)  # YAML 1.1 reads "1e-4" as a string
        except ValueError:
            raise ValueError(f"config {where}: expected a number, got {value!r}") from None
    if tp in (int, float, str, bool) and (not isinstance(value, tp) or (
            tp is int and isinstance(value, bool))):
        raise ValueError(f"config {where}: expected {tp.__name__}, got {value!r}")
    return value


def _set(tree: dict[str, Any], dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    node = tree
    for k in keys[:-1]:
        if node.get(k) is None:
            node[k] = {}
        node = node[k]
        if not isinstance(node, dict):
            raise ValueError(f"override {dotted!r}: {k!r} is not a mapping")
    node[keys[-1]] = value


def parse_override(text: str) -> tuple[str, Any]:
    """``"a.b=value"`` -> ("a.b", YAML-parsed value)."""
    if "=" not in text:
        raise ValueError(f"override {text!r}: expected key.path=value")
    key, raw = text.split("=", 1)
    return key.strip(), yaml_load(raw)


def override_keys(overrides: list[str]) -> frozenset[str]:
    """Dotted keys an override list sets, mapping values flattened to their leaves:
    ``["generator.overrides={aux_channels: [uv]}"]`` -> {"generator.overrides",
    "generator.overrides.aux_channels"}. A weight named here was asked for explicitly."""
    keys: set[str] = set()

    def walk(prefix: str, value: Any) -> None:
        keys.add(prefix)
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}", v)

    for ov in overrides:
        walk(*parse_override(ov))
    return frozenset(keys)


def resolve_config_path(path: str | Path) -> Path:
    """A YAML path, or the name of a preset in training/configs/ (``tiny`` -> tiny.yaml)."""
    p = Path(path)
    if p.is_file():
        return p
    named = CONFIG_DIR / f"{p.stem if p.suffix else p.name}.yaml"
    if named.is_file():
        return named
    raise FileNotFoundError(f"training config {path} not found (presets: "
                            f"{sorted(q.stem for q in CONFIG_DIR.glob('*.yaml'))})")


def load_config(path: str | Path | None = None, overrides: list[str] | None = None,
                base: dict[str, Any] | None = None) -> TrainConfig:
    """YAML preset (or ``base`` dict) + dotted overrides -> validated TrainConfig."""
    tree: dict[str, Any] = dict(base or {})
    if path is not None:
        loaded = yaml_load(resolve_config_path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"training config {path}: expected a mapping at the top")
        tree.update(loaded)
    for ov in overrides or []:
        _set(tree, *parse_override(ov))
    return _build(TrainConfig, tree, "")
