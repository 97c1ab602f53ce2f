"""Node parameter validation (no ROS): types, ranges, choices, topics, styles, combinations."""

from __future__ import annotations

import math

import pytest
from sim2real_gan.artifact import StyleError
from sim2real_gan.node.params import (
    CAMERA_NODE,
    CAMERA_PARAMS,
    TRANSLATOR_NODE,
    TRANSLATOR_PARAMS,
    CameraSettings,
    ParameterError,
    StyleSpec,
    TranslatorSettings,
    check_value,
    default_config_path,
    load_config,
    parse_launch_list,
)
from sim2real_gan.pipeline.topics import output_topic, resolve


@pytest.fixture(scope="module")
def config() -> dict:
    return load_config(default_config_path())


def settings(config: dict, **changes) -> TranslatorSettings:
    return TranslatorSettings.from_params({**config[TRANSLATOR_NODE], **changes})


@pytest.mark.parametrize("name,value,needle", [
    ("backend", "cuda", "not one of ['auto', 'tensorrt', 'torch', 'onnxruntime']"),
    ("precision", "int8", "precision: 'int8' is not one of"),
    ("qos", "best_effort", "qos: 'best_effort' is not one of"),
    ("queue_depth", 0, "queue_depth: 0 is outside [1"),
    ("queue_depth", 2.0, "queue_depth: expected an integer, got float"),
    ("queue_depth", True, "queue_depth: expected an integer, got bool"),
    ("sync_tolerance_ms", -1.0, "sync_tolerance_ms: -1.0 is outside [0.0, 1000.0]"),
    ("sync_hold_ms", math.nan, "sync_hold_ms: expected a finite number"),
    ("forward_camera_info", 1, "forward_camera_info: expected true or false"),
    ("label_topics", "segmentation", "label_topics: expected a list of strings"),
    ("label_topics", ["seg", 3], "label_topics: expected a list of strings"),
    ("model", 5, "model: expected a string, got int"),
])
def test_bad_values_are_rejected_with_the_reason(config: dict, name: str, value: object,
                                                 needle: str) -> None:
    with pytest.raises(ParameterError) as err:
        settings(config, **{name: value})
    assert needle in str(err.value)


def test_ints_are_accepted_for_floats_and_defaults_validate(config: dict) -> None:
    assert check_value(TRANSLATOR_PARAMS["sync_hold_ms"], 100) == 100.0
    s = settings(config)
    assert s.hold_ns == int(config[TRANSLATOR_NODE]["sync_hold_ms"] * 1e6)
    assert s.queue_depth == config[TRANSLATOR_NODE]["queue_depth"]


@pytest.mark.parametrize("topic", ["sim camera", "/sim//camera", "/sim/camera/", "/3d", ""])
def test_invalid_topic_names(config: dict, topic: str) -> None:
    with pytest.raises(ParameterError, match="input_ns: .* is not a valid ROS 2 namespace"):
        settings(config, input_ns=topic)


def test_topic_resolution_relative_and_absolute(config: dict) -> None:
    s = settings(config, input_ns="/camera", output_ns="/real", image_topic="image",
                 label_topics=["labels_map", "/gz/depth_image", "extra/seg"])
    assert s.topics.image == ("/camera/image", "/real/image")
    assert s.topics.labels == (("/camera/labels_map", "/real/labels_map"),
                               ("/gz/depth_image", "/real/depth_image"),
                               ("/camera/extra/seg", "/real/extra/seg"))
    assert resolve("/", "a") == "/a" and output_topic("/i", "/o", "/x/y/z") == "/o/z"


def test_output_feeding_back_into_input_is_rejected(config: dict) -> None:
    with pytest.raises(ParameterError, match="also inputs"):
        settings(config, output_ns=config[TRANSLATOR_NODE]["input_ns"])


def test_duplicate_label_outputs_are_rejected(config: dict) -> None:
    with pytest.raises(ParameterError, match=r"output topics \['/realistic/camera/depth'\]"):
        settings(config, label_topics=["depth", "/other/depth"])


def test_device_and_backend_combinations(config: dict) -> None:
    with pytest.raises(ParameterError, match="tensorrt runs on CUDA only"):
        settings(config, backend="tensorrt", device="cpu")
    with pytest.raises(ParameterError, match="device: expected"):
        settings(config, device="gpu0")
    assert settings(config, device="cuda:1").device == "cuda:1"


