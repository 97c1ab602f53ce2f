"""Input QoS choice (node.qos_choice) and the DDS receive-buffer environment (node.dds_env):
plain data in, decision out, no ROS needed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sim2real_gan.node.dds_env import (
    URI_VAR,
    cyclone_receive_buffer_xml,
    kernel_rmem_max,
    receive_buffer_env,
)
from sim2real_gan.node.params import (
    LAUNCH_PARAMS,
    TRANSLATOR_NODE,
    ParameterError,
    TranslatorSettings,
    check_value,
    default_config_path,
    load_config,
)
from sim2real_gan.node.qos_choice import (
    BEST_EFFORT,
    QOS_MODES,
    RELIABLE,
    Offer,
    QoSChoice,
    choose,
    incompatible_text,
    mixed_text,
)

BRIDGE = Offer("/ros_gz_bridge", RELIABLE)  # ros_gz_bridge: reliable, keep-last 10
CAMERA = Offer("/synthetic_camera", RELIABLE)
DRIVER = Offer("/usb_cam", BEST_EFFORT)  # a sensor-data driver


@pytest.mark.parametrize(("offers", "want", "mixed"), [
    ([], RELIABLE, False),                      # nobody yet: reliable, re-checked later
    ([BRIDGE], RELIABLE, False),                # Gazebo's bridge
    ([BRIDGE, CAMERA], RELIABLE, False),
    ([DRIVER], BEST_EFFORT, False),             # a reliable reader would hear nothing
    ([BRIDGE, DRIVER], BEST_EFFORT, True),      # both heard; warned as mixed
    ([Offer("/odd", "unknown")], BEST_EFFORT, False),  # unknown: hear it whatever it is
])
def test_auto_follows_the_publishers(offers, want, mixed) -> None:
    choice = choose("auto", offers)
    assert (choice.reliability, choice.mixed) == (want, mixed)
    # auto never leaves a publisher unheard: a reliable reader does not match best effort
    assert choice.reliability == BEST_EFFORT or all(o.reliability == RELIABLE for o in offers)
    assert choice.reason.startswith("auto: ")


def test_auto_says_why() -> None:
    assert choose("auto", []).reason == "auto: no publisher yet"
    assert choose("auto", [BRIDGE, CAMERA]).reason == "auto: 2 publishers all reliable"
    assert "best effort from /usb_cam" in choose("auto", [BRIDGE, DRIVER]).reason


def test_explicit_modes_ignore_the_publishers() -> None:
    assert choose("sensor_data", [BRIDGE]) == QoSChoice(BEST_EFFORT, "qos sensor_data")
    assert choose("reliable", [BRIDGE, DRIVER]) == QoSChoice(RELIABLE, "qos reliable")


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="qos: expected one of .*'auto'.* got 'fast'"):
        choose("fast", [])


def test_warnings_name_the_input_topic_policy_and_fix() -> None:
    text = incompatible_text("depth", "/sim/camera/depth", "reliable", "reliability", 1)
    for needle in ("input depth", "/sim/camera/depth", "reliability", "qos:=auto"):
        assert needle in text
    assert "ros2 topic info -v" in incompatible_text("depth", "/d", "sensor_data", "durability",
                                                     2)
    text = mixed_text("depth", "/sim/camera/depth", choose("auto", [BRIDGE, DRIVER]))
    assert "/usb_cam" in text and "Cyclone" in text


def test_qos_parameter_default_is_auto_and_checked() -> None:
    cfg = load_config(default_config_path())
    assert cfg[TRANSLATOR_NODE]["qos"] == "auto"
    assert set(QOS_MODES) == {"auto", "reliable", "sensor_data"}
    for mode in QOS_MODES:
        assert TranslatorSettings.from_params({**cfg[TRANSLATOR_NODE], "qos": mode}).qos == mode
    with pytest.raises(ParameterError, match="qos: 'best_effort' is not one of"):
        TranslatorSettings.from_params({**cfg[TRANSLATOR_NODE], "qos": "best_effort"})


def test_receive_buffer_env_asks_cyclone_for_max_not_min() -> None:
    env, note = receive_buffer_env({"RMW_IMPLEMENTATION": "rmw_cyclonedds_cpp"}, 8,
                                   rmem_max=8 * 2**20)
    xml = env[URI_VAR]
    assert 'max="8MiB"' in xml and 'min="default"' in xml and xml == \
        cyclone_receive_buffer_xml(8)
    assert note == f"DDS receive buffer: asking Cyclone DDS for 8 MiB ({URI_VAR})"


def test_receive_buffer_env_leaves_the_users_configuration_alone() -> None:
    mine = {URI_VAR: "file:///etc/cyclone.xml"}
    env, note = receive_buffer_env(mine, 8)
    assert env == {} and "is set, left as it is" in note
    env, note = receive_buffer_env({}, 0)
    assert env == {} and "middleware default" in note
    env, note = receive_buffer_env({"RMW_IMPLEMENTATION": "rmw_fastrtps_cpp"}, 8)
    assert URI_VAR in env and "rmw_fastrtps_cpp, which ignores it" in note


def test_receive_buffer_env_says_when_the_kernel_caps_it(tmp_path: Path) -> None:
    _, note = receive_buffer_env({}, 8, rmem_max=212992)
    assert "caps it at 0.20 MiB (net.core.rmem_max)" in note
    assert "sysctl -w net.core.rmem_max=8388608" in note
    proc = tmp_path / "rmem_max"
    proc.write_text("4194304\n")
    assert kernel_rmem_max(proc) == 4194304
    assert kernel_rmem_max(tmp_path / "missing") is None


def test_receive_buffer_values_are_checked() -> None:
    for bad in (-1, 0.5, True, "8"):
        with pytest.raises(ValueError, match="receive_buffer_mb: expected a positive integer"):
            cyclone_receive_buffer_xml(bad)
    cfg = load_config(default_config_path())
    assert cfg["translate_launch"]["receive_buffer_mb"] == 8
    with pytest.raises(ParameterError, match=r"receive_buffer_mb: 2000 is outside \[0, 1024\]"):
        check_value(LAUNCH_PARAMS["receive_buffer_mb"], 2000)
