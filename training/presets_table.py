"""Print the generator presets table (params, GMAC at 256x256, optional ONNX Runtime latency).

Usage: ``python -m training.presets_table [--ort] [--threads 2]``.
GMAC counts conv/linear multiply-accumulates with torch.utils.flop_counter.
"""

from __future__ import annotations

import argparse
import io
import time

import torch
from sim2real_gan.models import (
    PRESETS,
    build_generator,
    build_style_encoder,
    count_gmac,
    count_params,
    generator_inputs,
)


def ort_latency_ms(preset: str, size: int = 256, threads: int = 2, runs: int = 20) -> float:
    """Median ONNX Runtime CPU latency of one (1,3,size,size) frame, in ms."""
    import onnxruntime as ort

    cfg = PRESETS[preset]
    g = build_generator(cfg).eval()
    image, style, _ = generator_inputs(cfg, size, size)
    image = torch.rand_like(image) * 2 - 1
    args = (image, style) if style is not None else (image,)
    names = ["image", "style"][: len(args)]
    f = io.BytesIO()
    torch.onnx.export(g, args, f, dynamo=False, opset_version=17, input_names=names,
                      output_names=["output"])
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    sess = ort.InferenceSession(f.getvalue(), so, providers=["CPUExecutionProvider"])
    feed = {n: a.numpy() for n, a in zip(names, args, strict=True)}
    for _ in range(3):
        sess.run(None, feed)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        sess.run(None, feed)
        times.append((time.perf_counter() - t) * 1000)
    return sorted(times)[len(times) // 2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ort", action="store_true", help="also time ONNX Runtime on the CPU")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    head = "| preset | arch | generator params | style encoder params | GMAC @256x256 |"
    print(head + (" ORT CPU ms @256 |" if args.ort else ""))
    print("|---" * (6 if args.ort else 5) + "|")
    for name, cfg in PRESETS.items():
        g = build_generator(cfg)
        enc = (count_params(build_style_encoder(cfg))
               if cfg.style_dim else 0)
        row = (f"| {name} | {cfg.arch} | {count_params(g):,} | {enc:,} | "
               f"{count_gmac(g, cfg, 256, 256):.3f} |")
        if args.ort:
            row += f" {ort_latency_ms(name, threads=args.threads):.1f} |"
        print(row)


if __name__ == "__main__":
    main()
