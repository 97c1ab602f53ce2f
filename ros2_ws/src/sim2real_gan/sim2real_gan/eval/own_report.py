"""Own-data evaluation report: metrics.json, report.md, report.html and PNG figures.

Same files as the built-in protocol's report (``report.py``), written into a folder the
caller stages (``io.outputs.staged_output``: atomic, marker, ``--force`` rule):
``frames.png`` each method (the first, "no translation", is the sim input) | labels |
footage samples (outside the content
mask dimmed: those pixels are not scored); ``temporal_profile.png`` the middle row of a
longer consecutive run over time; ``summary.png`` warping error, KID, domain accuracy and
label mIoU per method with the raw-sim row as reference; ``iou.png`` per-class IoU (when
the bag has labels).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from sim2real_gan.dump.visual import label_colors

from .own_protocol import OwnResult
from .report import HTML_STYLE, fmt, html_table, md_table, profile_figure, save_figure

__all__ = ["write_own_report", "own_table", "OWN_FIGURES"]

OWN_FIGURES = ("frames.png", "temporal_profile.png", "summary.png")


def _columns(metrics: dict) -> list[tuple[tuple[str, ...], str, str]]:
    flow = metrics["data"]["sim"]["flow"]
    cols = [(("warping_error",), f"warp err, {flow} (lower)", "{:.5f}"),
            (("tof",), "tOF vs input (lower)", "{:.3f}"),
            (("ssim",), "SSIM vs input", "{:.3f}"),
            (("kid",), "KID vs footage (lower)", "{:.4g}"),
            (("fid",), "FID vs footage (lower)", "{:.4g}")]
    if any("inception_kid" in m for m in metrics["methods"].values()):
        cols += [(("inception_kid",), "Inception KID", "{:.4g}"),
                 (("inception_fid",), "Inception FID", "{:.4g}")]
    cols.append((("domain_accuracy",), "domain acc vs footage (0.5 best)", "{:.3f}"))
    if any("label_preservation" in m for m in metrics["methods"].values()):
        cols.append((("label_preservation", "miou"), "label mIoU, sim-trained segmenter",
                     "{:.3f}"))
    cols.append((("ms_per_frame",), "ms/frame", "{:.1f}"))
    return cols


def own_table(metrics: dict) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the per-method table; the first row is "no translation"."""
    def get(d: dict, path: tuple[str, ...]) -> object:
        for k in path:
            d = d.get(k) if isinstance(d, dict) else None  # type: ignore[assignment]
        return d

    cols = _columns(metrics)
    header = ["method"] + [c[1] for c in cols]
    rows = [[name] + [fmt(get(m, c[0]), c[2]) for c in cols]
            for name, m in metrics["methods"].items()]
    return header, rows


def _data_rows(metrics: dict) -> list[list[str]]:
    sim, ft, ref = metrics["data"]["sim"], metrics["data"]["footage"], metrics["reference"]
    h, w = metrics["data"]["eval_size"]
    lp = ref.get("label_preservation", {})
    return [
        ["sim bag", f"{sim['path']}: {sim['clips']} clips x {sim['clip_frames']} frames "
                    f"(stride {sim['stride']}) of {sim['frames_matched']} frames, "
                    f"{sim['native_size'][1]}x{sim['native_size'][0]}; topics "
                    + ", ".join(f"{k}={t}" for k, t in sim["topics"].items())],
        ["footage", f"{ft['path']}: {ft['frames']} frames ({ft['kind']}, "
                    f"{ft['native_size'][1]}x{ft['native_size'][0]}); {ft['mask']}"],
        ["evaluated at", f"{w}x{h}: footage cropped to its content box, sim frames centre-"
                         f"cropped to that aspect; realism scored inside the content mask "
                         f"({100 * ft['mask_fraction']:.0f}% of the frame) on both sides"],
        ["temporal flow", f"{sim['flow']}: {sim['flow_note']}; "
                          f"{100 * sim['flow_valid_fraction']:.0f}% of pixels valid"],
        ["label preservation", lp.get("note") or f"{lp.get('trained_on')}, scored on "
                                                 f"{lp.get('scored_on')}"],
        ["KID / FID of footage (2nd half vs 1st half)",
         f"{fmt(ref['kid_footage_halves'], '{:.4g}')} / {fmt(ref['fid_footage_halves'], '{:.4g}')}"
         " (how far the footage is from itself: a scale, not a floor)"],
    ]


