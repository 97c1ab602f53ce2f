"""Benchmark: backend x preset x resolution, engine-only vs message-to-message, vs baseline.

A tool beside the runtime (it exports random-weight artifacts and builds the PyTorch baseline,
so it needs torch and ``sim2real_gan.export``); ``sim2real-gan bench`` runs it.

Every timing is wall clock per frame (batch 1). ``engine`` is the network on prepared
tensors (``Backend.run``); ``message`` is what the node does per frame: decode a
``sensor_msgs/Image`` (rgb8), translate (resize/pad, normalise, run, back to uint8), encode
a new ``sensor_msgs/Image``. The baseline is what users of CycleGAN code run: PyTorch eager
FP32 ResNet-9, frame by frame, on the same device. ``--stereo`` adds pairs (benchmark_stereo:
a batch-2 engine call against two single calls, and the pair message path in pairs/s). On
CUDA the engine inputs live on the
device (``benchmark_engine``). The table (``benchmark_table``) gives each row's floor, model
FLOPs over the matmul peak measured in the same run, and its speed-up over the baseline.
"""

from __future__ import annotations

import importlib.util
import logging
import platform
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .benchmark_stereo import StereoTimes

log = logging.getLogger(__name__)

RESOLUTIONS: list[tuple[int, int]] = [(256, 256), (512, 512), (720, 1280), (1080, 1920)]
PRESETS = ["rt", "base"]
BASELINE = ("torch-eager-fp32", "cyclegan")


@dataclass
class BenchConfig:
    """What to measure. ``backends``: names like "onnxruntime-cpu", "torch-cuda", "tensorrt-cuda";
    empty = every backend that starts here."""

    backends: list[str] = field(default_factory=list)
    presets: list[str] = field(default_factory=lambda: list(PRESETS))
    resolutions: list[tuple[int, int]] = field(default_factory=lambda: list(RESOLUTIONS))
    warmup: int = 3
    iters: int = 50
    max_seconds: float = 10.0  # per cell and path; at least ``min_iters`` samples regardless
    min_iters: int = 3
    baseline: bool = True
    threads: int | None = None
    peak_seconds: float = 1.0  # how long to measure the matmul peak
    spin: bool = False  # onnxruntime worker threads busy-wait
    batch: int = 0  # > 0: also time translate_batch of this many frames (throughput path)
    models: dict[str, Path] = field(default_factory=dict)  # name -> artifact dir (not presets)
    skip_unavailable: bool = False  # a named backend that cannot start here: a line, no error
    stereo: bool = False  # also time stereo pairs (benchmark_stereo: batch-2, pairs/s)


@dataclass
class Timing:
    n: int
    p50_ms: float
    p99_ms: float
    cpu_ms: float = float("nan")  # mean process CPU time per call (all threads)

    @property
    def fps(self) -> float:
        return 1000.0 / self.p50_ms if self.p50_ms > 0 else float("inf")


@dataclass
class BenchRow:
    backend: str
    preset: str
    height: int
    width: int
    gmac: float
    engine: Timing
    message: Timing
    peak_fraction: float  # engine FLOP/s over the device's measured matmul FLOP/s
    batch: int = 0
    batch_fps: float = float("nan")  # frames/s through translate_batch(batch frames)
    precision: str = ""  # "fp16 + graphs", "fp32", "fp16 graph", ...
    peak_gflops: float = float("nan")  # the device's matmul peak measured in the same run
    stereo: StereoTimes | None = None  # --stereo: pair engine, two singles, pair path

    @property
    def overhead(self) -> float:
        """Message path over engine alone, as a fraction (0.1 = 10 % slower)."""
        return self.message.p50_ms / self.engine.p50_ms - 1.0

    @property
    def floor_ms(self) -> float:
        """Model FLOPs (2 x GMAC) over the measured matmul peak: no engine runs faster."""
        return 2 * self.gmac / self.peak_gflops * 1e3


def time_calls(fn: Callable[[], object], cfg: BenchConfig) -> Timing:
    """Run ``fn`` up to ``cfg.warmup`` times untimed (slow cells stop warming up after a
    quarter of ``cfg.max_seconds``), then time it up to ``cfg.iters`` times or
    ``cfg.max_seconds`` (never fewer than ``cfg.min_iters`` samples)."""
    start = time.perf_counter()
    for _ in range(cfg.warmup):
        fn()
        if time.perf_counter() - start > cfg.max_seconds / 4:
            break
    samples: list[float] = []
    start, cpu0 = time.perf_counter(), time.process_time()
    while len(samples) < cfg.iters:
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
        if len(samples) >= cfg.min_iters and time.perf_counter() - start > cfg.max_seconds:
            break
    cpu_ms = (time.process_time() - cpu0) * 1e3 / len(samples)
    ms = np.array(samples) * 1e3
    return Timing(len(samples), float(np.percentile(ms, 50)), float(np.percentile(ms, 99)),
                  cpu_ms)


