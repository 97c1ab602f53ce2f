"""Evaluation report: metrics.json, report.md + report.html and PNG figures, written atomically.

Figures (matplotlib ``Figure`` objects only, no pyplot global state):
``frames.png`` side-by-side frames (input, real rendering, labels, each method);
``temporal_profile.png`` the middle scanline of each frame stacked over time, so
flicker shows as horizontal streaks; ``iou.png`` per-class IoU bars (label
preservation and downstream); ``summary.png`` warping error, KID and mIoU per method.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from sim2real_gan.io.staging import atomic_path
from sim2real_gan.sim.config import CLASS_NAMES, LABEL_COLORS

from .protocol import ProtocolResult

__all__ = ["write_report", "metrics_table", "FIGURES", "md_table", "html_table", "fmt",
           "save_figure", "profile_figure", "HTML_STYLE"]

FIGURES = ("frames.png", "temporal_profile.png", "iou.png", "summary.png")

# (key path, header, format); lower is better unless noted in the header.
COLUMNS = [
    (("warping_error",), "warp err (lower)", "{:.4f}"),
    (("tof",), "tOF (lower)", "{:.3f}"),
    (("ssim",), "SSIM vs input (higher)", "{:.3f}"),
    (("kid",), "KID (lower)", "{:.4f}"),
    (("fid",), "FID (lower)", "{:.2f}"),
    (("domain_accuracy",), "domain acc (0.5 best)", "{:.3f}"),
    (("artifacts", "streak_excess"), "streaks (0 best)", "{:.2f}"),
    (("artifacts", "checker_ratio"), "checkerboard (1 = target)", "{:.2f}"),
    (("label_preservation", "miou"), "label mIoU (higher)", "{:.3f}"),
    (("downstream", "miou"), "downstream mIoU (higher)", "{:.3f}"),
    (("ms_per_frame",), "ms/frame", "{:.1f}"),
]


HTML_STYLE = ("<style>body{font-family:sans-serif;max-width:1200px;margin:auto}"
              "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:3px 6px;"
              "font-size:13px}img{max-width:100%}</style></head><body>")


def _get(d: dict, path: tuple[str, ...]) -> float | None:
    for k in path:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d  # type: ignore[return-value]


def fmt(v: object, spec: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return spec.format(v)


def metrics_table(metrics: dict) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the per-method metrics table."""
    cols = list(COLUMNS)
    extra = [("inception_", "Inception"), ("footage_", "footage"),
             ("footage_inception_", "footage Inception")]
    at = 5
    for prefix, label in extra:
        if any(f"{prefix}kid" in m for m in metrics["methods"].values()):
            cols.insert(at, ((f"{prefix}kid",), f"{label} KID", "{:.4f}"))
            cols.insert(at + 1, ((f"{prefix}fid",), f"{label} FID", "{:.2f}"))
            at += 2
    header = ["method"] + [c[1] for c in cols]
    rows = [[name] + [fmt(_get(m, c[0]), c[2]) for c in cols]
            for name, m in metrics["methods"].items()]
    return header, rows