def plot_frames(r: OwnResult, path: Path) -> None:
    """Rows: the first method (the sim input), labels, the other methods, footage (unscored
    pixels dimmed)."""
    rows = list(r.samples.items())
    if r.sample_labels is not None:
        rows.insert(1, ("labels", np.stack([label_colors(x) for x in r.sample_labels])))
    dim = np.where(r.mask[None, :, :, None], r.footage, r.footage // 3).astype(np.uint8)
    rows.append(("footage (dim: not scored)", dim))
    k = min(len(a) for _, a in rows)
    fig = Figure(figsize=(1.9 * k + 1.8, 1.9 * len(rows) * r.mask.shape[0] / r.mask.shape[1]))
    axes = fig.subplots(len(rows), k, squeeze=False)
    for i, (name, arr) in enumerate(rows):
        for j in range(k):
            ax = axes[i][j]
            ax.imshow(arr[j], interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    save_figure(fig, path)


def plot_summary(metrics: dict, path: Path) -> None:
    """Bars per method; the raw-sim row ("no translation") is also drawn as a line."""
    meth = metrics["methods"]
    names = list(meth)
    panels = [("warping error (lower)", "warping_error"), ("KID vs footage (lower)", "kid"),
              ("domain acc (0.5 best)", "domain_accuracy")]
    if all("label_preservation" in m for m in meth.values()):
        panels.append(("label mIoU (higher)", "label_preservation"))
    fig = Figure(figsize=(4.0 * len(panels), 3.6))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (title, key) in zip(axes, panels, strict=True):
        vals = [m[key]["miou"] if key == "label_preservation" else m[key] for m in meth.values()]
        ax.bar(range(len(names)), vals, color="tab:blue")
        ax.axhline(vals[0], color="tab:red", linestyle="--", label=f"{names[0]} (raw sim)")
        ax.set_xticks(range(len(names)), names, rotation=35, ha="right", fontsize=8)
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)


def plot_iou(metrics: dict, path: Path) -> None:
    """Per-class IoU of the sim-trained segmenter on each method's held-out frames."""
    ids = metrics["class_ids"]
    meth = metrics["methods"]
    fig = Figure(figsize=(max(6.0, 0.6 * len(ids) * len(meth)), 3.8))
    ax = fig.subplots()
    width = 0.8 / len(meth)
    for k, (name, m) in enumerate(meth.items()):
        v = np.nan_to_num(np.asarray(m["label_preservation"]["per_class"], float), nan=0.0)
        ax.bar(np.arange(len(ids)) + (k - (len(meth) - 1) / 2) * width, v, width, label=name)
    ax.set_xticks(range(len(ids)), [f"id {i}" for i in ids], fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("IoU")
    ax.set_title("label preservation per class (segmenter trained on raw sim frames)", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)


def _document(metrics: dict, title: str, figures: list[tuple[str, str]]) -> tuple[str, str]:
    header, rows = own_table(metrics)
    data = _data_rows(metrics)
    mach = metrics["machine"]
    setup = (f"Your simulator bag against your footage. \"no translation\" is the raw sim "
             f"input: read every number against it. Machine: {mach['platform']}, "
             f"{mach['cpu_count']} CPUs, torch {mach['torch']} ({mach['torch_threads']} threads).")
    md = [f"# {title}", "", setup, "", "## Metrics", "", md_table(header, rows), "",
          "## Data", "", md_table(["", ""], data), ""]
    for cap, f in figures:
        md += [f"## {cap}", "", f"![{cap}]({f})", ""]
    md += ["Raw numbers: `metrics.json`. What each number means: docs/evaluation.md "
           "\"Your own data\"."]
    h = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
         HTML_STYLE, f"<h1>{html.escape(title)}</h1><p>{html.escape(setup)}</p>",
         "<h2>Metrics</h2>", html_table(header, rows), "<h2>Data</h2>",
         html_table(["", ""], data)]
    for cap, f in figures:
        h.append(f"<h2>{html.escape(cap)}</h2><img src='{f}' alt='{html.escape(cap)}'>")
    h.append("<p>Raw numbers: <code>metrics.json</code>.</p></body></html>")
    return "\n".join(md) + "\n", "\n".join(h) + "\n"


def write_own_report(result: OwnResult, out_dir: str | Path,
                     title: str = "sim2real_gan evaluation: your data") -> Path:
    """Write the report files into ``out_dir`` (created; must not exist: the caller stages
    it through ``io.outputs.staged_output``)."""
    out = Path(out_dir)
    out.mkdir(parents=True)
    metrics = result.metrics()
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, allow_nan=True) + "\n",
                                      encoding="utf-8")
    plot_frames(result, out / "frames.png")
    profile_figure(result.profiles, out / "temporal_profile.png")
    plot_summary(metrics, out / "summary.png")
    figures = [("Frames (sim input, labels, each method, footage)", "frames.png"),
               ("Temporal profile (middle row over time)", "temporal_profile.png"),
               ("Summary", "summary.png")]
    if result.class_ids and all("label_preservation" in m for m in metrics["methods"].values()):
        plot_iou(metrics, out / "iou.png")
        figures.append(("Per-class IoU", "iou.png"))
    md, page = _document(metrics, title, figures)
    (out / "report.md").write_text(md, encoding="utf-8")
    (out / "report.html").write_text(page, encoding="utf-8")
    return out
