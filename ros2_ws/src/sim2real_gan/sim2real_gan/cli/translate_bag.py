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
from sim2real_gan.cli.argtypes import duration_ms, fraction, threads

if TYPE_CHECKING:
    from sim2real_gan.pipeline.topics import TopicPlan
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


def make_step(translator: TranslatorLike, plan: TopicPlan) -> Any:
    """MessageTranslator feeding the model's aux streams from their topics beside the image
    (``TopicPlan.aux_topic``, the node's rule)."""
    from sim2real_gan.pipeline.message_step import MessageTranslator

    aux = {src.name: plan.aux_topic(src.topic) for src in translator.manifest.aux}
    return MessageTranslator(translator.translate, aux_keys=aux)


def make_stereo_step(translator: TranslatorLike, plan: Any) -> Any:
    """StereoTranslator: both eyes in one ``translate_batch`` call (one style), the model's
    aux streams from their topics beside each eye's image."""
    from sim2real_gan.pipeline.stereo_step import StereoTranslator

    aux = plan.aux_topics({src.name: src.topic for src in translator.manifest.aux})
    return StereoTranslator(translator.translate_batch, aux_keys=aux)


def _ros_name(namespace: bool) -> Any:
    """argparse type: a ROS 2 topic name (or absolute namespace), checked at parse time."""
    from sim2real_gan.pipeline.topics import name_problem

    def check(text: str) -> str:
        problem = name_problem(text, namespace=namespace)
        if problem:
            kind = "namespace" if namespace else "topic name"
            raise argparse.ArgumentTypeError(f"{text!r} is not a valid ROS 2 {kind}: {problem}")
        return text

    check.__name__ = "ROS namespace" if namespace else "ROS topic name"
    return check


def add_topic_args(p: argparse.ArgumentParser) -> None:
    """Topic flags: the same request fields as the node's topic parameters."""
    from sim2real_gan.pipeline.bag_config import BagTranslateConfig

    d = BagTranslateConfig()
    g = p.add_argument_group("topics (rule: docs/offline.md; the node's input_ns, output_ns, "
                             "image_topic, camera_info_topic, label_topics)")
    g.add_argument("--image-topic", type=_ros_name(False), default=d.image_topic,
                   help=f"image topic to translate, absolute or relative to --input-ns "
                   f"(default {d.image_topic})")
    g.add_argument("--input-ns", type=_ros_name(True), default=None,
                   help="input namespace (default: the image topic's parent)")
    g.add_argument("--output-ns", type=_ros_name(True), default=d.output_ns,
                   help=f"namespace of the translated image and its labels (default "
                   f"{d.output_ns}); a topic inside the input namespace keeps its path below "
                   "it, one outside goes under --output-ns by its last name")
    g.add_argument("--labels", nargs="+", type=_ros_name(False), default=None,
                   metavar="TOPIC", help="label topics carried with each frame, absolute or "
                   "relative to the input namespace (default: every other stamped topic in "
                   "the input namespace except camera_info)")
    g.add_argument("--camera-info-topic", type=_ros_name(False), default=d.camera_info_topic,
                   help=f"camera_info topic, absolute or relative to the input namespace "
                   f"(default {d.camera_info_topic}); carried when the bag has it")
    g.add_argument("--no-camera-info", action="store_true",
                   help="do not require or carry camera_info with each frame")
    g.add_argument("--stereo", action="store_true",
                   help="a stereo pair (docs/stereo.md): <input-ns>/<left-ns>/* and "
                   "<input-ns>/<right-ns>/* are synchronised by stamp and translated together "
                   "(one style per pair, dropped as a pair); --image-topic, "
                   "--camera-info-topic and --labels name each eye's topics, relative to its "
                   "namespace (an absolute --image-topic gives the pair's namespace)")
    g.add_argument("--left-ns", type=_ros_name(False), default=d.left_ns,
                   help=f"left eye namespace below the input and output namespaces, with "
                   f"--stereo (default {d.left_ns})")
    g.add_argument("--right-ns", type=_ros_name(False), default=d.right_ns,
                   help=f"right eye namespace, with --stereo (default {d.right_ns})")
    g.add_argument("--stereo-depth-topic", type=_depth_topic, default=d.stereo_depth_topic,
                   metavar="NAME", help="each eye's depth topic, relative to the eye, with "
                   "--stereo: when both eyes carry it with camera_info, the right eye's pixels "
                   "that the left eye also sees are the left translation reprojected with "
                   f"it, so both eyes agree on depth (default {d.stereo_depth_topic}; '' = "
                   "off, each eye its own translation)")


