"""``sim2real-gan bench``: quick smoke run, table/JSON output, argument handling."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sim2real_gan.benchmark import BenchConfig, time_calls
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
