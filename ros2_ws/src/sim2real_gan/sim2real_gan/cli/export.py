"""``sim2real-gan export CHECKPOINT OUT_DIR``: generator checkpoint -> model artifact."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from sim2real_gan.cli.argtypes import non_negative_float, non_negative_int

log = logging.getLogger("sim2real_gan.export")


def _resolution(text: str) -> tuple[int, int]:
    """'HxW' or 'N' -> (H, W)."""
    try:
        parts = [int(p) for p in text.lower().split("x")]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected HxW (e.g. 256x256), got {text!r}") from exc
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or min(parts) < 1:
        raise argparse.ArgumentTypeError(f"expected HxW with positive sizes, got {text!r}")
    return parts[0], parts[1]


def _reference(text: str) -> tuple[str, Path]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=IMAGE_PATH, got {text!r}")
    return name, Path(path)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a generator checkpoint to an ONNX model artifact",
                       description="Export CHECKPOINT (generator.safetensors + config.json) to "
                       "OUT_DIR: model.onnx (dynamic batch/H/W), model.json, weights copy. "
                       "Checks ONNX Runtime against PyTorch; writes atomically.")
    p.add_argument("checkpoint", type=Path, help="generator checkpoint directory, or a training run "
                   "(its checkpoints/latest)")
    p.add_argument("out_dir", type=Path, help="artifact directory to create")
    p.add_argument("--fp16", action="store_true",
                   help="store a graph with FP16 weights/activations inside (FP32 I/O); "
                   "TensorRT does FP16 on its own from the default FP32 graph")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (>= 17; default 17)")
    p.add_argument("--working-resolution", type=_resolution, default=None, metavar="HxW",
                   help="resolution the model was trained at (default: from the checkpoint, "
                   "else 256x256)")
    p.add_argument("--seeds", type=non_negative_int, default=8,
                   help="named seed styles seed_0..seed_{N-1} in the style bank (default 8)")
    p.add_argument("--style-ref", type=_reference, action="append", default=[],
                   metavar="NAME=IMAGE", help="add a named style encoded from a reference "
                   "image (needs a style encoder in the checkpoint); repeatable")
    p.add_argument("--style-prior", type=Path, action="append", default=[], metavar="PATH",
                   help="fit the distribution random styles and seeds are drawn from to the "
                   "style codes of your footage: a video file or a folder of frames; "
                   "repeatable (default: none, seeds are N(0, I) codes; docs/export.md)")
    p.add_argument("--style-prior-frames", type=non_negative_int, default=256, metavar="N",
                   help="frames taken evenly from all --style-prior sources (default 256)")
    p.add_argument("--tolerance", type=non_negative_float, default=1e-3,
                   help="max |ONNX - PyTorch| accepted for the FP32 graph (default 1e-3)")
    p.add_argument("--force", action="store_true",
                   help="replace OUT_DIR if it is a model artifact (model.json); OUT_DIR may be "
                   "CHECKPOINT itself when that is an artifact (re-export in place)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import cv2

    from sim2real_gan.export import ExportOptions, export_artifact
    from sim2real_gan.io.outputs import check_output
    from sim2real_gan.io.run_dir import resolve_checkpoint

    args.checkpoint = resolve_checkpoint(args.checkpoint)
    if not args.checkpoint.is_dir():
        raise FileNotFoundError(f"checkpoint directory not found: {args.checkpoint}")
    check_output(args.out_dir, "export", [args.checkpoint, *(p for _, p in args.style_ref),
                                          *args.style_prior], args.force, in_place_ok=True)
    prior = prior_frames(args.style_prior, args.style_prior_frames)
    refs = {}
    for name, path in args.style_ref:
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise FileNotFoundError(f"--style-ref {name}: cannot read image {path}")
        refs[name] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    opts = ExportOptions(opset=args.opset, fp16=args.fp16, seeds=args.seeds, references=refs,
                         overwrite=args.force, tolerance=args.tolerance, prior_frames=prior,
                         prior_source=", ".join(p.name for p in args.style_prior))
    manifest, report = export_artifact(args.checkpoint, args.out_dir, opts,
                                       working_resolution=args.working_resolution)
    print(f"exported {args.checkpoint} -> {args.out_dir}")
    print(f"  preset {manifest.preset}, style_dim {manifest.style_dim}, aux "
          f"{[a.name for a in manifest.aux] or 'none'}, working resolution "
          f"{manifest.working_resolution[0]}x{manifest.working_resolution[1]}, size multiple "
          f"{manifest.size_multiple}")
    for kind, rep in manifest.parity.items():
        print(f"  parity {kind} (ONNX Runtime vs PyTorch): max |diff| {rep['max_abs_diff']:.3g} "
              f"(tolerance {rep['tolerance']:g}) over shapes "
              f"{[tuple(c['shape']) for c in rep['cases']]}")
    print(f"  styles: {', '.join(manifest.styles) or 'none'}")
    if manifest.style_prior is not None:
        print(f"  style prior: fitted to {manifest.style_prior.frames} frames of "
              f"{manifest.style_prior.source}")
    print(f"  content hash {manifest.content_hash[:16]}")
    return 0


def prior_frames(paths: list[Path], count: int) -> list:
    """Up to ``count`` frames taken evenly from the videos and frame folders ``paths`` (each
    sampled evenly first, so a long video is never held whole), for the style prior; [] without
    paths. A path that is neither a folder of images nor a video OpenCV opens is a one-line
    error naming it."""
    import numpy as np

    from sim2real_gan.io.media import IMAGE_SUFFIXES, read_image, read_video, video_info

    if not paths:
        return []
    if count < 2:
        raise ValueError(f"--style-prior-frames {count}: need at least 2 frames")

    def even(n: int) -> np.ndarray:
        return np.unique(np.linspace(0, n - 1, min(count, n)).round().astype(int))

    frames = []
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"--style-prior {path}: no such file or folder")
        if path.is_dir():
            files = sorted(f for f in path.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
            found = [read_image(files[i]) for i in even(len(files))] if files else []
        else:
            n = video_info(path).frames
            found = list(read_video(path, stride=max(1, n // count), max_frames=count))
        if not found:
            raise ValueError(f"--style-prior {path}: no decodable frame")
        frames.extend(found)
    return [frames[i] for i in even(len(frames))]