def _depth_topic(text: str) -> str:
    """argparse type of --stereo-depth-topic: '' (off) or a relative ROS topic name."""
    from sim2real_gan.pipeline.stereo_topics import depth_topic_problem

    problem = depth_topic_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def register(sub: argparse._SubParsersAction) -> None:
    from sim2real_gan.pipeline.bag_config import DEFAULT_MAX_DROP_FRACTION

    p = sub.add_parser(
        "translate-bag", help="translate the camera images of a rosbag2 (labels kept)",
        description="Translate IN's image topic into a new bag OUT (atomic). The translated "
        "image (input header) and its labels and camera_info (byte-identical, same stamps) go "
        "under --output-ns; every other topic is copied unchanged. A frame whose labels are "
        "incomplete, or that cannot be decoded or translated, is dropped with all its labels "
        "(counted by reason). Exit 0 when at least one frame was translated and at most "
        "--max-drop-fraction of the frames were dropped, 1 otherwise (the output bag is "
        "kept when it holds at least one frame), 2 for bad arguments or input.")
    p.add_argument("input", type=Path, metavar="IN", help="input rosbag2 directory")
    p.add_argument("output", type=Path, metavar="OUT", help="output rosbag2 directory")
    add_topic_args(p)
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
    p.add_argument("--reorder-ms", type=duration_ms, default=200.0,
                   help="reorder window (stamp time, default 200, as the node's "
                   "reorder_window_ms): an image at most this far behind the newest is put "
                   "back in order; further back is a simulation reset (new episode)")
    p.add_argument("--max-drop-fraction", type=fraction, default=DEFAULT_MAX_DROP_FRACTION,
                   help=f"exit 1 when more than this share of the frames is dropped (default "
                   f"{DEFAULT_MAX_DROP_FRACTION})")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_model_args(p)
    p.set_defaults(func=run)


def bag_config(args: argparse.Namespace) -> Any:
    """BagTranslateConfig from the parsed flags; its topic request is checked here
    (TopicError, a ValueError: exit 2) so that a bad combination fails before the model
    loads."""
    from sim2real_gan.pipeline.bag_config import BagTranslateConfig

    cfg = BagTranslateConfig(
        image_topic=args.image_topic, output_ns=args.output_ns, input_ns=args.input_ns,
        label_topics=tuple(args.labels) if args.labels else None,
        camera_info=not args.no_camera_info, camera_info_topic=args.camera_info_topic,
        keep_input=args.keep_input, storage=args.storage,
        slop_ns=int(args.slop_ms * 1e6), hold_ns=int(args.hold_ms * 1e6),
        reorder_ns=int(args.reorder_ms * 1e6), progress=not args.no_progress,
        stereo=args.stereo, left_ns=args.left_ns, right_ns=args.right_ns,
        stereo_depth_topic=args.stereo_depth_topic)
    d = BagTranslateConfig()
    if not args.stereo and (args.left_ns, args.right_ns, args.stereo_depth_topic) != (
            d.left_ns, d.right_ns, d.stereo_depth_topic):
        raise ValueError("--left-ns, --right-ns and --stereo-depth-topic need --stereo")
    cfg.check()
    return cfg


def run(args: argparse.Namespace) -> int:
    from sim2real_gan.io.outputs import check_output, staged_output
    from sim2real_gan.pipeline.bag_report import NothingTranslated
    from sim2real_gan.pipeline.bag_translate import translate_bag
    from sim2real_gan.runtime import BackendUnavailable

    cfg = bag_config(args)
    if not args.input.exists():
        raise FileNotFoundError(f"input bag {args.input} does not exist")
    inputs = [args.input, *model_inputs(args)]
    check_output(args.output, "translate-bag", inputs, args.force)  # before the model loads
    try:
        translator = load_translator(args)
    except BackendUnavailable as exc:
        log.error("%s", exc)
        return 2
    try:
        step = (make_stereo_step(translator, cfg.stereo_request().plan()) if cfg.stereo
                else make_step(translator, cfg.request().plan()))
        with staged_output(args.output, "translate-bag", inputs, args.force) as built:
            report = translate_bag(args.input, built, step, cfg)
            if not report.written:  # nothing translated: the staged output goes
                raise NothingTranslated(report)
    except NothingTranslated as nothing:
        report = nothing.report
    finally:
        translator.close()
    log.info("%s", report.line())
    if report.written:
        log.info("wrote %s: %s", args.output, ", ".join(sorted(report.output_topics)))
    return report_exit_code(report, args.output, args.max_drop_fraction)


def report_exit_code(report: Any, output: Path, max_drop_fraction: float) -> int:
    """Log the outcome of a bag translation; 0 on success, 1 otherwise (see --help)."""
    if report.frames_dropped:
        missing = ", ".join(f"{k} x{n}" for k, n in sorted(report.stats.missing.items()))
        log.warning("%d of %d frames were dropped (%s); parts that never arrived in time: %s. "
                    "Check --labels, --slop-ms, --hold-ms and the skipped frames above.",
                    report.frames_dropped, report.frames_in, report.reasons(),
                    missing or "none")
    problem = report.verdict(max_drop_fraction)
    if problem:
        kept = (f"{output} was still written with the {report.frames_out} translated frames"
                if report.written else "no output written")
        log.error("%s; %s", problem, kept)
        return 1
    return 0