def measure_peak_gflops(device: str, seconds: float = 1.0) -> float:
    """Best observed matmul throughput (GFLOP/s): FP32 2048^3 on CPU, FP16 8192^3 on CUDA."""
    import torch

    cuda = device.startswith("cuda")
    n = 8192 if cuda else 2048
    dtype = torch.float16 if cuda else torch.float32
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    best = 0.0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or best == 0.0:
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        a @ b
        if cuda:
            torch.cuda.synchronize()
        best = max(best, 2 * n**3 / (time.perf_counter() - t0) / 1e9)
    return best


def _synthetic_frame(h: int, w: int) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)),
                     ((x + y) % 256)], -1).astype(np.uint8)


def _message_path(translator, rgb: np.ndarray) -> Callable[[], object]:
    """The node's per-frame work: decode msg -> translate -> encode msg."""
    from sim2real_gan.io import image_msg, image_to_numpy, make_header
    from sim2real_gan.io.image_codec import to_rgb8

    msg = image_msg(rgb, "rgb8", make_header(1, "endoscope_optical_frame"))

    def step() -> object:
        frame = to_rgb8(image_to_numpy(msg), msg.encoding)
        out = translator.translate(frame)
        return image_msg(out, "rgb8", msg.header)

    return step


def _prepare_artifacts(presets: list[str], workdir: Path) -> dict[str, Path]:
    """Random-weight checkpoints + exported artifacts for each preset (timing does not
    depend on the weights)."""
    import torch

    from sim2real_gan.export import ExportOptions, export_artifact
    from sim2real_gan.models import build_generator, get_preset, save_generator

    out = {}
    for preset in presets:
        cfg = get_preset(preset)
        torch.manual_seed(0)
        ckpt = save_generator(workdir / f"{preset}-ckpt", build_generator(cfg), cfg)
        export_artifact(ckpt, workdir / preset, ExportOptions(seeds=1),
                        working_resolution=(256, 256) if 256 % cfg.size_multiple == 0 else None)
        out[preset] = workdir / preset
    return out


def unavailable_reason(label: str) -> str:
    """Why backend ``label`` (e.g. "onnxruntime-cuda") cannot start here; "" when it can."""
    import torch

    from sim2real_gan.runtime.backends.onnxruntime_backend import cuda_provider_available
    from sim2real_gan.runtime.backends.tensorrt_backend import tensorrt_available

    cuda = torch.cuda.is_available()
    no_cuda = "torch here sees no CUDA device (CPU build of torch, or no GPU)"
    reasons = {
        "tensorrt-cuda": "" if tensorrt_available() else (
            "TensorRT is not installed (no tensorrt Python package; it cannot be installed "
            "from PyPI, see docs/export.md)" if importlib.util.find_spec("tensorrt") is None
            else no_cuda),
        "torch-cuda": "" if cuda else no_cuda,
        "onnxruntime-cuda": "" if cuda_provider_available() else (
            "onnxruntime here has no CUDAExecutionProvider (onnxruntime-gpu is not installed)"),
        "onnxruntime-cpu": "", "torch-cpu": "",
    }
    return reasons.get(label, f"unknown backend {label!r}; expected one of {sorted(reasons)}")


def available_backends(device_filter: str | None = None) -> list[str]:
    """Backend labels that can start here, fastest first."""
    cands = ["tensorrt-cuda", "torch-cuda", "onnxruntime-cuda", "onnxruntime-cpu", "torch-cpu"]
    return [c for c in cands if not unavailable_reason(c)
            and (device_filter is None or c.endswith(device_filter))]


def _cells(cfg: BenchConfig, backends: list[str], names: list[str]
           ) -> Iterator[tuple[str, str, tuple[int, int]]]:
    for backend in backends:
        for name in names:
            for res in cfg.resolutions:
                yield backend, name, res
    if cfg.baseline:
        devices = dict.fromkeys("cuda" if b.endswith("cuda") else "cpu" for b in backends)
        for dev in devices:
            for res in cfg.resolutions:
                yield f"{BASELINE[0]}-{dev}", BASELINE[1], res


def _translator(backend_label: str, name: str, artifacts: dict[str, Path], cfg: BenchConfig):
    from sim2real_gan.artifact import ModelManifest, load_manifest
    from sim2real_gan.models import build_generator, get_preset
    from sim2real_gan.runtime import BackendOptions, Translator
    from sim2real_gan.runtime.backends import create_backend
    from sim2real_gan.runtime.backends.torch_backend import TorchBackend

    kind, device = backend_label.rsplit("-", 1)
    if kind == BASELINE[0]:
        gen_cfg = get_preset(name)
        backend = TorchBackend(build_generator(gen_cfg), device=device, half=False,
                               cuda_graphs=False, threads=cfg.threads)
        manifest = ModelManifest(preset=name, style_dim=0, working_resolution=(256, 256),
                                 size_multiple=gen_cfg.size_multiple)
        return Translator(backend, manifest)
    manifest = load_manifest(artifacts[name])
    opts = BackendOptions(threads=cfg.threads, spin=cfg.spin, resolutions=[r for r in cfg.resolutions
                                                            if r[0] % manifest.size_multiple == 0
                                                            and r[1] % manifest.size_multiple == 0])
    backend = create_backend(kind, artifacts[name], manifest, device, opts)
    return Translator(backend, manifest)


