"""Stereo evaluation report: metrics.json, report.md (table + targets) and stereo.png.

Written into a folder the caller stages (``io.outputs.staged_output``), so the whole report
appears atomically. ``stereo.png``: one row per evaluated row, first frame of the first
scene: left | right | SGBM disparity (black = no estimate), and the ground truth on top.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np

from .stereo import StereoResult

__all__ = ["stereo_table", "write_stereo_report", "STEREO_FILES"]

STEREO_FILES = ("metrics.json", "report.md", "stereo.png")
COLUMNS = [("lr_warping_error", "LR warp err (lower)", "{:.5f}"),
           ("sgbm_epe", "SGBM EPE px (lower)", "{:.3f}"),
           ("sgbm_bad3", "SGBM bad-3px (lower)", "{:.3f}"),
           ("sgbm_density", "SGBM density", "{:.3f}"),
           ("sgbm_epe_interior", "SGBM EPE interior px", "{:.3f}"),
           ("ms_per_frame", "ms/eye frame", "{:.1f}")]


def _fmt(v: object, spec: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return spec.format(v)


def stereo_table(rows: dict[str, dict]) -> str:
    """Markdown table of every row (lower is better except density)."""
    header = ["row"] + [c[1] for c in COLUMNS]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, r in rows.items():
        lines.append("| " + " | ".join([name] + [_fmt(r.get(k), f) for k, _, f in COLUMNS])
                     + " |")
    return "\n".join(lines)


def _targets_md(targets: list[dict]) -> str:
    if not targets:
        return "(no model given: no targets checked)"
    lines = ["| row | target | rule | value | threshold | met |", "|---|---|---|---|---|---|"]
    for t in targets:
        lines.append(f"| {t['row']} | {t['target']} | {t['rule']} | {t['value']:.5g} | "
                     f"{t['threshold']:.5g} | {'met' if t['met'] else 'MISSED'} |")
    return "\n".join(lines)


def _colour(disp: np.ndarray, hi: float) -> np.ndarray:
    ok = np.isfinite(disp)
    scaled = np.clip(255 * np.nan_to_num(disp) / max(hi, 1e-6), 0, 255).astype(np.uint8)
    rgb = cv2.applyColorMap(scaled, cv2.COLORMAP_VIRIDIS)[..., ::-1].copy()
    rgb[~ok] = 0
    return rgb


def _figure(result: StereoResult) -> np.ndarray:
    hi = float(np.nanmax(result.truth)) if np.isfinite(result.truth).any() else 1.0
    rows = []
    truth = _colour(result.truth[0], hi)
    blank = np.zeros_like(truth)
    entries = [("ground truth disparity", blank, blank, truth)]
    entries += [(name, s[0][0], s[1][0], _colour(s[2][0], hi)) for name, s in
                result.samples.items()]
    for name, left, right, disp in entries:
        row = np.concatenate([left, right, disp], axis=1)
        label = np.zeros((18, row.shape[1], 3), np.uint8)
        cv2.putText(label, name, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1,
                    cv2.LINE_AA)
        rows += [label, row]
    return np.concatenate(rows, axis=0)


def write_stereo_report(result: StereoResult, out: Path, targets: list[dict],
                        title: str = "sim2real_gan stereo evaluation") -> None:
    """Write metrics.json, report.md and stereo.png into the (new, staged) folder ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    metrics = {**result.metrics(), "targets": targets}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, default=float) + "\n")
    cfg, m = result.config, result.machine
    text = [f"# {title}", "",
            f"{cfg['sequences']} held-out stereo scenes (seeds from {cfg['seeds'][0]}) x "
            f"{cfg['frames']} frames, {cfg['width']}x{cfg['height']} per eye, baseline "
            f"{1000 * cfg['baseline_m']:.1f} mm; SGBM {cfg['sgbm']['num_disparities']} "
            f"disparities, block {cfg['sgbm']['block_size']}, left-right check "
            f"{cfg['sgbm']['lr_check_px']} px. Machine: {m['platform']}, {m['cpu_count']} "
            f"CPUs, torch {m['torch']} ({m['torch_threads']} threads).", "",
            stereo_table(result.rows), "", "## Targets", "", _targets_md(targets), "",
            "![stereo](stereo.png)", ""]
    (out / "report.md").write_text("\n".join(text))
    cv2.imwrite(str(out / "stereo.png"), _figure(result)[..., ::-1])
