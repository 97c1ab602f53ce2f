"""TensorRT engine cache: keys, file names and the load-or-build decision (pure Python).

An engine is only valid for the exact ONNX graph, GPU model / compute capability and
TensorRT version it was built with, and for its build settings (precision, optimisation
profiles). Each engine ``<stem>.engine`` has a sidecar ``<stem>.json`` recording those; the
cache key hashes them all, so a change of any of them selects a different file, and a file
whose sidecar disagrees with its key (or is missing) is treated as stale and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sim2real_gan.io.staging import atomic_write_bytes


class EngineMismatchError(RuntimeError):
    """An explicitly given engine was built for another GPU, TensorRT version or model."""


@dataclass(frozen=True)
class DeviceInfo:
    """The GPU an engine is built for."""

    name: str  # e.g. "NVIDIA H100 80GB HBM3"
    compute_capability: tuple[int, int]  # e.g. (9, 0)

    @property
    def slug(self) -> str:
        """File-name-safe GPU tag, e.g. ``nvidia-h100-80gb-hbm3-sm90``."""
        base = re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")
        return f"{base}-sm{self.compute_capability[0]}{self.compute_capability[1]}"


@dataclass(frozen=True)
class Profile:
    """One optimisation profile: (B,H,W) at min / opt / max."""

    min: tuple[int, int, int]
    opt: tuple[int, int, int]
    max: tuple[int, int, int]

    def contains(self, b: int, h: int, w: int) -> bool:
        return all(lo <= v <= hi for lo, v, hi in zip(self.min, (b, h, w), self.max, strict=True))


@dataclass(frozen=True)
class BuildSettings:
    """What the engine is built with (part of the cache key)."""

    fp16: bool = True
    profiles: tuple[Profile, ...] = ()
    workspace_mib: int = 4096

    def to_json(self) -> dict:
        return {"fp16": self.fp16, "workspace_mib": self.workspace_mib,
                "profiles": [asdict(p) for p in self.profiles]}


def make_profiles(resolutions: list[tuple[int, int]], max_batch: int = 1,
                  dynamic_range: tuple[tuple[int, int], tuple[int, int]] | None = None,
                  size_multiple: int = 1) -> tuple[Profile, ...]:
    """One exact-resolution profile per ``(H, W)`` (batch 1..max_batch, opt 1), then
    optionally one dynamic profile spanning ``dynamic_range`` ((minH,minW),(maxH,maxW)).

    Exact profiles let TensorRT choose the best kernels for the camera's size; the dynamic
    one is a slower fallback for any other size.
    """
    if max_batch < 1:
        raise ValueError(f"max_batch must be >= 1, got {max_batch}")
    out: list[Profile] = []
    for h, w in dict.fromkeys(resolutions):  # de-duplicate, keep order
        if h % size_multiple or w % size_multiple:
            raise ValueError(f"profile resolution {h}x{w} is not a multiple of {size_multiple}")
        out.append(Profile((1, h, w), (1, h, w), (max_batch, h, w)))
    if dynamic_range is not None:
        (h0, w0), (h1, w1) = dynamic_range
        opt = resolutions[0] if resolutions else (h1, w1)
        out.append(Profile((1, h0, w0), (1, *opt), (max_batch, h1, w1)))
    if not out:
        raise ValueError("no optimisation profile: give at least one resolution or a range")
    return tuple(out)


def select_profile(profiles: tuple[Profile, ...], b: int, h: int, w: int) -> int:
    """Index of the first profile accepting (B,H,W); exact profiles are listed first.

    Raises:
        ValueError: no profile covers the shape (the message lists what the engine accepts).
    """
    for i, p in enumerate(profiles):
        if p.contains(b, h, w):
            return i
    ranges = ", ".join(f"B{p.min[0]}-{p.max[0]} {p.min[1]}x{p.min[2]}..{p.max[1]}x{p.max[2]}"
                       for p in profiles)
    raise ValueError(f"TensorRT engine has no optimisation profile for batch {b} at {h}x{w}; "
                     f"it accepts: {ranges}. Add the resolution to the engine's profiles.")


@dataclass
class EngineKey:
    """Everything an engine depends on."""

    onnx_sha256: str
    device: DeviceInfo
    tensorrt_version: str
    settings: BuildSettings = field(default_factory=BuildSettings)

    def to_json(self) -> dict:
        """Plain JSON types (lists, not tuples), so it compares equal after a round trip."""
        doc = {"onnx_sha256": self.onnx_sha256, "gpu_name": self.device.name,
               "compute_capability": list(self.device.compute_capability),
               "tensorrt_version": self.tensorrt_version, "settings": self.settings.to_json()}
        return json.loads(json.dumps(doc))

    @property
    def digest(self) -> str:
        blob = json.dumps(self.to_json(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()

    def file_stem(self, model_name: str = "model") -> str:
        """e.g. ``model-3f2a9c1b0d4e-nvidia-h100-sm90-trt10.3.0-1a2b3c4d``."""
        trt = re.sub(r"[^0-9a-zA-Z.]+", "", self.tensorrt_version)
        return (f"{model_name}-{self.onnx_sha256[:12]}-{self.device.slug}-trt{trt}-"
                f"{self.digest[:8]}")


@dataclass
class EnginePlan:
    """Where the engine lives and whether it must be (re)built."""

    engine_path: Path
    meta_path: Path
    build: bool
    reason: str
    stale: list[Path] = field(default_factory=list)


def plan_engine(cache_dir: str | Path, key: EngineKey, *, model_name: str = "model",
                force_update: bool = False) -> EnginePlan:
    """Decide whether the cached engine for ``key`` can be loaded or must be built.

    Engines for the same ONNX graph and GPU built by another TensorRT version can never be
    loaded by this installation: they are listed in ``stale`` so the caller can delete them
    after a successful build. Engines of other models, GPUs or build settings are kept (a
    cache directory may be shared).
    """
    cache_dir = Path(cache_dir)
    stem = key.file_stem(model_name)
    engine, meta = cache_dir / f"{stem}.engine", cache_dir / f"{stem}.json"
    same_model_gpu = f"{model_name}-{key.onnx_sha256[:12]}-{key.device.slug}-trt"
    this_trt = stem.rsplit("-", 1)[0] + "-"
    stale = sorted(p for p in cache_dir.glob(f"{same_model_gpu}*.engine")
                   if not p.name.startswith(this_trt)) if cache_dir.is_dir() else []
    if force_update:
        return EnginePlan(engine, meta, True, "force_engine_update is set", stale)
    if not engine.is_file():
        return EnginePlan(engine, meta, True, "no cached engine for this model/GPU/TensorRT",
                          stale)
    try:
        recorded = json.loads(meta.read_text())
    except (OSError, json.JSONDecodeError):
        return EnginePlan(engine, meta, True, "engine metadata missing or unreadable", stale)
    if recorded.get("key") != key.to_json():
        return EnginePlan(engine, meta, True, "engine metadata does not match (stale)", stale)
    if recorded.get("engine_bytes") != engine.stat().st_size:
        return EnginePlan(engine, meta, True, "engine file size differs from its metadata "
                          "(truncated write?)", stale)
    return EnginePlan(engine, meta, False, "cached engine matches", stale)


def write_engine_meta(plan: EnginePlan, key: EngineKey, engine_bytes: int) -> None:
    """Record the sidecar after the engine file is in place (atomic rename)."""
    doc = {"key": key.to_json(), "engine_bytes": engine_bytes}
    atomic_write_bytes(plan.meta_path, json.dumps(doc, indent=2).encode())


def check_engine_compatible(meta_path: str | Path, key: EngineKey) -> None:
    """For an engine file the user names explicitly: raise a clear error if its sidecar says
    it was built for another GPU, TensorRT version or ONNX graph."""
    try:
        recorded = json.loads(Path(meta_path).read_text())["key"]
    except (OSError, json.JSONDecodeError, KeyError) as exc:
        raise EngineMismatchError(f"cannot verify engine: sidecar {meta_path} missing or "
                                  f"unreadable ({exc}); rebuild with force_engine_update") from exc
    want = key.to_json()
    problems = []
    if (recorded.get("gpu_name"), recorded.get("compute_capability")) != \
            (want["gpu_name"], want["compute_capability"]):
        problems.append(f"built for GPU {recorded.get('gpu_name')!r} "
                        f"(sm{''.join(map(str, recorded.get('compute_capability', [])))}), "
                        f"this GPU is {want['gpu_name']!r} (sm{''.join(map(str, want['compute_capability']))})")
    if recorded.get("tensorrt_version") != want["tensorrt_version"]:
        problems.append(f"built with TensorRT {recorded.get('tensorrt_version')}, "
                        f"running TensorRT {want['tensorrt_version']}")
    if recorded.get("onnx_sha256") != want["onnx_sha256"]:
        problems.append("built from a different model.onnx")
    if problems:
        raise EngineMismatchError(f"TensorRT engine {Path(meta_path).with_suffix('.engine')} "
                                  f"cannot run here: {'; '.join(problems)}. Rebuild it "
                                  f"(force_engine_update=True) or use the engine cache.")


def default_cache_dir() -> Path:
    """``$SIM2REAL_GAN_ENGINE_CACHE`` or ``$XDG_CACHE_HOME/sim2real_gan/engines``."""
    env = os.environ.get("SIM2REAL_GAN_ENGINE_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sim2real_gan" / "engines"