def _gmac(name: str, artifacts: dict[str, Path], h: int, w: int) -> float:
    """GMAC per (1,3,H,W) frame of the baseline preset or of artifact ``name`` (its
    config.json). The run loop counts once at 64x64 and scales by the pixel count: the
    generators are fully convolutional (the style MLP's constant share is negligible)."""
    from sim2real_gan.models import build_generator, count_gmac, get_preset, read_config

    cfg = get_preset(name) if name == BASELINE[1] else read_config(artifacts[name])[0]
    return count_gmac(build_generator(cfg), cfg, h, w)


def _backends(cfg: BenchConfig) -> tuple[list[str], dict[str, str]]:
    """(backends to run, {named backend that cannot start here: why})."""
    if not cfg.backends:
        return available_backends(), {}
    why = {b: unavailable_reason(b) for b in cfg.backends}
    skipped = {b: r for b, r in why.items() if r}
    if skipped and not cfg.skip_unavailable:
        raise ValueError("backends cannot run here: " + "; ".join(
            f"{b}: {r}" for b, r in skipped.items()) + f" (available: {available_backends()})")
    return [b for b in cfg.backends if b not in skipped], skipped


def _device_names(devices: list[str]) -> dict[str, str]:
    import torch

    return {d: torch.cuda.get_device_name() if d == "cuda" else platform.processor()
            or platform.machine() for d in devices}


def _measure(t, backend: str, name: str, h: int, w: int, gmac_64: float, peak: float,
             cfg: BenchConfig) -> BenchRow:
    """One cell: engine and message path (and the batch path when asked) of translator t."""
    from .benchmark_engine import engine_step, precision

    rgb = _synthetic_frame(h, w)
    engine = time_calls(engine_step(t, h, w), cfg)
    message = time_calls(_message_path(t, rgb), cfg)
    gmac = gmac_64 * (h * w) / (64 * 64)
    row = BenchRow(backend, name, h, w, gmac, engine, message, 2 * gmac * engine.fps / peak,
                   precision=precision(t), peak_gflops=peak)
    if cfg.batch > 0:
        frames = np.stack([rgb] * cfg.batch)
        tb = time_calls(lambda: t.translate_batch(frames), cfg)
        row.batch, row.batch_fps = cfg.batch, cfg.batch * tb.fps
    if cfg.stereo and name != BASELINE[1]:
        from .benchmark_stereo import measure_stereo

        row.stereo = measure_stereo(t, rgb, cfg)
    log.debug("%s", row)
    return row


def run_benchmark(cfg: BenchConfig, progress: bool = True) -> tuple[list[BenchRow], dict]:
    """Measure every cell; returns the rows and run info (peaks, threads, backends, the
    named backends skipped and why)."""
    import torch
    from tqdm import tqdm

    from .runtime.backends import BackendUnavailable

    backends, skipped = _backends(cfg)
    if cfg.threads:  # the peak is measured with the thread count the backends get
        torch.set_num_threads(cfg.threads)
    devices = list(dict.fromkeys("cuda" if b.endswith("cuda") else "cpu" for b in backends))
    peaks = {dev: measure_peak_gflops(dev, cfg.peak_seconds) for dev in devices}
    rows: list[BenchRow] = []
    gmacs: dict[str, float] = {}  # per model at 64x64
    with tempfile.TemporaryDirectory(prefix="s2r-bench-") as tmp:
        artifacts = ({k: Path(v) for k, v in cfg.models.items()} if cfg.models
                     else _prepare_artifacts(cfg.presets, Path(tmp)))
        translators: dict[tuple[str, str], object] = {}
        for backend, name, (h, w) in tqdm(list(_cells(cfg, backends, list(artifacts))),
                                          desc="bench", disable=not progress):
            if backend in skipped:
                continue
            if (backend, name) not in translators:
                translators.clear()  # one model resident at a time
                try:
                    translators[(backend, name)] = _translator(backend, name, artifacts, cfg)
                except BackendUnavailable as exc:  # listed as able to start, but did not
                    if not cfg.skip_unavailable:
                        raise
                    skipped[backend] = str(exc)
                    continue
            if name not in gmacs:
                gmacs[name] = _gmac(name, artifacts, 64, 64)
            rows.append(_measure(translators[(backend, name)], backend, name, h, w, gmacs[name],
                                 peaks["cuda" if backend.endswith("cuda") else "cpu"], cfg))
    info = {"peak_gflops": peaks, "devices": _device_names(devices), "threads": cfg.threads,
            "backends": backends, "skipped": skipped,
            "config": {**asdict(cfg), "models": {k: str(v) for k, v in cfg.models.items()}}}
    return rows, info
