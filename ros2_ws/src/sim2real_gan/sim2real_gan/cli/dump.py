"""``sim2real-gan dump BAG OUT``: a bag's image and label topics as PNG/NPZ + a contact sheet.

For users without ROS or Foxglove: see their recordings and translated bags as files
(docs/dump.md). Writes through ``io.outputs.staged_output`` (marker, ``--force`` rule,
atomic: an interrupted or failed dump leaves nothing).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from sim2real_gan.cli.argtypes import non_negative_int, positive_int

log = logging.getLogger("sim2real_gan.dump")


def _channel(text: str) -> int:
    from sim2real_gan.cli.evaluate_own import label_channel

    return label_channel(text)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dump", help="write a bag's image/label topics as PNG/NPZ files with a "
                       "contact sheet",
                       description="Dump the image topics of a rosbag2 (colour images as PNG; "
                       "labels as raw class-id PNG + colourised PNG; depth, disparity and flow "
                       "as NPZ + a picture; masks as PNG) into OUT/<topic>/, with "
                       "OUT/contact_sheet.png (one row per topic, evenly spaced frames) and "
                       "OUT/index.json. Gazebo recordings (3-channel labels_map, depth +inf) "
                       "and this project's bags alike (docs/dump.md).")
    p.add_argument("bag", type=Path, help="rosbag2 folder or .mcap/.db3 file")
    p.add_argument("out", type=Path, help="folder to create")
    p.add_argument("--topics", nargs="+", default=[], metavar="TOPIC",
                   help="image topics to dump (default: every sensor_msgs/Image and "
                   "stereo_msgs/DisparityImage topic)")
    p.add_argument("--every", type=positive_int, default=1,
                   help="keep every N-th message of each topic (default 1)")
    p.add_argument("--max", type=non_negative_int, default=0,
                   help="at most N messages per topic (default 0 = all)")
    p.add_argument("--label-channel", type=_channel, default=0,
                   help="channel of a 3-channel labels image holding the class id (default 0; "
                   "Gazebo panoptic labels_map: 2)")
    p.add_argument("--sheet-frames", type=positive_int, default=6,
                   help="frames per topic on the contact sheet (default 6)")
    p.add_argument("--force", action="store_true",
                   help="replace OUT if it is a previous dump (docs/safety.md)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sim2real_gan.dump.bag_dump import SHEET, DumpConfig, dump_bag
    from sim2real_gan.io.outputs import check_output, staged_output

    cfg = DumpConfig(topics=tuple(args.topics), every=args.every, max=args.max,
                     label_channel=args.label_channel, sheet_frames=args.sheet_frames)
    check_output(args.out, "dump", [args.bag], args.force)
    if not args.bag.exists():
        raise FileNotFoundError(f"bag {args.bag} does not exist")
    with staged_output(args.out, "dump", [args.bag], args.force) as built:
        dumps = dump_bag(args.bag, built, cfg)
    for d in dumps:
        log.info("%s: %s %s, %d of %d messages dumped%s -> %s/", d.topic, d.kind or "-",
                 d.encoding, d.dumped, d.messages,
                 f", {d.skipped} skipped (undecodable)" if d.skipped else "",
                 args.out / d.folder)
    log.info("contact sheet: %s", args.out / SHEET)
    return 0
