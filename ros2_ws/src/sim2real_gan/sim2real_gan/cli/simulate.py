"""``sim2real-gan simulate``: procedural endoscope sequences -> rosbag2 or a folder."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from sim2real_gan.cli.argtypes import positive_float

if TYPE_CHECKING:
    from sim2real_gan.sim.config import RealLookConfig, SimConfig
    from sim2real_gan.sim.simulator import EndoscopeSimulator

log = logging.getLogger("sim2real_gan.simulate")


def _positive_int(text: str) -> int:
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return v


_TRUE, _FALSE = ("1", "true", "on", "yes"), ("0", "false", "off", "no")


def parse_look(items: list[str]) -> RealLookConfig:
    """``["smoke=on", "field_stop=octagon", "distortion=-0.15"]`` -> RealLookConfig.

    Keys: ``field_stop`` (circle|octagon|none), ``distortion`` (k1 in [-0.5, 0]) and the
    on/off switches ``config.LOOK_SWITCHES`` (on/off, true/false, 1/0, yes/no)."""
    from sim2real_gan.sim.config import FIELD_STOPS, LOOK_SWITCHES, RealLookConfig

    keys = ("field_stop", "distortion", *LOOK_SWITCHES)
    values: dict = {}
    for item in items:
        key, sep, text = item.partition("=")
        key, text = key.strip().replace("-", "_"), text.strip().lower()
        if not sep or key not in keys:
            raise ValueError(f"--look expects KEY=VALUE with KEY one of {', '.join(keys)}; "
                             f"got {item!r}")
        if key == "field_stop":
            values[key] = text
        elif key == "distortion":
            try:
                values[key] = float(text)
            except ValueError:
                raise ValueError(f"--look distortion expects a number in [-0.5, 0], got "
                                 f"{text!r}") from None
        elif text in _TRUE + _FALSE:
            values[key] = text in _TRUE
        else:
            raise ValueError(f"--look {key} expects on/off (true/false, 1/0, yes/no), got "
                             f"{text!r}")
    if values.get("field_stop", "circle") not in FIELD_STOPS:
        raise ValueError(f"--look field_stop must be one of {', '.join(FIELD_STOPS)}, got "
                         f"{values['field_stop']!r}")
    return RealLookConfig(**values)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate", help="write a simulated endoscope sequence (bag or folder)",
        description="Render a procedural laparoscopic sequence with labels, depth, UV, "
        "ground-truth flow and camera info, and write it as rosbag2 (default) or files. "
        "Unpaired by default: the sim and real appearances come from different scenes.")
    p.add_argument("out", type=Path, help="output bag directory (or folder with --format folder)")
    p.add_argument("--frames", type=_positive_int, default=300, help="frames (default 300)")
    p.add_argument("--seed", type=int, default=0, help="sequence seed (default 0)")
    p.add_argument("--width", type=_positive_int, default=256, help="image width (default 256)")
    p.add_argument("--height", type=_positive_int, default=256, help="image height (default 256)")
    p.add_argument("--appearance", choices=("sim", "real"), default="sim",
                   help="rendering written: sim (flat) or real (footage stand-in); default sim")
    p.add_argument("--paired", action="store_true",
                   help="write BOTH appearances of the same scenes (/sim/camera and "
                   "/real/camera in one bag; sim/real PNGs in a folder), for evaluation")
    p.add_argument("--ns", default=None,
                   help="topic namespace (default /sim/camera, or /real/camera for "
                   "--appearance real); not with --paired")
    p.add_argument("--storage", choices=("mcap", "sqlite3"), default="mcap",
                   help="rosbag2 storage (default mcap)")
    p.add_argument("--fps", type=positive_float, default=30.0,
                   help="frame rate for stamps and motion (default 30)")
    p.add_argument("--format", choices=("bag", "folder"), default="bag",
                   help="bag (rosbag2) or folder (PNG + NPZ per frame); default bag")
    p.add_argument("--preview", type=Path, default=None,
                   help="also write a PNG strip (sim | real | labels | depth) of 4 frames")
    p.add_argument("--instruments", type=int, choices=(1, 2), default=None,
                   help="number of instruments (default: drawn from the seed)")
    p.add_argument("--no-breathing", action="store_true", help="keep the organs still")
    p.add_argument("--look", action="append", default=[], metavar="KEY=VALUE",
                   help="switch an effect of the real appearance (repeatable): "
                   "field_stop=circle|octagon|none, distortion=K1 (barrel, e.g. -0.15; "
                   "real images are then unlabelled), vignetting, sensor_noise, "
                   "auto_exposure, specular, tissue_detail, fat_lobules, blood, smoke, "
                   "lens_blur = on|off (docs/simulator.md)")
    p.add_argument("--stereo", action="store_true",
                   help="stereo scope: <ns>/left/* and <ns>/right/* (stereo_image_proc "
                   "layout) with ground-truth disparity on <ns>/left/disparity")
    p.add_argument("--baseline-mm", type=positive_float, default=5.0,
                   help="stereo baseline in mm (default 5; at most 50)")
    p.add_argument("--convergence-mm", type=positive_float, default=None,
                   help="converge the eyes (sensor shift) so that disparity is 0 at this "
                   "depth in mm (default: parallel eyes)")
    p.add_argument("--force", action="store_true",
                   help="replace OUT (and --preview) if it is a previous simulate output")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _config(args: argparse.Namespace, apps: tuple[str, ...]) -> SimConfig:
    from sim2real_gan.sim import config as C

    if not args.stereo and (args.convergence_mm is not None or args.baseline_mm != 5.0):
        raise ValueError("--baseline-mm and --convergence-mm need --stereo")
    if args.baseline_mm > 50.0:
        raise ValueError(f"--baseline-mm must be in (0, 50] mm, got {args.baseline_mm}")
    if args.convergence_mm is not None and not 5.0 <= args.convergence_mm <= 10000.0:
        raise ValueError(f"--convergence-mm must be in [5, 10000] mm, got "
                         f"{args.convergence_mm}")
    stereo = (C.StereoConfig(baseline_m=args.baseline_mm / 1000.0,
                             convergence_m=(None if args.convergence_mm is None
                                            else args.convergence_mm / 1000.0))
              if args.stereo else None)
    return C.SimConfig(width=args.width, height=args.height, fps=args.fps, appearances=apps,
                       instruments=args.instruments, breathing=not args.no_breathing,
                       real=parse_look(args.look), stereo=stereo)


def _write(args: argparse.Namespace, out: Path, sim: EndoscopeSimulator,
           apps: tuple[str, ...], scene_seed: int) -> tuple[int, str]:
    """Write the sequence to the (staged, new) path ``out``; returns (frames written,
    description)."""
    from sim2real_gan.sim import config as C
    from sim2real_gan.sim.stereo_writers import write_stereo_bag, write_stereo_folder
    from sim2real_gan.sim.writers import progress, write_bag, write_folder

    cfg = sim.config
    source = sim.stereo_frames(args.frames) if args.stereo else sim.frames(args.frames)
    frames = progress(source, args.frames, enabled=not args.no_progress)
    if args.format == "bag":
        streams = ({a: C.DEFAULT_NS[a] for a in apps} if args.paired
                   else {apps[0]: args.ns or C.DEFAULT_NS[apps[0]]})
        write = write_stereo_bag if args.stereo else write_bag
        n = write(out, frames, streams, storage=args.storage)
        eyes = "/{left,right}" if args.stereo else ""
        return n, f"{args.storage} bag, topics under " + ", ".join(
            f"{ns}{eyes}" for ns in streams.values())
    meta = {"seed": args.seed, "scene_seed": scene_seed, "paired": args.paired,
            "fps": args.fps, "width": args.width, "height": args.height,
            "K": cfg.K.tolist(), "start_stamp_ns": cfg.start_stamp_ns,
            "real": dataclasses.asdict(cfg.real),
            "stereo": dataclasses.asdict(cfg.stereo) if cfg.stereo else None}
    write = write_stereo_folder if args.stereo else write_folder
    return write(out, frames, apps, meta), "folder of PNG + NPZ"


def run(args: argparse.Namespace) -> int:
    from sim2real_gan.io.outputs import check_file_output, check_output, staged_output
    from sim2real_gan.sim import config as C
    from sim2real_gan.sim.alloc import retain_freed_memory
    from sim2real_gan.sim.simulator import EndoscopeSimulator
    from sim2real_gan.sim.writers import write_preview

    if args.paired and args.ns is not None:
        raise ValueError("--ns cannot be combined with --paired (namespaces are "
                         f"{C.DEFAULT_NS['sim']} and {C.DEFAULT_NS['real']})")
    apps = ("sim", "real") if args.paired else (args.appearance,)
    cfg = _config(args, apps)
    check_output(args.out, "simulate", force=args.force)
    if args.preview is not None:
        check_file_output(args.preview, "simulate", args.force, ".png", beside=args.out)
    retain_freed_memory()  # this process is one long numpy loop: keep freed memory for reuse
    scene_seed = C.scene_seed_for(args.seed, apps[0], paired=args.paired)
    t0 = time.perf_counter()
    with staged_output(args.out, "simulate", force=args.force) as out:
        n, what = _write(args, out, EndoscopeSimulator(cfg, scene_seed), apps, scene_seed)
        if args.preview is not None:  # inside: a failed preview leaves no sequence either
            write_preview(args.preview, EndoscopeSimulator(cfg, scene_seed), args.frames)
    dt = time.perf_counter() - t0
    log.info("wrote %d %s (%dx%d, %s, scene seed %d) to %s as %s in %.1f s (%.1f /s)",
             n, "stereo pairs" if args.stereo else "frames", args.width, args.height,
             "+".join(apps), scene_seed, args.out, what, dt, n / max(dt, 1e-9))
    if args.preview is not None:
        log.info("preview strip: %s", args.preview)
    return 0
