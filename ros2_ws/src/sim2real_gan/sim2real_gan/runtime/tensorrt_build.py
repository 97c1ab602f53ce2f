"""ONNX -> TensorRT engine through the TensorRT 10 Python API, with a timing cache.

NOT RUN on the development machines: TensorRT is not installable there (its PyPI packages
download from NVIDIA at install time). The code follows the TensorRT 10 Python API; its
tests are marked ``tensorrt`` and skip without TensorRT and a GPU.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sim2real_gan.io.staging import atomic_write_bytes

from .engine_cache import (
    BuildSettings,
    DeviceInfo,
    EngineKey,
    EnginePlan,
    default_cache_dir,
    plan_engine,
    write_engine_meta,
)

log = logging.getLogger(__name__)


def import_tensorrt():
    """``import tensorrt`` with an actionable error."""
    try:
        import tensorrt as trt
    except ImportError as exc:
        raise ImportError("TensorRT is not installed: use NVIDIA's container or install the "
                          "TensorRT Python wheel matching your CUDA; or pick backend "
                          "'torch' / 'onnxruntime'") from exc
    return trt


def current_device(index: int = 0) -> DeviceInfo:
    """Name and compute capability of CUDA device ``index`` (through torch)."""
    import torch

    if not torch.cuda.is_available():
        raise RuntimeError("TensorRT needs an NVIDIA GPU; torch.cuda.is_available() is False")
    return DeviceInfo(torch.cuda.get_device_name(index), torch.cuda.get_device_capability(index))


def _trt_logger(trt):
    return trt.Logger(trt.Logger.WARNING)


def build_engine(onnx_path: str | Path, settings: BuildSettings, input_names: list[str],
                 timing_cache: str | Path | None = None) -> bytes:
    """Parse ``onnx_path`` and build a serialised engine.

    Every profile in ``settings`` is applied to every spatial input (``image``, ``aux``),
    with the batch range also applied to ``style``. The timing cache (if given) is loaded
    before and saved after the build, so later builds on the same GPU are much faster.
    """
    trt = import_tensorrt()
    logger = _trt_logger(trt)
    builder = trt.Builder(logger)
    # TensorRT 10 networks are always explicit-batch; the flag exists (deprecated) on 10.x.
    flag = getattr(trt.NetworkDefinitionCreationFlag, "EXPLICIT_BATCH", None)
    network = builder.create_network(0 if flag is None else 1 << int(flag))
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise RuntimeError(f"TensorRT could not parse {onnx_path}: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, settings.workspace_mib << 20)
    if settings.fp16:
        # platform_has_fast_fp16 is deprecated in TensorRT 10 (may be absent later)
        if not getattr(builder, "platform_has_fast_fp16", True):
            log.warning("this GPU has no fast FP16; building with FP16 allowed anyway")
        config.set_flag(trt.BuilderFlag.FP16)
    cache_bytes = b""
    if timing_cache is not None and Path(timing_cache).is_file():
        cache_bytes = Path(timing_cache).read_bytes()
    cache = config.create_timing_cache(cache_bytes)
    config.set_timing_cache(cache, ignore_mismatch=False)
    style_dim = None
    for i in range(network.num_inputs):
        t = network.get_input(i)
        if t.name == "style":
            style_dim = t.shape[1]
    for p in settings.profiles:
        profile = builder.create_optimization_profile()
        for name in input_names:
            if name == "style":
                profile.set_shape(name, (p.min[0], style_dim), (p.opt[0], style_dim),
                                  (p.max[0], style_dim))
                continue
            channels = next(network.get_input(i).shape[1] for i in range(network.num_inputs)
                            if network.get_input(i).name == name)
            profile.set_shape(name, (p.min[0], channels, *p.min[1:]),
                              (p.opt[0], channels, *p.opt[1:]), (p.max[0], channels, *p.max[1:]))
        config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise RuntimeError(f"TensorRT engine build failed for {onnx_path} (see log above)")
    if timing_cache is not None:
        atomic_write_bytes(timing_cache, bytes(config.get_timing_cache().serialize()))
    return bytes(serialized)


def ensure_engine(onnx_path: str | Path, onnx_sha256: str, settings: BuildSettings,
                  input_names: list[str], *, cache_dir: str | Path | None = None,
                  force_update: bool = False, device_index: int = 0,
                  model_name: str = "model") -> EnginePlan:
    """Return a plan whose ``engine_path`` holds a valid engine, building it if needed.

    The engine is keyed by ONNX hash + GPU name/compute capability + TensorRT version +
    settings; stale engines of the same model in the cache are deleted after a new build.
    """
    trt = import_tensorrt()
    key = EngineKey(onnx_sha256, current_device(device_index), trt.__version__, settings)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    plan = plan_engine(cache_dir, key, model_name=model_name, force_update=force_update)
    if not plan.build:
        return plan
    log.info("building TensorRT engine %s (%s); this can take minutes",
             plan.engine_path.name, plan.reason)
    cache_dir.mkdir(parents=True, exist_ok=True)
    data = build_engine(onnx_path, settings, input_names,
                        timing_cache=cache_dir / f"timing-{key.device.slug}-trt{key.tensorrt_version}.cache")
    atomic_write_bytes(plan.engine_path, data)
    write_engine_meta(plan, key, len(data))
    for old in plan.stale:
        old.unlink(missing_ok=True)
        old.with_suffix(".json").unlink(missing_ok=True)
    return plan