@pytest.mark.parametrize("text,kind,value", [
    ("random", "random", None), ("seed:42", "seed", 42), ("name:laparoscopy", "name",
                                                          "laparoscopy"),
    ("default", "name", "default"), ("image:/tmp/ref.png", "image", "/tmp/ref.png"),
])
def test_style_specs(text: str, kind: str, value: object) -> None:
    assert StyleSpec.parse(text) == StyleSpec(kind, value)


@pytest.mark.parametrize("text,needle", [
    ("seed:abc", "seed must be an integer"), ("seed:-1", "seed must be >= 0"),
    ("image:", "nothing after ':'"), ("", "expected random"),
    ("colour:red", "is not random"),
])
def test_bad_styles(text: str, needle: str, config: dict) -> None:
    with pytest.raises(StyleError, match=needle):
        StyleSpec.parse(text)
    with pytest.raises(ParameterError, match=needle):  # the node parameter: same parser
        settings(config, style=text)


def test_precision_maps_to_backend_options(config: dict) -> None:
    assert "fp16" not in settings(config).backend_options()
    assert settings(config, precision="fp32").backend_options()["fp16"] is False
    opts = settings(config, precision="fp16", threads=1, engine_cache_dir="/tmp/e",
                    force_engine_update=True).backend_options()
    assert opts == {"fp16": True, "half": True, "threads": 1, "engine_cache_dir": "/tmp/e",
                    "force_engine_update": True}


def test_threads_follow_the_cli_thread_rule(config: dict) -> None:
    """0 (backend default) .. this machine's cores, as ``--threads``; more is refused naming
    the range and the value (a huge count ran out of memory before)."""
    import os

    top = os.cpu_count() or 1
    assert settings(config, threads=0).threads == 0
    assert settings(config, threads=top).backend_options()["threads"] == top
    with pytest.raises(ParameterError, match=rf"threads: expected a thread count within "
                                             rf"0\.\.{top} \(this machine's cores\).*got {top + 1}"):
        settings(config, threads=top + 1)
    for bad in (-1, 100_000):  # the descriptor's range (what `ros2 param describe` shows)
        with pytest.raises(ParameterError, match=rf"threads: {bad} is outside \[0, 256\]"):
            settings(config, threads=bad)


def test_unknown_and_missing_parameters(config: dict) -> None:
    with pytest.raises(ParameterError, match=r"unknown parameter\(s\) \['modle'\]"):
        TranslatorSettings.from_params({**config[TRANSLATOR_NODE], "modle": "x"})
    values = dict(config[TRANSLATOR_NODE])
    del values["backend"]
    with pytest.raises(ParameterError, match=r"missing parameter\(s\) \['backend'\]"):
        TranslatorSettings.from_params(values)


def test_camera_settings(config: dict) -> None:
    cam = config[CAMERA_NODE]
    assert CameraSettings.from_params(cam).rate_hz == cam["rate_hz"]
    with pytest.raises(ParameterError, match="only published with stamp_source sim"):
        CameraSettings.from_params({**cam, "stamp_source": "wall", "publish_clock": True})
    with pytest.raises(ParameterError, match="width: 8 is outside"):
        CameraSettings.from_params({**cam, "width": 8})
    assert set(cam) == set(CAMERA_PARAMS)


@pytest.mark.parametrize("text,expected", [
    ("[segmentation, depth]", ["segmentation", "depth"]), ("a,b", ["a", "b"]),
    ("['x', \"y\"]", ["x", "y"]), ("[]", []), ("", []), ("seg", ["seg"]),
])
def test_parse_launch_list(text: str, expected: list[str]) -> None:
    assert parse_launch_list(text) == expected


def test_stereo_depth_topic_is_relative_or_empty(config: dict) -> None:
    """One rule for the node parameter and translate-bag's --stereo-depth-topic."""
    assert settings(config, stereo=True).stereo_depth_topic == "depth"
    assert settings(config, stereo=True, stereo_depth_topic="").stereo_depth_topic == ""
    with pytest.raises(ParameterError, match="stereo_depth_topic: '/sim/depth' is absolute"):
        settings(config, stereo=True, stereo_depth_topic="/sim/depth")
    with pytest.raises(ParameterError, match="stereo_depth_topic: 'de pth' is not a valid ROS 2"):
        settings(config, stereo=True, stereo_depth_topic="de pth")
