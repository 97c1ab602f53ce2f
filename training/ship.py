"""Copy a training checkpoint's generator files into a model directory (models/default).

    python -m training.ship runs/rt models/default

Copies ``generator.safetensors``, ``config.json`` and ``style_encoder.safetensors`` (each
atomically); trainer state stays behind. Prints the step and the last logged losses.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path

from .nets import resolve_generator_dir

FILES = ("generator.safetensors", "config.json", "style_encoder.safetensors")


def ship(src: str | Path, dst: str | Path) -> dict:
    src, dst = resolve_generator_dir(src), Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        if not (src / name).is_file():
            continue
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=dst)
        os.close(fd)
        shutil.copyfile(src / name, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dst / name)
    return json.loads((dst / "config.json").read_text())["meta"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", help="run directory or checkpoints/step_N directory")
    ap.add_argument("dst", help="model directory, e.g. models/default")
    args = ap.parse_args()
    meta = ship(args.src, args.dst)
    print(f"step {meta.get('step')}: " + ", ".join(
        f"{k}={v:.4f}" for k, v in sorted(meta.get("losses", {}).items())
        if isinstance(v, float)))


if __name__ == "__main__":
    main()
