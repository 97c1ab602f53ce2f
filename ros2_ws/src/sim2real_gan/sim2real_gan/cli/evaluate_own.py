"""``sim2real-gan evaluate --sim-bag BAG --footage VIDEO|DIR ...``: your own data.

The own-data protocol (``sim2real_gan.eval.own_protocol``, docs/evaluation.md "Your own
data"): the flags here, their profile defaults, and the run. The built-in simulator
protocol (cli/evaluate.py) is untouched by them.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from sim2real_gan.cli.argtypes import non_negative_float, positive_int

log = logging.getLogger("sim2real_gan.evaluate")

# name: (width, sim frames, frames per clip, footage frames, segmenter steps,
#        feature-net steps, domain-classifier steps, profile frames, KID subsets)
OWN_PROFILES = {
    "quick": (64, 16, 4, 32, 20, 20, 20, 8, 5),
    "small": (256, 64, 8, 200, 300, 300, 200, 32, 50),
    "standard": (256, 256, 16, 500, 1500, 800, 500, 64, 50),
}
#: flags of the built-in protocol only / of the own-data protocol only (dest names)
BUILTIN_ONLY = ("test_sequences", "train_sequences", "real_frames", "ours", "baseline")
OWN_ONLY = ("footage", "image_topic", "labels_topic", "depth_topic", "label_channel", "flow",
            "stride", "max_frames", "footage_frames", "footage_mask", "black_level")


def label_channel(text: str) -> int:
    """0..3: the channel of a 3- or 4-channel labels image holding the class id."""
    try:
        n = int(text)
    except ValueError:
        n = -1
    if not 0 <= n <= 3:
        raise argparse.ArgumentTypeError(f"expected a channel 0..3, got {text!r}")
    return n


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The own-data flags (all default to None: unset = the profile's value)."""
    g = p.add_argument_group("your own data (docs/evaluation.md \"Your own data\")")
    g.add_argument("--sim-bag", type=Path, default=None, metavar="BAG",
                   help="your simulator recording (rosbag2: Gazebo, ...): evaluate on it "
                   "against --footage instead of the built-in simulator protocol")
    g.add_argument("--footage", type=Path, default=None, metavar="VIDEO|DIR",
                   help="your real footage: a video file (MP4/AVI/MKV, ...) or a folder of "
                   "frames; no labels needed")
    g.add_argument("--image-topic", default=None,
                   help="camera image topic of the bag (default: found by name)")
    g.add_argument("--labels-topic", default=None,
                   help="label image topic (default: found by name; '' = no label metrics)")
    g.add_argument("--depth-topic", default=None,
                   help="depth topic (default: found by name; '' = not used)")
    g.add_argument("--label-channel", type=label_channel, default=None,
                   help="channel of a 3-channel labels image holding the class id (default 0; "
                   "Gazebo panoptic labels_map: 2)")
    g.add_argument("--flow", choices=("auto", "estimate"), default=None,
                   help="temporal metrics: the bag's flow topics when it has them (auto, "
                   "default) or flow estimated from the frames (estimate)")
    g.add_argument("--stride", type=positive_int, default=None,
                   help="keep every N-th bag frame inside a clip (default 1; must be 1 with "
                   "recorded flow)")
    g.add_argument("--max-frames", type=positive_int, default=None,
                   help="sim frames evaluated: clips of --frames consecutive frames spread "
                   "over the bag (profile default: quick 16, small 64, standard 256)")
    g.add_argument("--footage-frames", type=positive_int, default=None,
                   help="footage frames used, evenly spaced (quick 32, small 200, standard 500)")
    g.add_argument("--footage-mask", default=None, metavar="auto|content|off|FILE",
                   help="content mask of the footage: auto (scope opening minus burned-in "
                   "text, default), content (opening only), off, or a mask image "
                   "(non-zero = scene) at the footage's size")
    g.add_argument("--black-level", type=non_negative_float, default=None,
                   help="8-bit level below which a footage pixel is surround (default 20)")


