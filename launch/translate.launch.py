"""Launch the sim -> real translator (and optionally a synthetic camera and a bag recorder).

    ros2 launch sim2real_gan translate.launch.py
    ros2 launch sim2real_gan translate.launch.py synthetic_source:=true record:=true
    ros2 launch sim2real_gan translate.launch.py stereo:=true synthetic_source:=true
    ros2 launch sim2real_gan translate.launch.py model:=/path/to/artifact backend:=tensorrt \
        input_ns:=/camera label_topics:="[labels_map, depth_image]"

Every argument's default comes from config/translator.yaml (read here through
sim2real_gan.node.params), so this file restates no default. ``ros2 launch ... --show-args``
lists the arguments with their defaults and descriptions.
"""

from __future__ import annotations

import time

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, LogInfo, OpaqueFunction
from launch_ros.actions import LifecycleNode, Node
from sim2real_gan.node.dds_env import kernel_rmem_max, receive_buffer_env
from sim2real_gan.node.params import (
    CAMERA_NODE,
    LAUNCH_ARGS,
    LAUNCH_PARAMS,
    TRANSLATOR_NODE,
    TranslatorSettings,
    check_value,
    default_config_path,
    launch_arguments,
    load_config,
    parse_launch_list,
    to_launch_text,
)

PACKAGE = "sim2real_gan"


def _flag(text: str) -> bool:
    value = text.strip().lower()
    if value not in ("true", "false", "1", "0"):
        raise ValueError(f"expected true or false, got {text!r}")
    return value in ("true", "1")


def _mebibytes(text: str) -> int:
    """The receive_buffer_mb argument, checked like the parameter (an integer, 0..1024)."""
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"receive_buffer_mb: expected an integer (MiB), got {text!r}") from None
    return check_value(LAUNCH_PARAMS["receive_buffer_mb"], value)


def _setup(context, defaults: dict):
    """Build the actions. An argument left at its default takes the value from params_file
    (so a custom params_file is not overridden by this file's defaults)."""
    params_file = context.launch_configurations["params_file"]
    config = load_config(params_file)

    def arg(name: str) -> str:
        value = context.launch_configurations[name]
        section, param = LAUNCH_ARGS[name]
        return to_launch_text(config[section][param]) if value == defaults[name] else value

    labels = parse_launch_list(arg("label_topics"))
    overrides = {name: arg(name) for name in
                 ("model", "backend", "precision", "input_ns", "output_ns", "style", "qos")}
    overrides["label_topics"] = labels or [""]  # [''] = no labels (ROS has no empty list type)
    overrides["stereo"] = _flag(arg("stereo"))  # both eyes (docs/stereo.md)
    settings = TranslatorSettings.from_params(
        {**config[TRANSLATOR_NODE], **overrides, "label_topics": labels})
    use_sim_time = _flag(arg("use_sim_time"))
    ros_args = ["--ros-args", "--log-level", arg("log_level")]
    # the translator's DDS receive buffer, unless the user configured Cyclone DDS (docs/ros.md)
    dds_env, dds_note = receive_buffer_env(context.environment,
                                           _mebibytes(arg("receive_buffer_mb")), kernel_rmem_max())
    actions = [LogInfo(msg=dds_note), LifecycleNode(
        package=PACKAGE, executable="translator_node", name=TRANSLATOR_NODE, namespace="",
        parameters=[params_file, {**overrides, "use_sim_time": use_sim_time}],
        arguments=ros_args, output="screen", emulate_tty=True, additional_env=dds_env)]
    if _flag(arg("synthetic_source")):
        actions.append(Node(
            package=PACKAGE, executable="synthetic_camera", name=CAMERA_NODE,
            parameters=[params_file, {"namespace": overrides["input_ns"],
                                      "stereo": overrides["stereo"]}],
            arguments=ros_args, output="screen", emulate_tty=True))
    if _flag(arg("record")):
        out_ns = settings.topics.output_ns  # every output topic lies under it (pipeline.topics)
        bag_dir = arg("bag_dir") or time.strftime("sim2real_bags/translated_%Y%m%d_%H%M%S")
        cmd = ["ros2", "bag", "record", "-o", bag_dir, "-s", arg("bag_storage"),
               "-e", f"^{out_ns.rstrip('/')}/.*"]
        if use_sim_time:
            cmd.append("--use-sim-time")
        actions += [LogInfo(msg=f"recording {out_ns}/* into {bag_dir}"),
                    ExecuteProcess(cmd=cmd, output="screen", sigterm_timeout="10")]
    return actions


def generate_launch_description() -> LaunchDescription:
    config_path = default_config_path()
    config = load_config(config_path)
    args = [DeclareLaunchArgument("params_file", default_value=str(config_path),
                                  description="parameter YAML for both nodes")]
    args += [DeclareLaunchArgument(name, default_value=default, description=text)
             for name, (default, text) in launch_arguments(config).items()]
    defaults = {name: default for name, (default, _) in launch_arguments(config).items()}
    return LaunchDescription(args + [OpaqueFunction(function=_setup, args=[defaults])])
