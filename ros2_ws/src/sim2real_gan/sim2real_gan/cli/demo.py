"""``sim2real-gan demo``: simulator -> translator -> rosbag2, a preview and a throughput line.

Writes the folder ``--out`` (default ``./demo_out``) as one atomic output (a failure or an
interruption leaves nothing; ``--force`` replaces only a previous demo folder, docs/safety.md):
  sim_bag/            the simulated input (``/sim/camera/*``: image, labels, depth, uv, flow)
  realistic_bag/      ``/realistic/camera/*``: translated image + the preserved labels
  preview.mp4|.gif    input | translated | labels, side by side, every frame
  preview_strip.png   a few frames stacked (input / translated / labels per row)
  summary.json        the numbers behind the throughput line
With ``--stereo`` the simulator renders a stereo scope (``/sim/camera/{left,right}/*``, ground-
truth disparity), both eyes are translated as one pair (``translate-bag --stereo``) into
``/realistic/camera/{left,right}/*``, and the preview shows left | right input, left | right
translated and the labels.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from sim2real_gan.cli.argtypes import positive_int
from sim2real_gan.cli.translate_bag import (
    add_model_args,
    load_translator,
    make_step,
    make_stereo_step,
    model_inputs,
    report_exit_code,
)

log = logging.getLogger("sim2real_gan.demo")

IMAGE_TOPIC = "/sim/camera/image_raw"
SEG_TOPIC = "/sim/camera/segmentation"
STEREO_NS = "/sim/camera"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo", help="simulate, translate and record: the product in one command",
        description="Run the built-in endoscope simulator, translate every frame with the "
        "shipped model, record a rosbag2 with /realistic/camera/* and the preserved labels, "
        "and write a side-by-side preview and a throughput line.")
    p.add_argument("--out", type=Path, default=Path("demo_out"),
                   help="output directory (default ./demo_out)")
    p.add_argument("--frames", type=positive_int, default=120,
                   help="number of frames (default 120)")
    p.add_argument("--size", type=str, default="256x256", metavar="WxH",
                   help="image size (default 256x256)")
    p.add_argument("--seed", type=int, default=0, help="scene seed of the simulator (default 0)")
    p.add_argument("--storage", choices=("mcap", "sqlite3"), default="mcap",
                   help="bag storage (default mcap)")
    p.add_argument("--preview", choices=("mp4", "gif"), default="mp4",
                   help="preview format (default mp4)")
    p.add_argument("--strip-frames", type=positive_int, default=4,
                   help="frames in preview_strip.png (default 4)")
    p.add_argument("--stereo", action="store_true",
                   help="stereo scope: both eyes simulated, translated as pairs with one "
                   "style, previewed side by side (docs/stereo.md)")
    p.add_argument("--force", action="store_true",
                   help="replace --out if it is a previous demo folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_model_args(p)
    p.set_defaults(func=run)


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--size must be WxH, e.g. 256x256, got {text!r}") from None
    if not (8 <= w <= 8192 and 8 <= h <= 8192):
        raise ValueError(f"--size must be within 8..8192 per side, got {text!r}")
    return w, h


def _colorize(labels: np.ndarray) -> np.ndarray:
    try:
        from sim2real_gan.sim.config import colorize_labels
    except ImportError:  # pragma: no cover - the simulator ships with the package
        from sim2real_gan.pipeline.preview import colorize as colorize_labels
    return colorize_labels(labels)


class _PreviewSink:
    """Collects side-by-side frames into a video/GIF and keeps a few for the strip."""

    def __init__(self, out: Path, fmt: str, total: int, strip_frames: int):
        from sim2real_gan.io.media import VideoWriter

        self.path = out / f"preview.{fmt}"
        self.fmt = fmt
        self.video = VideoWriter(self.path, fps=15).__enter__() if fmt == "mp4" else None
        self.gif: list[np.ndarray] = []
        picks = np.linspace(0, max(total - 1, 0), num=max(1, min(strip_frames, total)))
        self.pick = {int(round(i)) for i in picks}
        self.rows: list[np.ndarray] = []
        self.index = 0
        self.seconds = 0.0  # time spent here, kept out of the bag-to-bag rate

    def __call__(self, frame: Any, image: Any, fields: dict) -> None:
        from sim2real_gan.io.image_codec import image_to_numpy, to_rgb8
        from sim2real_gan.pipeline.preview import side_by_side

        t0 = time.perf_counter()
        src = to_rgb8(image_to_numpy(image), image.encoding)
        dst = to_rgb8(image_to_numpy(SimpleNamespace(**fields)), fields["encoding"])
        labels = _colorize(image_to_numpy(frame.labels[SEG_TOPIC].msg))
        row = side_by_side([("sim input", src), ("translated", dst), ("labels", labels)])
        self.add_row(row)
        self.seconds += time.perf_counter() - t0

    def add_row(self, row: np.ndarray) -> None:
        """One preview row into the video/GIF (and the strip when picked)."""
        if self.video is not None:
            self.video.write(row)
        elif self.index % 2 == 0:  # GIFs get big: every other frame
            self.gif.append(row)
        if self.index in self.pick:
            self.rows.append(row)
        self.index += 1

    def close(self, out: Path, failed: bool = False) -> None:
        from sim2real_gan.io.media import write_gif, write_image
        from sim2real_gan.pipeline.preview import strip

        if self.video is not None:
            self.video.__exit__(RuntimeError if failed else None, None, None)
        if failed:
            return
        if self.fmt == "gif":
            write_gif(self.path, self.gif, fps=7.5)
        write_image(out / "preview_strip.png", strip(self.rows))


class _StereoPreviewSink(_PreviewSink):
    """Stereo preview rows: left | right input, left | right translated, left labels."""

    def __call__(self, frame: Any, eyes: dict, fields: dict) -> None:
        from sim2real_gan.io.image_codec import image_to_numpy, to_rgb8
        from sim2real_gan.pipeline.preview import side_by_side

        t0 = time.perf_counter()
        parts = []
        for e in ("left", "right"):
            img = eyes[e].image
            parts.append((f"{e} input", to_rgb8(image_to_numpy(img), img.encoding)))
        for e in ("left", "right"):
            f = fields[e]
            parts.append((f"{e} translated",
                          to_rgb8(image_to_numpy(SimpleNamespace(**f)), f["encoding"])))
        seg = eyes["left"].labels[f"{STEREO_NS}/left/segmentation"]
        parts.append(("left labels", _colorize(image_to_numpy(seg))))
        self.add_row(side_by_side(parts))
        self.seconds += time.perf_counter() - t0


def run(args: argparse.Namespace) -> int:
    from sim2real_gan.io.outputs import check_output, staged_output
    from sim2real_gan.pipeline.bag_config import DEFAULT_MAX_DROP_FRACTION
    from sim2real_gan.pipeline.bag_report import NothingTranslated
    from sim2real_gan.runtime import BackendUnavailable

    width, height = _size(args.size)
    inputs = model_inputs(args)
    check_output(args.out, "demo", inputs, args.force)  # before the model loads
    try:
        translator = load_translator(args)
    except BackendUnavailable as exc:
        log.error("%s", exc)
        return 2
    try:
        with staged_output(args.out, "demo", inputs, args.force) as out:
            out.mkdir()
            summary, sink_path, report = _demo(args, translator, out, width, height)
    except NothingTranslated as nothing:  # the staged folder is gone: nothing half-made
        return report_exit_code(nothing.report, args.out / "realistic_bag",
                                DEFAULT_MAX_DROP_FRACTION)
    finally:
        translator.close()
    print(summary["line"])
    print(f"wrote {args.out / 'realistic_bag'} ({', '.join(sorted(report.output_topics))}), "
          f"{args.out / sink_path.name}, {args.out / 'preview_strip.png'}")
    return report_exit_code(report, args.out / "realistic_bag", DEFAULT_MAX_DROP_FRACTION)


def _demo(args: argparse.Namespace, translator: Any, out: Path, width: int, height: int
          ) -> tuple[dict, Path, Any]:
    """Simulate, translate and preview into the new folder ``out``; returns (summary, preview
    path, BagTranslateReport). NothingTranslated when no frame was translated."""
    from sim2real_gan.pipeline.bag_config import BagTranslateConfig
    from sim2real_gan.pipeline.bag_report import NothingTranslated
    from sim2real_gan.pipeline.bag_translate import translate_bag
    from sim2real_gan.pipeline.sim_source import simulate_stereo_to_bag, simulate_to_bag

    progress = not args.no_progress
    cfg = BagTranslateConfig(image_topic=IMAGE_TOPIC, storage=args.storage, progress=progress,
                             stereo=args.stereo)
    simulate = simulate_stereo_to_bag if args.stereo else simulate_to_bag
    sim_fps = simulate(out / "sim_bag", frames=args.frames, width=width, height=height,
                       seed=args.seed, storage=args.storage, progress=progress)
    if args.stereo:
        step = make_stereo_step(translator, cfg.stereo_request().plan())
        sink = _StereoPreviewSink(out, args.preview, args.frames, args.strip_frames)
    else:
        step = make_step(translator, cfg.request().plan())
        sink = _PreviewSink(out, args.preview, args.frames, args.strip_frames)
    _warm_up(translator, height, width, batch=2 if args.stereo else 1)
    t0 = time.perf_counter()
    try:
        report = translate_bag(out / "sim_bag", out / "realistic_bag", step, cfg,
                               on_frame=sink)
    except BaseException:
        sink.close(out, failed=True)
        raise
    wall = time.perf_counter() - t0 - sink.seconds
    sink.close(out, failed=not report.written)
    if not report.written:
        raise NothingTranslated(report)
    unit = report.unit
    summary = {
        "size": [width, height], "frames": report.frames_out, "frames_in": report.frames_in,
        "stereo": args.stereo,
        "backend": translator.backend.label, "model_preset": translator.manifest.preset,
        "engine_fps": round(report.times.engine_fps, 2),
        "message_path_fps": round(report.message_path_fps, 2),
        "bag_to_bag_fps": round(report.frames_out / wall, 2) if wall > 0 else 0.0,
        "simulator_fps": round(sim_fps, 2),
        "drops": report.stats.frame_drops,
        "message_drops": report.stats.message_drops,
    }
    rate = "fps" if unit == "frames" else f"{unit}/s"
    summary["line"] = (
        f"throughput {width}x{height}{' per eye' if args.stereo else ''} on "
        f"{summary['backend']} ({summary['model_preset']}): "
        f"engine {summary['engine_fps']:.1f} {rate}, message path (decode+translate+encode) "
        f"{summary['message_path_fps']:.1f} {rate}, bag to bag (read+sync+path+write) "
        f"{summary['bag_to_bag_fps']:.1f} {rate}; simulator {summary['simulator_fps']:.1f} "
        f"{rate}; {report.frames_out}/{report.frames_in} {unit}")
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary, sink.path, report


def _warm_up(translator: Any, height: int, width: int, runs: int = 2, batch: int = 1) -> None:
    """First calls allocate buffers / pick kernels; keep them out of the timings (``batch``
    2: the stereo pair's ``translate_batch``)."""
    rgb = np.zeros((height, width, 3), np.uint8)
    aux = {src.name: np.zeros((height, width, src.channels), np.float32)
           for src in translator.manifest.aux}
    for _ in range(runs):
        if batch == 1:
            translator.translate(rgb, **aux)
        else:
            translator.translate_batch([rgb] * batch, **{k: [v] * batch for k, v in aux.items()})