def check_flags(args: argparse.Namespace) -> None:
    """Refuse flags of the other protocol (one line naming the flag)."""
    own = args.sim_bag is not None
    for dest in BUILTIN_ONLY if own else OWN_ONLY:
        if getattr(args, dest) is not None:
            flag = "--" + dest.replace("_", "-")
            raise ValueError(f"{flag} is for the built-in simulator protocol, not with --sim-bag"
                             if own else f"{flag} needs --sim-bag (the own-data protocol)")
    if own and args.stereo:
        raise ValueError("--stereo is the built-in stereo protocol (simulated stereo scenes with "
                         "ground-truth disparity), not with --sim-bag")
    if own and args.footage is None:
        raise ValueError("--sim-bag needs --footage (your real footage: a video or a folder)")


def _value(given: object, default: object) -> object:
    return default if given is None else given


def build_config(args: argparse.Namespace):
    """The :class:`OwnConfig` for the chosen profile and the flags."""
    from sim2real_gan.eval.features import ROTATIONS, FeatureNetConfig
    from sim2real_gan.eval.own_data import ClipPlan
    from sim2real_gan.eval.own_protocol import OwnConfig
    from sim2real_gan.eval.realism import DomainClassifierConfig
    from sim2real_gan.eval.segmentation import SegmenterConfig

    width, frames, clip, footage, seg, feat, dom, prof, subsets = OWN_PROFILES[args.profile]
    clip = _value(args.frames, clip)
    frames = _value(args.max_frames, frames)
    if clip < 2 or frames < clip:
        raise ValueError(f"--frames (per clip) must be >= 2 and <= --max-frames {frames}, got "
                         f"{clip}")
    plan = ClipPlan(clips=frames // clip, clip_frames=clip, stride=_value(args.stride, 1),
                    profile_frames=prof, image_topic=args.image_topic,
                    labels_topic=args.labels_topic, depth_topic=args.depth_topic,
                    label_channel=_value(args.label_channel, 0), flow=_value(args.flow, "auto"))
    quick = args.profile == "quick"
    return OwnConfig(
        sim_bag=str(args.sim_bag), footage=str(args.footage), width=_value(args.size, width),
        plan=plan, footage_frames=_value(args.footage_frames, footage),
        mask=_value(args.footage_mask, "auto"), black_level=_value(args.black_level, 20.0),
        segmenter=SegmenterConfig(steps=_value(args.segmenter_steps, seg),
                                  width=8 if quick else 16, crop=64),
        feature_net=FeatureNetConfig(num_classes=ROTATIONS, steps=feat, input_size=64),
        domain=DomainClassifierConfig(steps=dom, input_size=64), kid_subsets=subsets,
        inception=str(args.inception) if args.inception else "")


def inputs(args: argparse.Namespace) -> list[Path | None]:
    """The own-data inputs an output must keep off (bag, footage, mask file)."""
    mask = Path(args.footage_mask) if args.footage_mask not in (None, "auto", "content",
                                                                "off") else None
    return [args.sim_bag, args.footage, mask]


def run(args: argparse.Namespace, methods: list, inputs_: list) -> int:
    """Run the own-data protocol for ``methods`` and write the report to ``args.out``."""
    from sim2real_gan.eval.own_protocol import run_own_protocol
    from sim2real_gan.eval.own_report import write_own_report
    from sim2real_gan.io.outputs import staged_output

    cfg = build_config(args)
    result = run_own_protocol(methods, cfg, args.cache_dir, progress=not args.no_progress)
    title = args.title if args.title != "sim2real_gan evaluation" else \
        "sim2real_gan evaluation: your data"
    with staged_output(args.out, "evaluate", inputs_, args.force) as built:
        write_own_report(result, built, title)
    sim = result.data["sim"]
    log.info("temporal metrics used %s (%s)", sim["flow"], sim["flow_note"])
    log.info("report: %s", args.out / "report.md")
    return 0
