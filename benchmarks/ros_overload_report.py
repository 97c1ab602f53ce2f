"""Numbers and table of one ``ros_overload.py`` run (no ROS needed: plain data in).

``analyse`` turns the publisher's send log, the node's 1 Hz counter reports and the probe's
receive log into one run's numbers; ``table`` prints runs as a markdown table;
``summary`` aggregates runs per variant.
"""

from __future__ import annotations

from typing import Any

import numpy as np

NS = "/sim/camera"
INPUTS = ("image_raw", "camera_info", "segmentation", "depth")
NODE_KEYS = {"image": "image_raw", "camera_info": "camera_info",
             f"{NS}/segmentation": "segmentation", f"{NS}/depth": "depth"}
WINDOW_S = 10.0


def percentiles(values: list[float]) -> dict[str, float]:
    """p50 / p99 / max (NaN for no values)."""
    a = np.asarray(values, dtype=np.float64)
    if a.size == 0:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    return {"p50": float(np.percentile(a, 50)), "p99": float(np.percentile(a, 99)),
            "max": float(a.max())}


def _grew(prev: dict[str, Any], cur: dict[str, Any] | None, key: str) -> bool:
    return cur is not None and cur["received"].get(key, 0) > prev["received"].get(key, 0)


def silences(reports: list[dict[str, Any]], t0_ns: int, silent_s: float) -> dict[str, Any]:
    """Per non-image input: stretches of >= ``silent_s`` in which the node received none of
    it while images kept arriving -> {input: {"from_s" (first stretch), "silent_s" (all),
    "until_end"}}."""
    out: dict[str, Any] = {}
    for key, name in NODE_KEYS.items():
        if name == "image_raw":
            continue
        since = None  # the report after which the input stopped arriving
        for prev, cur in zip(reports, [*reports[1:], None], strict=True):
            if since is None and _grew(prev, cur, "image") and not _grew(prev, cur, key):
                since = prev
            elif since is not None and (_grew(prev, cur, key) or cur is None):
                length = ((cur or prev)["wall_ns"] - since["wall_ns"]) / 1e9
                if length >= silent_s:
                    entry = out.setdefault(name, {"from_s": (since["wall_ns"] - t0_ns) / 1e9,
                                                  "silent_s": 0.0})
                    entry["silent_s"] += length
                    entry["until_end"] = cur is None
                since = None
    return out


def analyse(t0: int, t1: int, pub: dict[str, Any], reports: list[dict[str, Any]],
            probe: dict[str, list[tuple[int, int]]], silent_s: float) -> dict[str, Any]:
    """One run's numbers (t0/t1: first send / end of the measured span, wall ns)."""
    n_win = max(1, int((t1 - t0) / 1e9 / WINDOW_S + 0.05))  # whole windows measured
    out_img = [(r, s) for r, s in probe["out/image_raw"] if s >= t0]

    def per_window(times: list[int]) -> list[float]:
        idx = (np.asarray(times, dtype=np.int64) - t0) // int(WINDOW_S * 1e9)
        counts = np.bincount(idx[(idx >= 0) & (idx < n_win)], minlength=n_win)
        return [round(float(c) / WINDOW_S, 1) for c in counts]

    lat = [(r - s) / 1e6 for r, s in out_img]
    image_stamps = {s for _, s in probe["out/image_raw"]}
    final = reports[-1] if reports else {"received": {}, "frame_drops": {}, "published": 0}
    sent = pub["sent_at_ns"]
    span_s = max((sent[-1] - sent[0]) / 1e9, 1e-9) if len(sent) > 1 else float("nan")
    received = {n: final["received"].get(k, 0) for k, n in NODE_KEYS.items()}
    names = {"image": "image_raw", "camera_info": "camera_info"}
    return {
        "sent": len(sent), "sent_hz": per_window(sent),
        "missed_slots": pub["missed_slots"], "publish_ms": pub["publish_ms"],
        "out_hz": per_window([r for r, _ in out_img]),
        "latency_ms": percentiles(lat), "published": final["published"],
        "node_received": received,
        "node_rate_hz": {n: round(c / span_s, 1) for n, c in received.items()},
        "control_received": {t: len(probe[f"in/{t}"]) for t in INPUTS if f"in/{t}" in probe},
        "frame_drops": final["frame_drops"], "message_drops": final.get("message_drops", {}),
        "missing": {names.get(k, k.rsplit("/", 1)[-1]): n
                    for k, n in final.get("missing", {}).items()},
        "qos": final.get("qos", ""),
        "silent": silences(reports, t0, silent_s),
        "probe_images": len(image_stamps),
        "labels_without_image": sum(s not in image_stamps for t in INPUTS[1:]
                                    for _, s in probe[f"out/{t}"]),
    }


