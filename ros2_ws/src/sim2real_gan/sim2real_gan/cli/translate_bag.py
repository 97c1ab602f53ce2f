"""``sim2real-gan translate-bag IN OUT``: translate the camera topic of a rosbag2 offline.

The offline twin of the translator node, on the same pipeline core: the translated image is
written under ``--output-ns`` with the input header, the frame's labels and camera_info are
copied there byte-identically, and every other topic is copied unchanged.
"""

from __future__ import annotations

import argparse
import logging
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim2real_gan.artifact import BACKEND_CHOICES, STYLE_SYNTAX, StyleError, StyleSpec
from sim2real_gan.cli.argtypes import duration_ms, threads

if TYPE_CHECKING:
    from sim2real_gan.runtime import TranslatorLike

log = logging.getLogger("sim2real_gan.translate_bag")


def add_model_args(p: argparse.ArgumentParser) -> None:
    """--model, --backend, --device, --style, --size-mode, --threads (shared with demo)."""
    g = p.add_argument_group("model")
    g.add_argument("--model", default=None, metavar="PATH|NAME",
                   help="model artifact directory, or the name of a shipped model "
                   "(default: 'default' from models/ or the installed share dir)")
    g.add_argument("--backend", choices=BACKEND_CHOICES, default="auto",
                   help="inference backend (default auto: tensorrt > torch-cuda > onnxruntime)")
    g.add_argument("--device", default=None, help="cpu or cuda[:N] (default: backend's best)")
    g.add_argument("--style", type=parse_style, default=None, metavar="STYLE",
                   help=f"appearance for the whole run: {STYLE_SYNTAX}; random draws one "
                   "seed for the run and logs it (default: the model's default style)")
    g.add_argument("--size-mode", choices=("native", "working"), default="native",
                   help="run at the camera size (native) or at the model's working resolution "
                   "and resize back (working); output always has the input size")
    g.add_argument("--threads", type=threads, default=None,
                   help="CPU threads for the backend (1..cores)")


def parse_style(text: str) -> StyleSpec:
    """``--style`` text -> StyleSpec (the one style syntax, shared with the node and launch);
    a path-like value must name an existing file."""
    try:
        return StyleSpec.parse(text, check_file=True)
    except StyleError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def load_translator(args: argparse.Namespace) -> TranslatorLike:
    """Build a runtime Translator from the model args (an unknown style name is a
    ValueError listing the model's style names)."""
    from sim2real_gan.pipeline.model_path import resolve_model
    from sim2real_gan.runtime import BackendOptions, Translator
    from sim2real_gan.runtime.styles import style_value

    path = resolve_model(args.model)
    style = None if args.style is None else style_value(args.style, random.Random())
    translator = Translator.from_artifact(
        path, backend=args.backend, device=args.device, size_mode=args.size_mode,
        style=style, options=BackendOptions(threads=args.threads))
    if args.style is not None and args.style.kind == "random":
        log.info("style random -> seed %d", style)
    log.info("model %s (%s) on %s", path, translator.manifest.preset, translator.backend.label)
    return translator


def model_inputs(args: argparse.Namespace) -> list[Path]:
    """Files the model args read (artifact directory, style image): an output must keep off."""
    from sim2real_gan.pipeline.model_path import resolve_model

    paths = [resolve_model(args.model)]
    if args.style is not None and args.style.kind == "image":
        paths.append(Path(str(args.style.value)))
    return paths


def make_step(translator: TranslatorLike, image_topic: str) -> Any:
    """MessageTranslator feeding the model's aux streams from ``<image ns>/<aux topic>``."""
    from sim2real_gan.pipeline.message_step import MessageTranslator

    ns = image_topic.rsplit("/", 1)[0]
    aux = {src.name: f"{ns}/{src.topic}" for src in translator.manifest.aux}
    return MessageTranslator(translator.translate, aux_keys=aux)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "translate-bag", help="translate the camera images of a rosbag2 (labels kept)",
        description="Translate IN's image topic into a new bag OUT (atomic). The translated "
        "image (input header) and its labels and camera_info (byte-identical, same stamps) go "
        "under --output-ns; every other topic is copied unchanged. A frame whose labels are "
        "incomplete is dropped with all its labels (counted).")
    p.add_argument("input", type=Path, metavar="IN", help="input rosbag2 directory")
    p.add_argument("output", type=Path, metavar="OUT", help="output rosbag2 directory")
    p.add_argument("--image-topic", default="/sim/camera/image_raw",
                   help="image topic to translate (default /sim/camera/image_raw); its "
                   "namespace is the input namespace")
    p.add_argument("--output-ns", default="/realistic/camera",
                   help="namespace of the translated image and its labels "
                   "(default /realistic/camera)")
    p.add_argument("--labels", nargs="+", default=None, metavar="TOPIC",
                   help="label topics carried with each frame (default: every other stamped "
                   "topic in the input namespace except camera_info)")
    p.add_argument("--no-camera-info", action="store_true",
                   help="do not require or carry <input ns>/camera_info with each frame")
    p.add_argument("--keep-input", action="store_true",
                   help="also keep the input namespace's topics (original image, labels, "
                   "camera_info) unchanged under their own names")
    p.add_argument("--storage", choices=("mcap", "sqlite3"), default=None,
                   help="output storage (default: same as the input)")
    p.add_argument("--force", action="store_true",
                   help="replace OUT if it is a previous translate-bag output (docs/safety.md)")
    p.add_argument("--slop-ms", type=duration_ms, default=0.0,
                   help="largest label/image stamp difference to pair (default 0 = identical)")
    p.add_argument("--hold-ms", type=duration_ms, default=1000.0,
                   help="how long (bag time) a frame waits for a missing label before it is "
                   "dropped (default 1000)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_model_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sim2real_gan.io.outputs import check_output, staged_output
    from sim2real_gan.pipeline.bag_translate import BagTranslateConfig, translate_bag
    from sim2real_gan.runtime import BackendUnavailable

    if not args.input.exists():
        raise FileNotFoundError(f"input bag {args.input} does not exist")
    inputs = [args.input, *model_inputs(args)]
    check_output(args.output, "translate-bag", inputs, args.force)  # before the model loads
    cfg = BagTranslateConfig(
        image_topic=args.image_topic, output_ns=args.output_ns,
        label_topics=tuple(args.labels) if args.labels else None,
        camera_info=not args.no_camera_info, keep_input=args.keep_input, storage=args.storage,
        slop_ns=int(args.slop_ms * 1e6), hold_ns=int(args.hold_ms * 1e6),
        progress=not args.no_progress)
    try:
        translator = load_translator(args)
    except BackendUnavailable as exc:
        log.error("%s", exc)
        return 2
    try:
        with staged_output(args.output, "translate-bag", inputs, args.force) as built:
            report = translate_bag(args.input, built, make_step(translator, args.image_topic),
                                   cfg)
    finally:
        translator.close()
    log.info("%s", report.line())
    if report.frames_out < report.images_in:
        missing = ", ".join(f"{k} x{n}" for k, n in sorted(report.stats.missing.items()))
        log.warning("%d of %d frames were dropped (%s); parts that never arrived in time: %s. "
                    "Check --labels, --slop-ms and --hold-ms.",
                    report.images_in - report.frames_out, report.images_in,
                    report.stats.frame_drops, missing or "none")
    log.info("wrote %s: %s", args.output, ", ".join(sorted(report.output_topics)))
    return 0
