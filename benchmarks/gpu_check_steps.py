"""Two steps of the GPU check (benchmarks/gpu_check.py) that run in their own process:

    python benchmarks/gpu_check_steps.py env OUT.json
    python benchmarks/gpu_check_steps.py check ARTIFACT OUT.json --sizes 512x512,1920x1080 \
        --backends torch-cuda,onnxruntime-cuda [--strip STRIP.jpg]

``env`` records what the machine has (GPU, driver, torch and its CUDA/cuDNN, TF32 switches,
ONNX Runtime and its providers, TensorRT). ``check`` translates simulator frames A, B, A
with each backend and compares them with ONNX Runtime CPU FP32 on the same frames, in 8-bit
levels: FP16 and CUDA graphs must compute the same function, and a replayed graph must
follow its new input (a graph stuck on its capture-time input would repeat A for B).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np

STRIP_HEIGHT = 256  # rows of the picture written by ``check --strip``


def _run(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"({argv[0]}: {exc})"


def env_info() -> dict:
    """Versions and devices, as plain JSON values."""
    import onnxruntime as ort
    import torch
    from sim2real_gan.benchmark import unavailable_reason

    cuda = torch.cuda.is_available()
    info = {
        "python": sys.version.split()[0], "machine": platform.machine(),
        "torch": torch.__version__, "torch_cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if cuda else None,
        "gpu": torch.cuda.get_device_name() if cuda else None,
        "gpu_capability": list(torch.cuda.get_device_capability()) if cuda else None,
        "tf32_conv": torch.backends.cudnn.allow_tf32,
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
        "onnxruntime": ort.__version__, "ort_providers": ort.get_available_providers(),
        "nvidia_smi": _run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total,"
                            "clocks.max.sm", "--format=csv,noheader"]) if cuda else None,
        "unavailable": {b: unavailable_reason(b) for b in
                        ("torch-cuda", "onnxruntime-cuda", "tensorrt-cuda")},
    }
    return info


def _sim_frames(h: int, w: int) -> list[np.ndarray]:
    """Two simulator frames (``sim`` look) of different scenes, uint8 (H,W,3)."""
    from sim2real_gan.sim.config import SimConfig
    from sim2real_gan.sim.simulator import EndoscopeSimulator

    return [next(iter(EndoscopeSimulator(SimConfig(width=w, height=h, appearances=("sim",)),
                                         seed).frames(1))).image("sim") for seed in (11, 12)]


def _diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(np.int16) - b.astype(np.int16))


def check_backend(artifact: Path, label: str, frames: list[np.ndarray],
                  refs: list[np.ndarray]) -> tuple[dict, np.ndarray]:
    """Frames A, B, A through backend ``label``: differences to the references and whether
    B's output differs from A's as much as the references do -> (row, output for A)."""
    from sim2real_gan.runtime import Translator

    name, device = label.rsplit("-", 1)
    t = Translator.from_artifact(artifact, backend=name, device=device)
    order = [0, 1, 0]
    outs = [t.translate(frames[i]) for i in order]
    d = np.concatenate([_diff(o, refs[i]).ravel() for o, i in zip(outs, order, strict=True)])
    ref_ab = float(_diff(refs[0], refs[1]).mean())
    out_ab = float(_diff(outs[0], outs[1]).mean())
    row = {"backend": label, "mean": float(d.mean()), "p99": float(np.percentile(d, 99)),
           "max": int(d.max()), "a_vs_b_out": out_ab, "a_vs_b_ref": ref_ab,
           "follows_input": out_ab > 0.5 * ref_ab}
    t.close()
    return row, outs[0]


def check(artifact: Path, sizes: list[tuple[int, int]], backends: list[str],
          strip: Path | None) -> dict:
    """Every (size, backend) row against ONNX Runtime CPU FP32; a strip at the first size:
    sim input | each backend's output | reference."""
    import cv2
    from sim2real_gan.runtime import Translator

    rows: list[dict] = []
    pictures: list[np.ndarray] = []
    for idx, (h, w) in enumerate(sizes):
        frames = _sim_frames(h, w)
        ref_t = Translator.from_artifact(artifact, backend="onnxruntime", device="cpu")
        refs = [ref_t.translate(f) for f in frames]
        outs_a = []
        for label in backends:
            try:
                row, out = check_backend(artifact, label, frames, refs)
            except Exception as exc:  # one backend failing must not hide the others' rows
                rows.append({"resolution": f"{w}x{h}", "backend": label,
                             "error": f"{type(exc).__name__}: {exc}"[:300]})
                continue
            rows.append({"resolution": f"{w}x{h}", **row})
            outs_a.append(out)
        if idx == 0:
            pictures = [frames[0], *outs_a, refs[0]]
    if strip is not None and pictures:
        scale = STRIP_HEIGHT / pictures[0].shape[0]
        small = [cv2.resize(p, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
                 for p in pictures]
        cv2.imwrite(str(strip), cv2.cvtColor(np.concatenate(small, 1), cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, 90])
    return {"reference": "onnxruntime-cpu (FP32 graph)", "rows": rows}


def _sizes(text: str) -> list[tuple[int, int]]:
    """'512x512,1920x1080' (W x H) -> [(H, W), ...]."""
    out = []
    for item in text.split(","):
        w, h = (int(v) for v in item.lower().split("x"))
        out.append((h, w))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="gpu_check_steps.py")
    sub = p.add_subparsers(dest="step", required=True)
    e = sub.add_parser("env")
    e.add_argument("out", type=Path)
    c = sub.add_parser("check")
    c.add_argument("artifact", type=Path)
    c.add_argument("out", type=Path)
    c.add_argument("--sizes", type=_sizes, required=True)
    c.add_argument("--backends", required=True)
    c.add_argument("--strip", type=Path, default=None)
    args = p.parse_args(argv)
    if args.step == "env":
        doc = env_info()
    else:
        doc = check(args.artifact, args.sizes, [b for b in args.backends.split(",") if b],
                    args.strip)
    args.out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(doc, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
