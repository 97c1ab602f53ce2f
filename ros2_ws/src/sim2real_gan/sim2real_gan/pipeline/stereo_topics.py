"""The stereo topic plan: both eyes of a stereo scope in the ``stereo_image_proc`` layout.

A stereo request names the input and output namespaces, the two eye namespaces (relative,
default ``left`` and ``right``) and, as for a mono camera, the image topic, camera_info and
label topics, here *relative to each eye's namespace*. Each eye is planned with the mono
rule of :mod:`sim2real_gan.pipeline.topics`, so ``<in>/left/image_raw`` ->
``<out>/left/image_raw`` and ``<in>/right/segmentation`` -> ``<out>/right/segmentation``.

The synchroniser sees one *frame* per stereo instant: the left eye's image is the frame's
image, its camera_info the frame's camera_info, and everything else (the left labels, the
right image, the right camera_info, the right labels) are label keys of that frame
(:attr:`StereoPlan.frame`). So a pair is complete only with both eyes' images, labels and
camera_infos at one stamp, and it is dropped as one.

Example:
    >>> plan = StereoRequest(TopicRequest("/sim/camera", "/realistic/camera",
    ...                      labels=("segmentation",))).plan()
    >>> plan.right.image
    Route(src='/sim/camera/right/image_raw', dst='/realistic/camera/right/image_raw')
    >>> [r.src for r in plan.frame.labels]  # doctest: +NORMALIZE_WHITESPACE
    ['/sim/camera/left/segmentation', '/sim/camera/right/image_raw',
     '/sim/camera/right/camera_info', '/sim/camera/right/segmentation']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from sim2real_gan.pipeline.topics import (
    CLI_NAMES,
    NODE_NAMES,
    TopicError,
    TopicPlan,
    TopicRequest,
    _validated,
    check_name,
    name_problem,
    resolve,
)

EYES = ("left", "right")
STEREO_NODE_NAMES: Mapping[str, str] = MappingProxyType({
    **NODE_NAMES, "left_ns": "left_ns", "right_ns": "right_ns"})
"""Node parameter names of the stereo request fields (error messages)."""
STEREO_CLI_NAMES: Mapping[str, str] = MappingProxyType({
    **CLI_NAMES, "left_ns": "--left-ns", "right_ns": "--right-ns"})
"""``translate-bag --stereo`` flag names of the stereo request fields."""


@dataclass(frozen=True)
class StereoPlan:
    """Both eyes' routes and the synchroniser's frame plan.

    ``left`` / ``right``: each eye's :class:`TopicPlan` (input/output namespaces are the eye
    namespaces). ``frame``: one TopicPlan whose image and camera_info are the left eye's and
    whose labels are the left labels, the right image, the right camera_info and the right
    labels (in that order); its routes are all routes of both eyes.
    """

    left: TopicPlan
    right: TopicPlan
    frame: TopicPlan

    def eye(self, name: str) -> TopicPlan:
        """The plan of eye ``name`` ("left" or "right")."""
        if name not in EYES:
            raise KeyError(f"eye must be one of {EYES}, got {name!r}")
        return self.left if name == "left" else self.right

    @property
    def right_image_key(self) -> str:
        """The synchroniser key of the right image (its input topic)."""
        return self.right.image.src

    @property
    def right_camera_info_key(self) -> str | None:
        """The synchroniser key of the right camera_info, or None when not carried."""
        return self.right.camera_info.src if self.right.camera_info else None

    def aux_topics(self, names: Mapping[str, str]) -> dict[str, dict[str, str]]:
        """Eye -> {aux input name -> topic beside that eye's image} for a model's aux
        streams (``names``: input name -> topic name, e.g. ``{"uv": "uv"}``)."""
        return {e: {n: self.eye(e).aux_topic(t) for n, t in names.items()} for e in EYES}

    def with_labels(self, left: Iterable[str], right: Iterable[str]) -> StereoPlan:
        """The plan plus absolute label topics per eye (discovered labels, aux streams)."""
        return _stereo_plan(self.left.with_labels(left), self.right.with_labels(right))


def _frame_plan(left: TopicPlan, right: TopicPlan) -> TopicPlan:
    right_parts = (right.image, *((right.camera_info,) if right.camera_info else ()))
    common = _common_ns(left.input_ns, right.input_ns)
    out_common = _common_ns(left.output_ns, right.output_ns)
    plan = replace(left, input_ns=common, output_ns=out_common,
                   labels=left.labels + right_parts + right.labels)
    return _validated(plan)


def _common_ns(a: str, b: str) -> str:
    pa, pb = a.strip("/").split("/"), b.strip("/").split("/")
    common = []
    for x, y in zip(pa, pb, strict=False):
        if x != y:
            break
        common.append(x)
    return "/" + "/".join(common)


def _stereo_plan(left: TopicPlan, right: TopicPlan) -> StereoPlan:
    return StereoPlan(left, right, _frame_plan(left, right))


@dataclass(frozen=True)
class StereoRequest:
    """A stereo camera: ``base`` holds the namespaces and the per-eye relative topic names
    (image, camera_info, labels); ``left_ns`` / ``right_ns`` the eye namespaces, relative to
    both ``base.input_ns`` and ``base.output_ns``.

    Raises (from :meth:`plan`): TopicError naming the parameter or flag, for an absolute
    per-eye name (it could not belong to both eyes), an absolute or equal eye namespace, or
    any mono rule broken.
    """

    base: TopicRequest
    left_ns: str = "left"
    right_ns: str = "right"
    names: Mapping[str, str] = field(default_factory=lambda: STEREO_NODE_NAMES,
                                     compare=False, repr=False)

    def plan(self) -> StereoPlan:
        n, b = self.names, self.base
        in_ns = check_name(n["input_ns"], b.input_ns, namespace=True)
        out_ns = check_name(n["output_ns"], b.output_ns, namespace=True)
        eyes = {}
        for eye, ns in (("left", self.left_ns), ("right", self.right_ns)):
            what = n[f"{eye}_ns"]
            check_name(what, ns)
            if ns.startswith("/"):
                raise TopicError(f"{what}: {ns!r} must be relative: the eye namespaces lie "
                                 f"under the input and the output namespace")
            eyes[eye] = ns
        if eyes["left"] == eyes["right"]:
            raise TopicError(f"{n['left_ns']} and {n['right_ns']}: both are {self.left_ns!r}; "
                             "the two eyes need two namespaces")
        per_eye = [("image", b.image), ("camera_info", b.camera_info),
                   *(("labels", t) for t in b.labels)]
        for what, name in per_eye:
            if name is not None and name.startswith("/"):
                raise TopicError(f"{n[what]}: {name!r} is absolute; in stereo mode topic "
                                 f"names are relative to each eye's namespace ({in_ns}/"
                                 f"{eyes['left']} and {in_ns}/{eyes['right']})")
        plans = {e: replace(b, input_ns=resolve(in_ns, ns), output_ns=resolve(out_ns, ns),
                            names=n).plan() for e, ns in eyes.items()}
        return _stereo_plan(plans["left"], plans["right"])


def depth_topic_problem(name: str) -> str | None:
    """Why ``name`` cannot be the per-eye depth topic (``stereo_depth_topic``,
    ``--stereo-depth-topic``), or None: "" (off) or a relative ROS 2 topic name."""
    if not name:
        return None
    if name.startswith("/"):
        return (f"{name!r} is absolute; name the depth topic relative to each eye's namespace "
                "(e.g. depth)")
    problem = name_problem(name)
    return None if problem is None else f"{name!r} is not a valid ROS 2 topic name: {problem}"
