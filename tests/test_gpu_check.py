"""The GPU check (scripts/gpu_check.sh): its report builder, and its CPU dry run end to end
(the same stages and table as on a lent GPU, at tiny sizes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from gpu_check_report import SPEED_HEADER, report, speed_table, verdict  # noqa: E402


def _row(backend: str, preset: str, w: int, h: int, e50: float, e99: float, m50: float,
         m99: float, speedup: float | None = None) -> dict:
    return {"backend": backend, "preset": preset, "width": w, "height": h, "gmac": 23.6,
            "precision": "fp16 + graphs", "floor_ms": 0.06, "speedup_vs_baseline": speedup,
            "engine": {"p50_ms": e50, "p99_ms": e99, "fps": 1000 / e50},
            "message": {"p50_ms": m50, "p99_ms": m99, "fps": 1000 / m50}}


def test_verdict_against_the_design_targets() -> None:
    ok = _row("torch-cuda", "base_footage", 512, 512, 2.0, 2.5, 3.0, 4.4)
    assert verdict(ok) == "300 fps: met / met"
    slow = _row("torch-cuda", "base_footage", 1920, 1080, 20.0, 21.0, 15.0, 40.0)
    assert verdict(slow) == "60 fps: missed (50 < 60 fps) / missed (p99 2.67x p50)"
    assert verdict(_row("torch-eager-fp32-cuda", "cyclegan", 512, 512, 30, 31, 32, 33)) == "-"
    assert verdict(_row("onnxruntime-cpu", "base", 512, 512, 30, 31, 32, 33)) == "-"
    assert verdict(_row("torch-cuda", "base", 256, 256, 1, 1, 1, 1)) == "-"


def test_speed_table_has_one_row_per_bench_row() -> None:
    rows = [_row("torch-cuda", "m", 512, 512, 2.0, 2.5, 3.0, 4.4, speedup=12.5),
            _row("torch-eager-fp32-cuda", "cyclegan", 512, 512, 25.0, 26.0, 27.0, 28.0, 1.0)]
    lines = speed_table(rows).splitlines()
    assert [c.strip() for c in lines[0].strip("|").split("|")] == SPEED_HEADER
    cells = [c.strip() for c in lines[2].strip("|").split("|")]
    assert cells[:4] == ["torch-cuda", "m", "fp16 + graphs", "512x512"]
    assert cells[SPEED_HEADER.index("x baseline")] == "12.5x"
    assert cells[SPEED_HEADER.index("engine fps")] == "500.0"
    assert len(lines) == 4


def test_report_survives_missing_stages() -> None:
    doc = {"mode": "gpu", "stages": [{"name": "env", "result": "failed (exit 1)",
                                      "seconds": 1.0, "rc": 1, "note": "ImportError: x"}],
           "env": None, "check": None, "bench": None, "train_log": [], "seconds": 3.0}
    text = report(doc)
    assert "| env | failed (exit 1) | 1.0 | ImportError: x |" in text
    assert "bench: not run" in text and "environment: not recorded" in text


@pytest.mark.slow
def test_dry_run_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "OUT": str(out), "GPU_CHECK_DRY_RUN": "1", "PYTHON": sys.executable}
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "gpu_check.sh")], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    doc = json.loads((out / "gpu_check.json").read_text(), parse_constant=pytest.fail)
    assert [s["name"] for s in doc["stages"]] == ["env", "data", "train", "export",
                                                  "cuda tests", "check", "bench"]
    assert all(s["result"] == "ok" for s in doc["stages"]), doc["stages"]
    assert any("trained steps 1-3" in ln for ln in doc["train_log"])
    check = {(r["backend"], r["resolution"]): r for r in doc["check"]["rows"]}
    assert set(check) == {("torch-cpu", "64x64"), ("torch-cpu", "112x64")}
    assert all(r["follows_input"] and r["max"] <= 2 for r in check.values())
    rows = {(r["backend"], r["preset"], r["width"]) for r in doc["bench"]["rows"]}
    assert rows == {(b, m, w) for b, m in [("onnxruntime-cpu", "base_footage"),
                                           ("torch-cpu", "base_footage"),
                                           ("torch-eager-fp32-cpu", "cyclegan")]
                    for w in (64, 112)}
    assert set(doc["bench"]["info"]["skipped"]) == {"torch-cuda", "onnxruntime-cuda",
                                                    "tensorrt-cuda"}
    md = (out / "gpu_check.md").read_text()
    assert "Dry run" in md and "- skipped tensorrt-cuda: TensorRT is not installed" in md
    assert "| onnxruntime-cpu | base_footage | fp32 | 64x64 |" in md
    assert (out / "check.jpg").stat().st_size > 1000
    assert "gpu_check: bench: ok" in proc.stdout
    # a second run into the same folder is refused: it would overwrite the first one's files
    again = subprocess.run(["bash", str(ROOT / "scripts" / "gpu_check.sh")], env=env,
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "choose an empty --out" in again.stderr