def md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def html_table(header: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def save_figure(fig: Figure, path: Path) -> None:
    fig.savefig(path, dpi=110, bbox_inches="tight")


def plot_frames(result: ProtocolResult, path: Path, columns: int = 4) -> None:
    """Rows: input, real rendering, labels, each method; columns: frames of the samples."""
    first = next(iter(result.samples.values()))
    s, t = first.shape[:2]
    picks = [(i, j) for i in range(s) for j in np.linspace(0, t - 1, max(1, columns // s),
                                                          dtype=int)][:columns]
    rows = list(result.samples.items())
    rows.insert(2, ("labels", LABEL_COLORS[result.sample_labels]))
    fig = Figure(figsize=(1.8 * len(picks) + 1.5, 1.8 * len(rows)))
    axes = fig.subplots(len(rows), len(picks), squeeze=False)
    for r, (name, arr) in enumerate(rows):
        for c, (i, j) in enumerate(picks):
            ax = axes[r][c]
            ax.imshow(arr[i, j], interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
            if r == 0:
                ax.set_title(f"seq {i} frame {j}", fontsize=8)
    save_figure(fig, path)


def plot_temporal_profile(result: ProtocolResult, path: Path) -> None:
    """The middle scanline of test scene 0 over time (rows = time), one panel per row.

    A temporally consistent output shows smooth vertical structures that follow the
    input's; flicker shows as horizontal streaks.
    """
    profile_figure(result.profiles or {k: v[0] for k, v in result.samples.items()}, path)


def profile_figure(profiles: dict[str, np.ndarray], path: Path) -> None:
    """One panel per name: the middle image row of its (T,H,W,3) frames stacked over time."""
    items = list(profiles.items())
    fig = Figure(figsize=(2.2 * len(items), 3.4))
    axes = fig.subplots(1, len(items), squeeze=False)[0]
    for ax, (name, arr) in zip(axes, items, strict=True):
        h = arr.shape[1]
        ax.imshow(arr[:, h // 2], aspect="auto", interpolation="nearest")
        ax.set_title(name, fontsize=8)
        ax.set_xlabel("x (middle row)", fontsize=7)
        ax.set_yticks([])
    axes[0].set_ylabel(f"time: {items[0][1].shape[0]} frames, down", fontsize=8)
    save_figure(fig, path)


def plot_iou(result: ProtocolResult, path: Path) -> None:
    """Per-class IoU bars: label preservation (real-trained segmenter) and downstream."""
    fig = Figure(figsize=(11, 6.5))
    axes = fig.subplots(2, 1)
    ref = result.reference["segmenter_on_real"]["per_class"]
    panels = [("label preservation: real-trained segmenter on translated sim (vs sim labels)",
               "label_preservation", [("segmenter on real", ref)]),
              ("downstream: segmenter trained on translated sim, tested on real", "downstream", [])]
    x = np.arange(len(CLASS_NAMES))
    colours = {n: f"C{k}" for k, n in enumerate(result.methods)}
    for ax, (title, key, extra) in zip(axes, panels, strict=True):
        series = extra + [(n, m[key]["per_class"]) for n, m in result.methods.items()]
        width = 0.8 / max(len(series), 1)
        for k, (name, vals) in enumerate(series):
            v = np.nan_to_num(np.asarray(vals, dtype=float), nan=0.0)
            ax.bar(x + (k - (len(series) - 1) / 2) * width, v, width, label=name,
                   color=colours.get(name, "0.55"))
        absent = [all(math.isnan(v[i]) for _, v in series) for i in range(len(CLASS_NAMES))]
        ax.set_xticks(x, [c.replace("_", "\n") + ("\n(absent)" if a else "")
                          for c, a in zip(CLASS_NAMES, absent, strict=True)], fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_ylabel("IoU")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7, ncol=min(len(series), 4))
    fig.tight_layout()
    save_figure(fig, path)


def plot_summary(result: ProtocolResult, path: Path) -> None:
    """Warping error, KID and the two mIoUs per method, with reference lines."""
    names = list(result.methods)
    ref = result.reference
    panels = [("warping error (lower)", [m["warping_error"] for m in result.methods.values()],
               [("sim input", ref["warping_error_sim_input"]),
                ("real rendering", ref["warping_error_real_rendering"])]),
              ("KID (lower)", [m["kid"] for m in result.methods.values()],
               [("real, other scenes", ref["kid_real_other_scenes"])]),
              ("label-preservation mIoU", [m["label_preservation"]["miou"]
                                           for m in result.methods.values()],
               [("segmenter on real", ref["segmenter_on_real"]["miou"])]),
              ("downstream mIoU on real", [m["downstream"]["miou"]
                                           for m in result.methods.values()], [])]
    fig = Figure(figsize=(4.2 * len(panels), 3.6))
    axes = fig.subplots(1, len(panels))
    for ax, (title, vals, lines) in zip(axes, panels, strict=True):
        ax.bar(range(len(names)), vals, color="tab:blue")
        for (label, v), style in zip(lines, ("--", ":"), strict=False):
            ax.axhline(v, color="tab:red", linestyle=style, label=label)
        ax.set_xticks(range(len(names)), names, rotation=35, ha="right", fontsize=8)
        ax.set_title(title, fontsize=9)
        if lines:
            ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)


def _targets_rows(targets: list[dict]) -> list[list[str]]:
    def met(v: bool | None) -> str:
        return "n/a" if v is None else ("met" if v else "MISSED")

    return [[t["target"], t["rule"], fmt(t["value"], "{:.4f}"), fmt(t["threshold"], "{:.4f}"),
             met(t["met"])] for t in targets]


def _reference_rows(ref: dict) -> list[list[str]]:
    return [["real-trained segmenter on real test frames (mIoU)",
             fmt(ref["segmenter_on_real"]["miou"], "{:.3f}")],
            ["warping error of the sim input", fmt(ref["warping_error_sim_input"], "{:.4f}")],
            ["warping error of the real rendering of the same scenes",
             fmt(ref["warping_error_real_rendering"], "{:.4f}")],
            ["KID of real frames of other scenes", fmt(ref["kid_real_other_scenes"], "{:.4f}")]]


def _document(metrics: dict, targets: list[dict], title: str) -> tuple[str, str]:
    """(markdown, html) texts of the report."""
    header, rows = metrics_table(metrics)
    cfg, mach = metrics["config"], metrics["machine"]
    setup = (f"{cfg['test_sequences']} held-out test sequences x {cfg['frames']} frames at "
             f"{cfg['width']}x{cfg['height']} (seeds from {cfg['seeds']['test'][0]}); segmenters "
             f"{cfg['segmenter']['steps']} steps; machine: {mach['platform']}, "
             f"{mach['cpu_count']} CPUs, torch {mach['torch']} ({mach['torch_threads']} threads).")
    ref_rows = _reference_rows(metrics["reference"])
    t_head = ["target", "rule", "value", "threshold", "status"]
    t_rows = _targets_rows(targets)
    figs = [("Frames", "frames.png"), ("Temporal profile (middle row over time)",
                                       "temporal_profile.png"),
            ("Summary", "summary.png"), ("Per-class IoU", "iou.png")]
    md = [f"# {title}", "", setup, "", "## Metrics", "", md_table(header, rows), "",
          "## References", "", md_table(["reference", "value"], ref_rows), ""]
    if t_rows:
        md += ["## Targets", "", md_table(t_head, t_rows), ""]
    for cap, f in figs:
        md += [f"## {cap}", "", f"![{cap}]({f})", ""]
    md += ["Raw numbers: `metrics.json`."]
    h = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
         HTML_STYLE,
         f"<h1>{html.escape(title)}</h1><p>{html.escape(setup)}</p>",
         "<h2>Metrics</h2>", html_table(header, rows),
         "<h2>References</h2>", html_table(["reference", "value"], ref_rows)]
    if t_rows:
        h += ["<h2>Targets</h2>", html_table(t_head, t_rows)]
    for cap, f in figs:
        h.append(f"<h2>{html.escape(cap)}</h2><img src='{f}' alt='{html.escape(cap)}'>")
    h.append("<p>Raw numbers: <code>metrics.json</code>.</p></body></html>")
    return "\n".join(md) + "\n", "\n".join(h) + "\n"


def write_report(result: ProtocolResult, out_dir: str | Path, targets: list[dict] | None = None,
                 title: str = "sim2real_gan evaluation", overwrite: bool = False) -> Path:
    """Write metrics.json, report.md, report.html and the figures into ``out_dir``.

    Built beside ``out_dir`` and renamed into place (io.staging.atomic_path), so an
    interrupted run leaves no half report; an existing ``out_dir`` is replaced only with
    ``overwrite`` (the CLI decides that under its --force rule and passes a staged path).
    """
    out = Path(out_dir)
    with atomic_path(out, replace=overwrite) as tmp:
        tmp.mkdir()
        metrics = result.metrics()
        metrics["targets"] = targets or []
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2, allow_nan=True) + "\n",
                                          encoding="utf-8")
        plot_frames(result, tmp / "frames.png")
        plot_temporal_profile(result, tmp / "temporal_profile.png")
        plot_iou(result, tmp / "iou.png")
        plot_summary(result, tmp / "summary.png")
        md, page = _document(metrics, targets or [], title)
        (tmp / "report.md").write_text(md, encoding="utf-8")
        (tmp / "report.html").write_text(page, encoding="utf-8")
    return out
