"""Training modes as types: the registry, what each mode declares (networks, data fields,
named loss weights), optional fields switched off or refused, and source probing."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from training.config import LossConfig, load_config, override_keys
from training.fields import Available, resolve
from training.modes import MODES, CycleGANMode, DistillMode, Pix2PixMode, Sim2RealMode, Terms
from training.modes.base import Mode
from training.preflight import preflight
from training.probe import probe_source

TINY = ["data.sim.width=32", "data.sim.height=32", "data.real.width=32", "data.real.height=32",
        "data.crop=[32,32]"]


def _teacher(tmp_path: Path) -> Path:
    from sim2real_gan.models import build_generator, get_preset, save_generator

    cfg = get_preset("tiny", ngf=12)
    save_generator(tmp_path / "teacher", build_generator(cfg), cfg)
    return tmp_path / "teacher"


def _mode(over: list[str]) -> Mode:
    cfg = load_config("tiny", [*TINY, *over])
    return MODES[cfg.mode](cfg)


def test_registry_names_every_mode_once() -> None:
    assert set(MODES) == {"sim2real", "cyclegan", "pix2pix", "distill"}
    assert all(cls.name == name and issubclass(cls, Mode) for name, cls in MODES.items())
    with pytest.raises(ValueError, match="mode: expected one of"):
        load_config("tiny", ["mode=munit"])


@pytest.mark.parametrize(("over", "nets", "needs_real", "sim_fields"), [
    ([], {"G", "E", "F", "D_real", "D_sim"}, True, {"image", "flow", "valid"}),
    (["loss.cycle=0", "loss.temporal=0"], {"G", "E", "D_real"}, True, {"image"}),
    (["mode=cyclegan", "generator.overrides={style_dim: 0}"], {"G", "F", "D_real", "D_sim"},
     True, {"image"}),
    (["mode=pix2pix", "data.real=null"], {"G", "D_real"}, False, {"image", "target"}),
    (["mode=distill", "loss.adv=0", "data.labels=true"], {"G", "T"}, False,
     {"image", "flow", "valid", "labels"}),
    (["mode=distill", "loss.adv=0.1"], {"G", "T", "D_real"}, True, {"image", "flow", "valid"}),
])
def test_each_mode_declares_its_networks_and_fields(tmp_path: Path, over: list[str],
                                                    nets: set[str], needs_real: bool,
                                                    sim_fields: set[str]) -> None:
    if "mode=distill" in over:
        over = [*over, f"teacher={_teacher(tmp_path)}"]
    cfg = load_config("tiny", [*TINY, *over])
    mode = MODES[cfg.mode](cfg)
    preflight(cfg, mode)
    assert mode.needs_real is needs_real
    assert set(mode.sim_fields()) == sim_fields
    built = mode.build_nets(torch.device("cpu"))
    present = {k for k, m in dataclasses.asdict(built).items() if isinstance(m, torch.nn.Module)}
    assert present == nets
    assert set(built.trainable()) == nets - {"T"}


def test_loss_weights_are_named_fields_of_each_mode() -> None:
    loss = LossConfig(l1=7.0, cycle=3.0, temporal=2.0, identity=0.25)
    assert Pix2PixMode.name == "pix2pix" and "cycle" not in _mode(
        ["mode=pix2pix"]).loss_keys()
    assert {"l1", "adv", "structure"} <= _mode(["mode=pix2pix"]).loss_keys()
    assert {"cycle", "style", "ref_stats", "temporal"} <= _mode([]).loss_keys()
    assert "l1" not in _mode([]).loss_keys()
    from training.modes.cyclegan import CycleGANLosses
    from training.modes.distill import DistillLosses
    from training.modes.sim2real import Sim2RealLosses

    assert DistillLosses.of(loss).l1 == 7.0 and DistillLosses.of(loss).temporal == 2.0
    assert CycleGANLosses.of(loss).cycle == 3.0 and CycleGANLosses.of(loss).identity == 0.25
    assert Sim2RealLosses.of(loss).temporal == 2.0
    # every field of a mode's loss view is a LossConfig key (recipes keep their keys)
    keys = {f.name for f in dataclasses.fields(LossConfig)}
    for cls in (Sim2RealMode, CycleGANMode, Pix2PixMode, DistillMode):
        assert _mode([f"mode={cls.name}", "teacher=x"] if cls is DistillMode else
                     [f"mode={cls.name}"]).loss_keys() <= keys


def test_terms_sum_weighted_values_in_order() -> None:
    t = Terms()
    t.add("a", 2.0, torch.tensor(3.0))
    t.add("b", 0.5, torch.tensor(4.0))
    assert float(t.total()) == 8.0 and list(t.values) == ["a", "b"]
    with pytest.raises(ValueError, match="no generator loss"):
        Terms().total()


def test_missing_optional_fields_switch_features_off_with_one_line_each() -> None:
    mode = _mode(["generator.overrides={aux_channels: [uv, depth], texture_channels: 2}",
                  "loss.semantic=1", "loss.segmenter=auto-sim", "loss.temporal_feat=1"])
    have = Available(frozenset({"image", "depth"}), frozenset({"image"}), "data.sim: bag b")
    on, notes = resolve(mode, have)
    assert on == {"depth"}
    assert notes == ["no uv in the sim data (data.sim: bag b): neural texture off",
                     "no flow/valid in the sim data (data.sim: bag b): temporal loss, "
                     "feature temporal loss off",
                     "no labels in the sim data (data.sim: bag b): semantic loss off"]
    mode.configure(on)
    assert mode.g_cfg.aux_channels == ("depth",) and mode.g_cfg.texture_channels == 0
    assert set(mode.sim_fields()) == {"image", "depth"}
    # A second pass (after loading) keeps what is off off and says nothing about it again.
    again, notes2 = resolve(mode, Available(frozenset({"image"}), None, "loaded"), among=on)
    assert again == on - {"depth"} and notes2 == ["no depth in the sim data (loaded): depth "
                                                  "input of the generator off"]


def test_explicitly_asked_feature_without_its_field_is_an_error() -> None:
    over = ["loss.temporal=2", "generator.overrides={aux_channels: [uv]}"]
    mode = _mode(over)
    have = Available(frozenset({"image"}), frozenset({"image"}), "data.sim: folder f")
    with pytest.raises(ValueError, match=r"loss.temporal was set on the command line, but no "
                                         r"flow/valid in the sim data \(data.sim: folder f\)"):
        resolve(mode, have, override_keys(over[:1]))
    with pytest.raises(ValueError, match="generator.overrides.aux_channels was set"):
        resolve(mode, have, override_keys(["generator.overrides={aux_channels: [uv]}"]))
    assert resolve(mode, have, override_keys(["loss.structure=2"]))[0] == frozenset()


def test_features_an_architecture_cannot_give_are_reported() -> None:
    mode = _mode(["generator.preset=cyclegan", "generator.overrides={}", "loss.content=1",
                  "loss.temporal_feat=1", "data.crop=[32,32]"])
    on, notes = resolve(mode, Available(None, None))
    assert "content" not in on and "temporal_feat" not in on and "temporal" in on
    assert any("resnet generator has no content encoder: content loss off" in n for n in notes)
    with pytest.raises(ValueError, match="loss.content was set"):
        resolve(mode, Available(None, None), frozenset({"loss.content"}))


def test_override_keys_flatten_mappings() -> None:
    assert override_keys(["generator={preset: rt, overrides: {aux_channels: [uv]}}",
                          "loss.temporal=1"]) == {
        "generator", "generator.preset", "generator.overrides",
        "generator.overrides.aux_channels", "loss.temporal"}


def _image_bag(path: Path, n: int = 3) -> None:
    from sim2real_gan.io.bag import BagWriter
    from sim2real_gan.io.ros_types import image_msg, make_header

    with BagWriter(path) as bag:
        bag.add_topic("/sim/camera/image_raw", "sensor_msgs/msg/Image")
        bag.add_topic("/sim/camera/depth", "sensor_msgs/msg/Image")
        for i in range(n):
            st = i * 33_000_000
            bag.write("/sim/camera/image_raw", st, image_msg(
                np.full((24, 40, 3), 10 * i, np.uint8), "rgb8", make_header(st, "cam")))
            bag.write("/sim/camera/depth", st, image_msg(
                np.full((24, 40), 0.1, np.float32), "32FC1", make_header(st, "cam")))


def test_probes_tell_fields_and_size_without_loading(tmp_path: Path) -> None:
    from sim2real_gan.io.media import VideoWriter, write_image

    from training.data import SourceConfig

    _image_bag(tmp_path / "bag")
    bag = [str(tmp_path / "bag")]
    p = probe_source(SourceConfig(kind="bag", paths=bag), "sim")  # flow: auto -> estimated
    assert p.fields == {"image", "depth", "flow", "valid"} and p.size == (24, 40)
    assert probe_source(SourceConfig(kind="bag", paths=bag, flow="off"), "sim").fields == {
        "image", "depth"}
    assert probe_source(SourceConfig(kind="bag", paths=bag), "real").fields == {"image",
                                                                              "depth"}
    with pytest.raises(ValueError, match="flow: gt, but the source has no flow"):
        probe_source(SourceConfig(kind="bag", paths=bag, flow="gt"), "sim")
    (tmp_path / "sim" / "image").mkdir(parents=True)
    (tmp_path / "sim" / "labels").mkdir()
    write_image(tmp_path / "sim" / "image" / "0000.png", np.zeros((20, 28, 3), np.uint8))
    p = probe_source(SourceConfig(kind="folder", paths=[str(tmp_path / "sim")], flow="off"),
                     "sim")
    assert p.fields == {"image", "labels"} and p.size == (20, 28)
    with VideoWriter(tmp_path / "f.mp4", fps=10) as vw:
        vw.write(np.zeros((32, 48, 3), np.uint8))
    p = probe_source(SourceConfig(kind="video", paths=[str(tmp_path / "f.mp4")], size=[16, 24]),
                     "real")
    assert p.fields == {"image"} and p.size == (16, 24)
    p = probe_source(SourceConfig(width=40, height=30), "sim")
    assert {"flow", "uv", "labels", "target"} <= p.fields and p.size == (30, 40)
    with pytest.raises(FileNotFoundError, match=r"data.real.paths: .*nope.mp4 does not exist"):
        probe_source(SourceConfig(kind="video", paths=[str(tmp_path / "nope.mp4")]), "real")


def test_preflight_refuses_what_cannot_work(tmp_path: Path) -> None:
    def fails(over: list[str], match: str, exc: type = ValueError) -> None:
        cfg = load_config("tiny", [*TINY, *over])
        with pytest.raises(exc, match=match):
            preflight(cfg, MODES[cfg.mode](cfg))

    fails(["data.crop=[48,48]"], r"larger than the frames of data.sim: synthetic \(32x32\)")
    fails(["data.real.size=[16,16]"], r"larger than the frames of data.real")
    fails(["mode=pix2pix", f"data.sim={{kind: folder, paths: [{tmp_path}]}}"],
          r"mode 'pix2pix' needs target in the sim data")
    fails(["data.real=null"], r"needs data.real")
    fails(["mode=cyclegan"], "mode cyclegan: generator must take no style")
    fails(["loss.semantic=1", "loss.segmenter=missing.safetensors"], "missing.safetensors",
          FileNotFoundError)
    fails(["mode=distill", f"teacher={tmp_path / 'none'}"], "no trainer checkpoint",
          FileNotFoundError)
    fails(["mode=distill", f"teacher={_teacher(tmp_path)}",
           "generator.overrides={style_dim: 2}"], "teacher takes style_dim=4")
