"""``sim2real-gan bench``: quick smoke run, table/JSON output, argument handling."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from sim2real_gan.benchmark import BenchConfig, BenchRow, Timing, time_calls
from sim2real_gan.benchmark_table import HEADER, format_table, rows_to_json, speedups
from sim2real_gan.cli.bench import summary_lines
from sim2real_gan.cli.main import main


@pytest.mark.slow
def test_bench_quick_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["bench", "--quick", "--threads", "1", "--backends", "onnxruntime-cpu",
               "--batch", "2", "--json", str(tmp_path / "b.json"), "--markdown", str(tmp_path / "b.md")])
    assert rc == 0
    out = capsys.readouterr().out
    assert "engine p50 ms" in out and "torch-eager-fp32-cpu" in out and "batch-2 fps" in out
    doc = json.loads((tmp_path / "b.json").read_text())
    rows = {(r["backend"], r["preset"]): r for r in doc["rows"]}
    assert set(rows) == {("onnxruntime-cpu", "tiny"), ("torch-eager-fp32-cpu", "cyclegan")}
    for r in rows.values():
        assert (r["height"], r["width"]) == (64, 64)
        assert r["engine"]["p99_ms"] >= r["engine"]["p50_ms"] > 0
        assert r["message"]["p50_ms"] > 0 and r["message"]["n"] >= 2
        assert 0 < r["peak_fraction"]
        assert r["batch"] == 2 and r["batch_fps"] > 0
    # the baseline (ResNet-9, ngf 64) costs far more multiply-adds than the tiny model
    assert rows[("torch-eager-fp32-cpu", "cyclegan")]["gmac"] > \
        100 * rows[("onnxruntime-cpu", "tiny")]["gmac"]
    assert doc["info"]["peak_gflops"]["cpu"] > 0
    md = (tmp_path / "b.md").read_text()
    assert md.count("\n|") >= 3 and "| onnxruntime-cpu | tiny | 64x64 |" in md


def test_time_calls_counts_and_budget() -> None:
    calls = []
    cfg = BenchConfig(warmup=2, iters=5, max_seconds=100.0)
    t = time_calls(lambda: calls.append(1), cfg)
    assert len(calls) == 7 and t.n == 5 and t.p99_ms >= t.p50_ms >= 0
    cfg = BenchConfig(warmup=0, iters=1000, max_seconds=0.0, min_iters=3)
    assert time_calls(lambda: None, cfg).n == 3  # budget spent: stop at min_iters


def test_bench_rejects_unknown_backend(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--quick", "--backends", "tensorrt-tpu"]) == 2


def test_resolution_argument_is_width_by_height() -> None:
    from sim2real_gan.cli.bench import _resolutions

    assert _resolutions("1280x720, 256") == [(720, 1280), (256, 256)]


def _row(backend: str, preset: str, h: int, w: int, p50: float, gmac: float = 1.0,
         peak: float = 100.0) -> BenchRow:
    t = Timing(10, p50, 1.5 * p50, 1.0)
    return BenchRow(backend, preset, h, w, gmac, t, Timing(10, 1.1 * p50, 2 * p50, 1.0),
                    2 * gmac * t.fps / peak, precision="fp16 + graphs", peak_gflops=peak)


def test_table_floor_and_speedup_over_the_baseline_of_the_same_device_and_size() -> None:
    rows = [_row("torch-cuda", "base", 512, 512, 2.0, gmac=23.6, peak=400_000.0),
            _row("torch-cuda", "base", 1080, 1920, 8.0),
            _row("onnxruntime-cpu", "base", 512, 512, 50.0),
            _row("torch-eager-fp32-cuda", "cyclegan", 512, 512, 30.0),
            _row("torch-eager-fp32-cpu", "cyclegan", 512, 512, 500.0)]
    # 23.6 GMAC = 47.2 GFLOP at 400 TFLOP/s: 0.118 ms
    assert rows[0].floor_ms == pytest.approx(0.118)
    assert speedups(rows)[0] == pytest.approx(15.0)          # 30 ms / 2 ms, both cuda 512
    assert math.isnan(speedups(rows)[1])                      # no cuda baseline at 1080p
    assert speedups(rows)[2] == pytest.approx(10.0)           # cpu baseline, not the cuda one
    assert speedups(rows)[3] == pytest.approx(1.0)
    md = format_table(rows, markdown=True).splitlines()
    header = [c.strip() for c in md[0].strip("|").split("|")]
    assert header == HEADER
    cells = dict(zip(header, [c.strip() for c in md[2].strip("|").split("|")], strict=True))
    assert cells["floor ms"] == "0.118" and cells["x baseline"] == "15.0x"
    assert cells["precision"] == "fp16 + graphs" and cells["resolution"] == "512x512"
    assert [c.strip() for c in md[3].strip("|").split("|")][HEADER.index("x baseline")] == "-"
    doc = rows_to_json(rows, {"peak_gflops": {}})
    json.dumps(doc, allow_nan=False)  # strict JSON: no baseline is null, not NaN
    assert doc["rows"][1]["speedup_vs_baseline"] is None
    assert doc["rows"][0]["floor_ms"] == pytest.approx(0.118)


def test_summary_lines_name_devices_and_skipped_backends() -> None:
    info = {"peak_gflops": {"cuda": 700_000.0}, "devices": {"cuda": "NVIDIA H200"},
            "skipped": {"tensorrt-cuda": "TensorRT is not installed"}}
    lines = summary_lines("x86_64 Linux", info)
    assert "cuda (NVIDIA H200) 700000 GFLOP/s" in lines[0]
    assert lines[1:] == ["skipped tensorrt-cuda: TensorRT is not installed"]


def test_skip_unavailable_backends_get_a_reason_line(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from test_export_onnx import make_artifact

    art = make_artifact(tmp_path, seeds=1)
    rc = main(["bench", "--quick", "--threads", "1", "--no-baseline", "--model", str(art),
               "--backends", "onnxruntime-cpu,tensorrt-cuda", "--skip-unavailable",
               "--json", str(tmp_path / "b.json")])
    assert rc == 0
    out = capsys.readouterr().out
    assert "skipped tensorrt-cuda: " in out and "TensorRT" in out
    doc = json.loads((tmp_path / "b.json").read_text())
    assert [(r["backend"], r["preset"]) for r in doc["rows"]] == [("onnxruntime-cpu", "artifact")]
    assert set(doc["info"]["skipped"]) == {"tensorrt-cuda"}
    assert main(["bench", "--quick", "--model", str(tmp_path)]) == 2  # not an artifact


def test_engine_step_runs_the_network_on_host_arrays_on_cpu(tmp_path: Path) -> None:
    from sim2real_gan.benchmark_engine import engine_step, precision
    from sim2real_gan.runtime import Translator
    from test_export_onnx import make_artifact

    art = make_artifact(tmp_path, seeds=1)
    t = Translator.from_artifact(art, backend="torch", device="cpu", threads=1)
    out = engine_step(t, 64, 96)()
    assert out.shape == (1, 3, 64, 96) and out.dtype == np.float32
    assert precision(t) == "fp32"
    with pytest.raises(ValueError, match="CUDA"):
        t.backend.run_device(None, None, None)
