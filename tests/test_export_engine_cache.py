"""TensorRT engine cache: keys, paths, staleness, profiles, GPU mismatch (pure Python)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sim2real_gan.runtime.engine_cache import (
    BuildSettings,
    DeviceInfo,
    EngineKey,
    EngineMismatchError,
    check_engine_compatible,
    default_cache_dir,
    make_profiles,
    plan_engine,
    select_profile,
    write_engine_meta,
)

H100 = DeviceInfo("NVIDIA H100 80GB HBM3", (9, 0))
L4 = DeviceInfo("NVIDIA L4", (8, 9))
SETTINGS = BuildSettings(fp16=True, profiles=make_profiles([(256, 256), (1080, 1920)], 4))


def key(sha: str = "ab" * 32, device: DeviceInfo = H100, trt: str = "10.3.0",
        settings: BuildSettings = SETTINGS) -> EngineKey:
    return EngineKey(sha, device, trt, settings)


def built(cache: Path, k: EngineKey, payload: bytes = b"engine") -> Path:
    """Simulate a finished build: engine bytes + sidecar, as ensure_engine writes them."""
    plan = plan_engine(cache, k)
    cache.mkdir(parents=True, exist_ok=True)
    plan.engine_path.write_bytes(payload)
    write_engine_meta(plan, k, len(payload))
    return plan.engine_path


def test_engine_sidecar_goes_through_the_one_atomic_file_helper(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    """write_engine_meta uses io.staging.atomic_write_bytes: a failed write leaves the old
    sidecar, no temporary file and no parent folder it created."""
    import sim2real_gan.io.staging as staging

    k = key()
    plan = plan_engine(tmp_path / "cache" / "deep", k)
    write_engine_meta(plan, k, 6)  # creates the cache folders
    old = plan.meta_path.read_bytes()
    assert json.loads(old)["engine_bytes"] == 6
    assert sorted(p.name for p in plan.meta_path.parent.iterdir()) == [plan.meta_path.name]

    def refuse(self: Path, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", refuse)
    with pytest.raises(OSError, match="No space left"):
        write_engine_meta(plan, k, 7)
    with pytest.raises(OSError, match="No space left"):
        staging.atomic_write_bytes(tmp_path / "new" / "sub" / "x.json", b"{}")
    monkeypatch.undo()
    assert plan.meta_path.read_bytes() == old
    assert sorted(p.name for p in plan.meta_path.parent.iterdir()) == [plan.meta_path.name]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]  # new/sub removed again


def test_key_changes_with_every_ingredient() -> None:
    base = key()
    others = [key(sha="cd" * 32), key(device=L4), key(trt="10.4.0"),
              key(settings=BuildSettings(fp16=False, profiles=SETTINGS.profiles)),
              key(settings=BuildSettings(profiles=make_profiles([(512, 512)])))]
    digests = {base.digest} | {k.digest for k in others}
    assert len(digests) == 1 + len(others)
    assert base.digest == key().digest  # deterministic
    stem = base.file_stem("rt")
    assert stem.startswith("rt-abababababab-nvidia-h100-80gb-hbm3-sm90-trt10.3.0-")


def test_plan_build_then_load(tmp_path: Path) -> None:
    k = key()
    plan = plan_engine(tmp_path / "cache", k)
    assert plan.build and "no cached engine" in plan.reason
    built(tmp_path / "cache", k)
    plan = plan_engine(tmp_path / "cache", k)
    assert not plan.build and plan.engine_path.is_file()
    forced = plan_engine(tmp_path / "cache", k, force_update=True)
    assert forced.build and "force_engine_update" in forced.reason


def test_other_gpu_or_version_selects_another_file(tmp_path: Path) -> None:
    cache = tmp_path / "c"
    e1 = built(cache, key())
    p_l4 = plan_engine(cache, key(device=L4))
    assert p_l4.build and p_l4.engine_path != e1
    assert p_l4.stale == []  # another GPU's engine is kept (shared cache dirs)
    p_new = plan_engine(cache, key(trt="10.5.0"))
    assert p_new.build and p_new.stale == [e1]  # same model+GPU, old TensorRT: stale
    p_model = plan_engine(cache, key(sha="cd" * 32))
    assert p_model.stale == []  # another model's engine is kept


def test_stale_or_damaged_metadata_rebuilds(tmp_path: Path) -> None:
    cache = tmp_path / "c"
    k = key()
    engine = built(cache, k)
    meta = engine.with_suffix(".json")
    engine.write_bytes(b"eng")  # truncated write
    assert "size" in plan_engine(cache, k).reason
    engine.write_bytes(b"engine")
    doc = json.loads(meta.read_text())
    doc["key"]["tensorrt_version"] = "8.6.1"
    meta.write_text(json.dumps(doc))
    plan = plan_engine(cache, k)
    assert plan.build and "stale" in plan.reason
    meta.write_text("{")
    assert "unreadable" in plan_engine(cache, k).reason
    meta.unlink()
    assert plan_engine(cache, k).build


def test_explicit_engine_for_another_gpu_is_a_clear_error(tmp_path: Path) -> None:
    engine = built(tmp_path, key(device=L4, trt="10.1.0"))
    with pytest.raises(EngineMismatchError, match=r"built for GPU 'NVIDIA L4' \(sm89\), this GPU "
                       r"is 'NVIDIA H100 80GB HBM3' \(sm90\).*TensorRT 10.1.0"):
        check_engine_compatible(engine.with_suffix(".json"), key())
    check_engine_compatible(built(tmp_path, key()).with_suffix(".json"), key())  # no error
    with pytest.raises(EngineMismatchError, match="sidecar"):
        check_engine_compatible(tmp_path / "none.json", key())


def test_profiles_and_selection() -> None:
    profiles = make_profiles([(256, 256), (1080, 1920), (256, 256)], max_batch=8,
                             dynamic_range=((64, 64), (2048, 2048)), size_multiple=8)
    assert len(profiles) == 3  # duplicates removed, dynamic fallback last
    assert profiles[0].opt == (1, 256, 256) and profiles[0].max == (8, 256, 256)
    assert select_profile(profiles, 1, 256, 256) == 0
    assert select_profile(profiles, 8, 1080, 1920) == 1
    assert select_profile(profiles, 2, 480, 640) == 2
    with pytest.raises(ValueError, match="no optimisation profile for batch 9 at 256x256"):
        select_profile(profiles, 9, 256, 256)
    with pytest.raises(ValueError, match="not a multiple of 8"):
        make_profiles([(250, 190)], size_multiple=8)
    with pytest.raises(ValueError, match="max_batch"):
        make_profiles([(256, 256)], max_batch=0)


def test_default_cache_dir_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SIM2REAL_GAN_ENGINE_CACHE", str(tmp_path / "e"))
    assert default_cache_dir() == tmp_path / "e"
    monkeypatch.delenv("SIM2REAL_GAN_ENGINE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert default_cache_dir() == tmp_path / "x" / "sim2real_gan" / "engines"
