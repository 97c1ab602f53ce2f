"""The one topic plan (pipeline.topics): ROS 2 name rules, the mapping rule, and the node's
parameters vs translate-bag's flags giving the same output topics for the same inputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from sim2real_gan.cli.main import build_parser, main
from sim2real_gan.cli.translate_bag import bag_config
from sim2real_gan.io.bag import BagReader
from sim2real_gan.node.params import (
    TRANSLATOR_NODE,
    ParameterError,
    TranslatorSettings,
    default_config_path,
    load_config,
)
from sim2real_gan.pipeline.bag_translate import BagTranslateConfig, plan_topics, translate_bag
from sim2real_gan.pipeline.message_step import MessageTranslator
from sim2real_gan.pipeline.topics import (
    TopicError,
    TopicRequest,
    check_name,
    name_problem,
    output_topic,
)


@pytest.mark.parametrize("name", ["/sim/camera", "/a_b/c1", "image_raw", "left/image", "/x",
                                  "_private_ok", "/a__b"])
def test_valid_names(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize("name,why", [
    ("", "must not be empty"), ("bad//ns", "must not contain '//'"),
    ("/sim/camera/", "must not end with '/'"), ("/3d/image", "'3d' starts with a digit"),
    ("/sim/2nd", "'2nd' starts with a digit"), ("sim camera", "contains ' '"),
    ("/sim-cam", "contains '-'"), ("/kamera/bild\u00e4", "contains '\u00e4'"),
    ("~/image", "private"), ("{node}/image", "substitution"), ("/", "is a namespace"),
    ("/" + "a" * 247, "more than 247"),
])
def test_invalid_topic_names(name: str, why: str) -> None:
    with pytest.raises(TopicError, match="--labels: .* is not a valid ROS 2 topic name: .*"
                       + why.replace("(", r"\(")):
        check_name("--labels", name)


def test_namespaces_are_absolute_and_root_is_allowed() -> None:
    assert check_name("output_ns", "/", namespace=True) == "/"
    with pytest.raises(TopicError, match="output_ns: 'realistic' .* must be absolute"):
        check_name("output_ns", "realistic", namespace=True)
    with pytest.raises(TopicError, match="must not end with '/'"):
        check_name("output_ns", "/realistic/", namespace=True)


def test_mapping_rule_relative_absolute_nested_outside() -> None:
    plan = TopicRequest("/sim/camera", "/realistic/camera", "image_raw", "camera_info",
                        ("segmentation", "/sim/camera/left/depth", "left/uv", "/gz/labels_map",
                         "/foo/seg")).plan()
    assert plan.image == ("/sim/camera/image_raw", "/realistic/camera/image_raw")
    assert plan.camera_info == ("/sim/camera/camera_info", "/realistic/camera/camera_info")
    assert plan.labels == (
        ("/sim/camera/segmentation", "/realistic/camera/segmentation"),
        ("/sim/camera/left/depth", "/realistic/camera/left/depth"),  # nesting kept
        ("/sim/camera/left/uv", "/realistic/camera/left/uv"),        # same, given relative
        ("/gz/labels_map", "/realistic/camera/labels_map"),          # outside: last name
        ("/foo/seg", "/realistic/camera/seg"))
    assert all(r.dst.startswith("/realistic/camera/") for r in plan.routes)
    assert plan.aux_topic("uv") == "/sim/camera/uv"
    assert output_topic("/", "/out", "/a/b") == "/out/a/b"  # root input namespace
    root = TopicRequest("/sim/camera", "/", "image_raw", None, ()).plan()
    assert root.image.dst == "/image_raw"


def test_plan_refuses_shared_outputs_loops_and_the_image_as_a_label() -> None:
    with pytest.raises(TopicError, match=r"output topics \['/o/depth'\] would carry more than "
                       r"one input \(/a/depth and /b/depth -> /o/depth\)"):
        TopicRequest("/cam", "/o", "image", None, ("/a/depth", "/b/depth")).plan()
    with pytest.raises(TopicError, match="also inputs"):
        TopicRequest("/cam", "/cam", "image").plan()
    with pytest.raises(TopicError, match="is the image topic itself"):
        TopicRequest("/cam", "/o", "image", None, ("/cam/image",)).plan()
    with pytest.raises(TopicError, match=r"input topics \['/cam/seg'\] appear twice"):
        TopicRequest("/cam", "/o", "image", None, ("seg", "/cam/seg")).plan()


# ------------------------------------------------------------------ node vs translate-bag
CASES = [  # (input_ns, output_ns, image, labels)
    ("/sim/camera", "/realistic/camera", "image_raw", ["segmentation", "depth"]),
    ("/sim/camera", "/realistic/camera", "image_raw", ["/sim/camera/segmentation", "/gz/depth"]),
    ("/sim/camera", "/out", "left/image_raw", ["left/seg", "/sim/camera/right/seg", "a/b/c"]),
    ("/camera", "/real", "/camera/image", ["labels_map", "/gz/depth_image", "extra/seg"]),
    ("/", "/realistic", "/rgbd/image", ["/semantic/labels_map", "/rgbd/depth"]),
]


def _node_plan(config: dict, in_ns: str, out_ns: str, image: str, labels: list[str]):
    params = {**config[TRANSLATOR_NODE], "input_ns": in_ns, "output_ns": out_ns,
              "image_topic": image, "label_topics": labels}
    return TranslatorSettings.from_params(params).topics


def _cli_plan(in_ns: str, out_ns: str, image: str, labels: list[str]):
    args = build_parser().parse_args(["translate-bag", "in", "out", "--input-ns", in_ns,
                                      "--output-ns", out_ns, "--image-topic", image,
                                      "--labels", *labels])
    return bag_config(args).request().plan()


@pytest.mark.parametrize("in_ns,out_ns,image,labels", CASES)
def test_node_parameters_and_translate_bag_flags_give_the_same_topics(
        in_ns: str, out_ns: str, image: str, labels: list[str]) -> None:
    config = load_config(default_config_path())
    node, cli = _node_plan(config, in_ns, out_ns, image, labels), _cli_plan(in_ns, out_ns,
                                                                            image, labels)
    assert node.routes == cli.routes  # image, camera_info, labels: inputs and outputs
    assert node.output_ns == cli.output_ns


def test_default_node_config_matches_translate_bag_defaults() -> None:
    """translate-bag with no topic flags = the node's defaults (same reorder window too)."""
    config = load_config(default_config_path())
    node = TranslatorSettings.from_params(config[TRANSLATOR_NODE])
    args = build_parser().parse_args(["translate-bag", "in", "out", "--labels",
                                      *config[TRANSLATOR_NODE]["label_topics"]])
    assert bag_config(args).request().plan().routes == node.topics.routes
    assert int(args.reorder_ms * 1e6) == node.reorder_ns == BagTranslateConfig().reorder_ns


