"""``sim2real-gan simulate``: procedural endoscope sequences -> rosbag2 or a folder."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from sim2real_gan.cli.argtypes import positive_float

log = logging.getLogger("sim2real_gan.simulate")


def _positive_int(text: str) -> int:
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return v


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
    p.add_argument("--force", action="store_true",
                   help="replace OUT (and --preview) if it is a previous simulate output")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sim2real_gan.io.outputs import check_file_output, check_output, staged_output
    from sim2real_gan.sim import config as C
    from sim2real_gan.sim.alloc import retain_freed_memory
    from sim2real_gan.sim.simulator import EndoscopeSimulator
    from sim2real_gan.sim.writers import progress, write_bag, write_folder, write_preview

    if args.paired and args.ns is not None:
        raise ValueError("--ns cannot be combined with --paired (namespaces are "
                         f"{C.DEFAULT_NS['sim']} and {C.DEFAULT_NS['real']})")
    check_output(args.out, "simulate", force=args.force)
    if args.preview is not None:
        check_file_output(args.preview, "simulate", args.force, ".png", beside=args.out)
    retain_freed_memory()  # this process is one long numpy loop: keep freed memory for reuse
    apps = ("sim", "real") if args.paired else (args.appearance,)
    cfg = C.SimConfig(width=args.width, height=args.height, fps=args.fps, appearances=apps,
                      instruments=args.instruments, breathing=not args.no_breathing)
    scene_seed = C.scene_seed_for(args.seed, apps[0], paired=args.paired)
    sim = EndoscopeSimulator(cfg, scene_seed)
    frames = progress(sim.frames(args.frames), args.frames, enabled=not args.no_progress)
    t0 = time.perf_counter()
    with staged_output(args.out, "simulate", force=args.force) as out:
        if args.format == "bag":
            streams = ({a: C.DEFAULT_NS[a] for a in apps} if args.paired
                       else {apps[0]: args.ns or C.DEFAULT_NS[apps[0]]})
            n = write_bag(out, frames, streams, storage=args.storage)
            what = f"{args.storage} bag, topics under {', '.join(streams.values())}"
        else:
            meta = {"seed": args.seed, "scene_seed": scene_seed, "paired": args.paired,
                    "fps": args.fps, "width": args.width, "height": args.height,
                    "K": cfg.K.tolist(), "start_stamp_ns": cfg.start_stamp_ns}
            n = write_folder(out, frames, apps, meta)
            what = "folder of PNG + NPZ"
        if args.preview is not None:  # inside: a failed preview leaves no sequence either
            write_preview(args.preview, EndoscopeSimulator(cfg, scene_seed), args.frames)
    dt = time.perf_counter() - t0
    log.info("wrote %d frames (%dx%d, %s, scene seed %d) to %s as %s in %.1f s (%.1f frames/s)",
             n, args.width, args.height, "+".join(apps), scene_seed, args.out, what, dt,
             n / max(dt, 1e-9))
    if args.preview is not None:
        log.info("preview strip: %s", args.preview)
    return 0
