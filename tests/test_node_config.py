"""ROS packaging checks that run without ROS: the YAML, the launch file, setup.py and
package.xml agree with each other and with the node code."""

from __future__ import annotations

import ast
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml
from sim2real_gan.node.params import (
    LAUNCH_ARGS,
    SECTIONS,
    default_config_path,
    launch_arguments,
    load_config,
    to_launch_text,
)

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "ros2_ws" / "src" / "sim2real_gan"
LAUNCH = ROOT / "launch" / "translate.launch.py"
NODE_DIR = PKG / "sim2real_gan" / "node"


def test_config_is_the_package_yaml_and_validates() -> None:
    path = default_config_path()
    assert path.resolve() == (PKG / "config" / "translator.yaml").resolve()
    config = load_config(path)
    doc = yaml.safe_load(path.read_text())
    for section, specs in SECTIONS.items():
        assert set(doc[section]["ros__parameters"]) == set(specs), section
        assert set(config[section]) == set(specs)


def test_launch_defaults_round_trip_to_the_yaml_values() -> None:
    config = load_config(default_config_path())
    for arg, (default, description) in launch_arguments(config).items():
        section, param = LAUNCH_ARGS[arg]
        value = config[section][param]
        assert yaml.safe_load(default) == value or (default == "" and value == ""), arg
        assert description
    assert to_launch_text(["a", "b"]) == "[a, b]" and to_launch_text(True) == "true"


def _launch_tree() -> ast.Module:
    return ast.parse(LAUNCH.read_text())


def test_launch_file_restates_no_default() -> None:
    """Every DeclareLaunchArgument default comes from the YAML, never a literal."""
    calls = [n for n in ast.walk(_launch_tree()) if isinstance(n, ast.Call)
             and getattr(n.func, "id", "") == "DeclareLaunchArgument"]
    assert calls, "the launch file declares no arguments"
    for call in calls:
        for kw in call.keywords:
            if kw.arg == "default_value":
                assert not isinstance(kw.value, ast.Constant), ast.unparse(call)
    text = LAUNCH.read_text()
    assert "launch_arguments(config)" in text and "load_config(" in text
    for arg in LAUNCH_ARGS:  # every mapped argument is read by the launch logic
        assert f'"{arg}"' in text or arg in ("model", "backend", "precision", "input_ns",
                                              "output_ns", "style", "label_topics"), arg


def test_launch_executables_exist_in_setup_py() -> None:
    tree = _launch_tree()
    execs = {kw.value.value for n in ast.walk(tree) if isinstance(n, ast.Call)
             for kw in n.keywords if kw.arg == "executable"}
    assert execs == {"translator_node", "synthetic_camera"}
    setup = (PKG / "setup.py").read_text()
    for exe in execs:
        assert re.search(rf'"{exe} = sim2real_gan\.node\.\w+:main"', setup), exe
    for module in ("translator_node", "synthetic_camera_node"):
        assert (NODE_DIR / f"{module}.py").is_file()


def test_share_files_are_installed() -> None:
    setup = (PKG / "setup.py").read_text()
    assert 'glob("launch/*.launch.py")' in setup and 'glob("config/*.yaml")' in setup
    assert (PKG / "launch" / "translate.launch.py").resolve() == LAUNCH.resolve()


def _ros_imports(path: Path) -> set[str]:
    """Top-level packages imported by a node module that are ROS packages."""
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    ros = {"rclpy", "sensor_msgs", "std_msgs", "rosgraph_msgs", "diagnostic_msgs",
           "diagnostic_updater", "rcl_interfaces", "lifecycle_msgs", "launch", "launch_ros",
           "ament_index_python", "builtin_interfaces"}
    return names & ros


def test_package_xml_declares_every_ros_import() -> None:
    root = ET.parse(PKG / "package.xml").getroot()
    declared = {e.text for tag in ("depend", "exec_depend") for e in root.iter(tag)}
    used = set().union(*(_ros_imports(p) for p in NODE_DIR.glob("*.py")), _ros_imports(LAUNCH))
    assert used, "no ROS import found in the node package"
    assert used <= declared, f"missing <exec_depend> for {sorted(used - declared)}"


def test_only_node_modules_import_rclpy() -> None:
    core = PKG / "sim2real_gan"
    offenders = [str(p.relative_to(core)) for p in core.rglob("*.py")
                 if "node" not in p.relative_to(core).parts[:1] and "rclpy" in _ros_imports(p)]
    assert offenders == []
    # the pure-Python node helpers stay importable without ROS
    for module in ("params.py", "worker.py"):
        assert "rclpy" not in _ros_imports(NODE_DIR / module)


def test_every_parameter_and_launch_argument_is_documented() -> None:
    doc = (ROOT / "docs" / "ros.md").read_text()
    for section in ("translator_node", "synthetic_camera"):
        for name in SECTIONS[section]:
            assert f"`{name}`" in doc, f"docs/ros.md does not document {section}.{name}"
    for arg in LAUNCH_ARGS:
        assert f"`{arg}`" in doc, f"docs/ros.md does not document launch argument {arg}"