def test_node_rejects_bad_names_with_the_parameter_named() -> None:
    config = load_config(default_config_path())[TRANSLATOR_NODE]
    for key, value, match in (("output_ns", "", "output_ns: '' is not a valid ROS 2 namespace"),
                              ("output_ns", "bad//ns", "must be absolute"),
                              ("label_topics", ["ok", "bad//x"], "label_topics: 'bad//x'"),
                              ("label_topics", ["image_raw"], "image topic itself"),
                              ("camera_info_topic", "~/info", "camera_info_topic: .*private")):
        with pytest.raises(ParameterError, match=match):
            TranslatorSettings.from_params({**config, key: value})


@pytest.mark.parametrize("flag,value", [("--output-ns", ""), ("--output-ns", "bad//ns"),
                                        ("--output-ns", "/ns/"), ("--input-ns", "rel"),
                                        ("--image-topic", "/3d/image"), ("--labels", "a-b")])
def test_bad_names_are_argparse_errors(tmp_path: Path, flag: str, value: str,
                                       capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["translate-bag", str(tmp_path / "in"), str(tmp_path / "out"), flag, value])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"sim2real-gan translate-bag: error: argument {flag}: "
                              f"{value!r} is not a valid ROS 2")
    assert not (tmp_path / "out").exists()


def test_labels_naming_the_image_is_an_argument_error(tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    """Exit 2 with one line, before the model or the bag is even looked at."""
    code = main(["translate-bag", str(tmp_path / "missing_in"), str(tmp_path / "out"),
                 "--labels", "/sim/camera/image_raw", "--model", str(tmp_path / "no_model")])
    assert code == 2
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors == ["sim2real-gan: error: --labels: /sim/camera/image_raw is the image topic "
                      "itself; label topics are the topics carried beside the image"]


def test_translate_bag_writes_the_node_plan(tmp_path: Path) -> None:
    """A bag with nested and outside label topics: the topics written are the node's."""
    import numpy as np
    from sim2real_gan.io.bag import BagWriter
    from sim2real_gan.io.ros_types import camera_info_msg, image_msg, make_header

    labels = ["segmentation", "left/depth", "/gz/labels_map"]
    inputs = ["/sim/camera/segmentation", "/sim/camera/left/depth", "/gz/labels_map"]
    with BagWriter(tmp_path / "in") as w:
        for t in ["/sim/camera/image_raw", *inputs]:
            w.add_topic(t, "sensor_msgs/msg/Image")
        w.add_topic("/sim/camera/camera_info", "sensor_msgs/msg/CameraInfo")
        for i in range(3):
            h = make_header(1_000 + i * 40_000_000, "cam")
            w.write("/sim/camera/image_raw", i, image_msg(np.zeros((4, 6, 3), np.uint8),
                                                          "rgb8", h))
            w.write("/sim/camera/camera_info", i, camera_info_msg(np.eye(3), 6, 4, h))
            for t in inputs:
                w.write(t, i, image_msg(np.zeros((4, 6), np.uint8), "mono8", h))
    cfg = BagTranslateConfig(label_topics=tuple(labels), progress=False)
    report = translate_bag(tmp_path / "in", tmp_path / "out", MessageTranslator(lambda x: x),
                           cfg)
    config = load_config(default_config_path())
    node = _node_plan(config, "/sim/camera", "/realistic/camera", "image_raw", labels)
    with BagReader(tmp_path / "out") as r:
        assert set(r.topics) == {dst for _, dst in node.routes}
        assert all(n == 3 for n in r.message_counts.values())
    assert report.frames_out == 3 and report.plan.routes == node.routes
    with BagReader(tmp_path / "in") as r:  # discovery: labels inside the input namespace
        plan, passthrough = plan_topics(r.topics, BagTranslateConfig())
    assert {s for s, _ in plan.labels} == {"/sim/camera/segmentation", "/sim/camera/left/depth"}
    assert passthrough == ["/gz/labels_map"]