def node_warnings(lines: list[str]) -> dict[str, int]:
    """The node's own input warnings in its log: silent / resumed / incompatible QoS."""
    return {"went_silent": sum("went silent" in ln for ln in lines),
            "resumed": sum("resumed after" in ln for ln in lines),
            "incompatible_qos": sum("offers a QoS this subscription cannot match" in ln
                                    for ln in lines)}


def _fmt(d: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(d.items())) or "none"


def _drops(r: dict[str, Any]) -> str:
    drops = dict(r["frame_drops"])
    text = _fmt(drops)
    if r.get("missing") and "incomplete" in drops:
        text = text.replace(f"incomplete {drops['incomplete']}",
                            f"incomplete {drops['incomplete']} (missing {_fmt(r['missing'])})")
    return text


def table(results: list[dict[str, Any]], control: bool) -> str:
    """Markdown table, one row per run."""
    head = ("| run | variant | out Hz per 10 s | latency p50 / p99 ms | sent (slots missed) | "
            "node got Hz img / ci / seg / depth |" + (" control got img / ci / seg / depth |"
                                                     if control else "") +
            " silent in node (probe) | node warnings silent / resumed | frame drops | "
            "RSS start -> end MiB | depth publish() p99 / max ms |")
    rows = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        got = " / ".join(f"{r['node_rate_hz'][t]:.1f}" for t in INPUTS)
        ctl = (" " + " / ".join(str(r["control_received"][t]) for t in INPUTS) + " |"
               if control else "")
        silent = "; ".join(f"{k} from {v['from_s']:.0f} s for {v['silent_s']:.0f} s"
                           + (" (to end)" if v["until_end"] else "")
                           for k, v in r["silent"].items()) or "none"
        lat, pd, w = r["latency_ms"], r["publish_ms"]["depth"], r["node_warnings"]
        rows.append(
            f"| {r['run']} | {r['variant']} | {' '.join(f'{h:.1f}' for h in r['out_hz'])} | "
            f"{lat['p50']:.0f} / {lat['p99']:.0f} | {r['sent']} ({r['missed_slots']}) | "
            f"{got} |{ctl} {silent} | {w['went_silent']} / {w['resumed']} | {_drops(r)} | "
            f"{r['rss_mib'][0]:.0f} -> {r['rss_mib'][1]:.0f} | {pd['p99']:.1f} / "
            f"{pd['max']:.1f} |")
    return "\n".join(rows)


def summary(results: list[dict[str, Any]]) -> str:
    """Per variant: runs, runs with an input silent to the end, output Hz (median of the
    10 s windows over all runs, and the lowest window), latency p50 / p99 (median over
    runs), depth received by the node as a share of sent."""
    head = ("| variant | runs | runs with an input silent to the end | out Hz median window "
            "(lowest) | latency p50 / p99 ms (median of runs) | node got depth / sent |")
    rows = [head, "|" + "---|" * (head.count("|") - 1)]
    for variant in dict.fromkeys(r["variant"] for r in results):
        runs = [r for r in results if r["variant"] == variant]
        stalls = sum(any(v.get("until_end") for v in r["silent"].values()) for r in runs)
        windows = [h for r in runs for h in r["out_hz"]]
        p50 = np.median([r["latency_ms"]["p50"] for r in runs])
        p99 = np.median([r["latency_ms"]["p99"] for r in runs])
        share = [r["node_received"]["depth"] / max(r["sent"], 1) for r in runs]
        rows.append(f"| {variant} | {len(runs)} | {stalls} | {np.median(windows):.1f} "
                    f"({min(windows):.1f}) | {p50:.0f} / {p99:.0f} | "
                    f"{min(share):.0%} - {max(share):.0%} |")
    return "\n".join(rows)
