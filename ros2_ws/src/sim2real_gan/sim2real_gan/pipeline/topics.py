"""One topic plan for the node, ``translate-bag`` and the launch file (no rclpy).

A *request* names the input namespace, the output namespace, the image topic, camera_info
and the label topics (node parameters or ``translate-bag`` flags); :meth:`TopicRequest.plan`
resolves it into a :class:`TopicPlan` of (input, output) routes with one rule:

- **Input names**: a relative name is resolved under ``input_ns``; an absolute one is kept.
- **Output names**: a topic inside ``input_ns`` keeps its path relative to ``input_ns``,
  under ``output_ns`` (``/sim/camera/left/seg`` -> ``/realistic/camera/left/seg``, whether
  it was given as ``left/seg`` or in full). A topic outside ``input_ns`` goes directly under
  ``output_ns`` with its last name (``/gz/labels_map`` -> ``/realistic/camera/labels_map``):
  the output namespace is one camera namespace whose image, camera_info and labels are
  siblings, as ROS camera tools (image_proc, bag consumers) expect.
- Every output lies under ``output_ns`` (so ``ros2 bag record -e '^<output_ns>/'`` records
  them all); two inputs may not share an output, and an output may not be an input.

Names follow the ROS 2 rules (design article "Topic and Service names", rcl's
``rcl_validate_topic_name`` / rmw's ``rmw_validate_full_topic_name``): not empty; only
ASCII letters, digits, ``_`` and ``/``; no ``//``; no trailing ``/``; no token starting with
a digit; at most 247 characters once resolved. Namespaces must be absolute (the plan is the
same for a node in the root namespace and for a bag, which has no node namespace); ``/`` is
a valid namespace. ``~`` (private names) and ``{...}`` substitutions are refused: both
depend on a node's name, which the offline twin does not have.

Example:
    >>> req = TopicRequest("/sim/camera", "/realistic/camera", "image_raw", "camera_info",
    ...                    ("segmentation", "/gz/labels_map", "left/depth"))
    >>> [r.dst for r in req.plan().labels]
    ['/realistic/camera/segmentation', '/realistic/camera/labels_map', '/realistic/camera/left/depth']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import NamedTuple

MAX_NAME_LENGTH = 247  # rmw: 255 minus the DDS prefix ("rt/")
FIELDS = ("input_ns", "output_ns", "image", "camera_info", "labels")
NODE_NAMES: Mapping[str, str] = MappingProxyType({
    "input_ns": "input_ns", "output_ns": "output_ns", "image": "image_topic",
    "camera_info": "camera_info_topic", "labels": "label_topics"})
"""How the node's parameters name each request field (used in error messages)."""
CLI_NAMES: Mapping[str, str] = MappingProxyType({
    "input_ns": "--input-ns", "output_ns": "--output-ns", "image": "--image-topic",
    "camera_info": "--camera-info-topic", "labels": "--labels"})
"""How ``translate-bag``'s flags name each request field."""


class TopicError(ValueError):
    """A topic or namespace name breaks the ROS 2 rules, or the plan is inconsistent."""


# ------------------------------------------------------------------------------ names
def name_problem(value: object, namespace: bool = False) -> str | None:
    """Why ``value`` is not a valid ROS 2 topic (or absolute namespace) name; None if valid."""
    if not isinstance(value, str):
        return f"expected a string, got {type(value).__name__}"
    if value == "":
        return "must not be empty"
    if "~" in value or "{" in value or "}" in value:
        return ("private ('~') and substitution ('{...}') names are not supported; give a "
                "relative or absolute name")
    if namespace and not value.startswith("/"):
        return "a namespace must be absolute (start with '/')"
    if value == "/":
        return None if namespace else "'/' alone is a namespace, not a topic"
    if value.endswith("/"):
        return "must not end with '/'"
    if "//" in value:
        return "must not contain '//'"
    for token in value.lstrip("/").split("/"):
        bad = sorted({c for c in token if not (c.isascii() and (c.isalnum() or c == "_"))})
        if bad:
            return f"contains {''.join(bad)!r}: only letters, digits, '_' and '/' are allowed"
        if token[0].isdigit():
            return f"the token {token!r} starts with a digit"
    if len(value) > MAX_NAME_LENGTH:
        return f"is {len(value)} characters long, more than {MAX_NAME_LENGTH}"
    return None


def check_name(what: str, value: object, namespace: bool = False) -> str:
    """``value`` if it is a valid name, else TopicError naming ``what`` and the rule broken."""
    problem = name_problem(value, namespace)
    if problem:
        kind = "namespace" if namespace else "topic name"
        raise TopicError(f"{what}: {value!r} is not a valid ROS 2 {kind}: {problem}")
    return value  # type: ignore[return-value]


def resolve(ns: str, name: str) -> str:
    """``name`` under namespace ``ns``; absolute names are kept."""
    if name.startswith("/"):
        return name
    return "/" + name if ns == "/" else f"{ns}/{name}"


def parent(topic: str) -> str:
    """Namespace of an absolute topic: ``/a/b/c`` -> ``/a/b``, ``/c`` -> ``/``."""
    return topic.rsplit("/", 1)[0] or "/"


def relative_to(ns: str, topic: str) -> str | None:
    """Path of ``topic`` below namespace ``ns``, or None when it lies outside."""
    if ns == "/":
        return topic[1:]
    return topic[len(ns) + 1:] if topic.startswith(ns + "/") else None


def output_topic(input_ns: str, output_ns: str, topic: str) -> str:
    """The output name of absolute input ``topic`` (the module's rule)."""
    rel = relative_to(input_ns, topic)
    return resolve(output_ns, rel if rel is not None else topic.rsplit("/", 1)[-1])


# ------------------------------------------------------------------------------ plan
class Route(NamedTuple):
    """One input topic and the output topic it is republished on."""

    src: str
    dst: str


@dataclass(frozen=True)
class TopicPlan:
    """Resolved routes. ``camera_info`` is None when camera_info is not carried."""

    input_ns: str
    output_ns: str
    image: Route
    camera_info: Route | None
    labels: tuple[Route, ...]
    names: Mapping[str, str] = field(default_factory=lambda: NODE_NAMES, compare=False,
                                     repr=False)

    @property
    def routes(self) -> tuple[Route, ...]:
        """Image, camera_info (if carried) and labels, in that order."""
        info = (self.camera_info,) if self.camera_info else ()
        return (self.image, *info, *self.labels)

    @property
    def label_routes(self) -> dict[str, str]:
        """Input label topic -> output topic."""
        return dict(self.labels)

    def aux_topic(self, name: str) -> str:
        """A model's aux stream (e.g. ``uv``) resolved beside the image topic."""
        return resolve(parent(self.image.src), name)

    def with_labels(self, topics: Iterable[str]) -> TopicPlan:
        """The plan plus absolute label ``topics`` not yet carried (discovered labels, a
        model's aux inputs), validated again."""
        known = {r.src for r in self.routes}
        extra = [t for t in topics if t not in known]
        new = tuple(Route(t, output_topic(self.input_ns, self.output_ns, t)) for t in extra)
        return _validated(replace(self, labels=self.labels + new))


@dataclass(frozen=True)
class TopicRequest:
    """What the user asked for, before resolution (see the module docstring).

    Args:
        input_ns, output_ns: absolute namespaces.
        image: image topic, relative to ``input_ns`` or absolute.
        camera_info: camera_info topic (relative or absolute); None = not carried.
        labels: label topics (relative or absolute).
        names: request field -> the name the user knows it by (a node parameter or a CLI
            flag), for error messages; default the node's parameter names.
    """

    input_ns: str
    output_ns: str
    image: str = "image_raw"
    camera_info: str | None = "camera_info"
    labels: tuple[str, ...] = ()
    names: Mapping[str, str] = field(default_factory=lambda: NODE_NAMES, compare=False,
                                     repr=False)

    def plan(self) -> TopicPlan:
        """Resolve and validate; TopicError names the parameter/flag and the problem."""
        n = self.names
        in_ns = check_name(n["input_ns"], self.input_ns, namespace=True)
        out_ns = check_name(n["output_ns"], self.output_ns, namespace=True)

        def route(field: str, name: str) -> Route:
            src = resolve(in_ns, check_name(n[field], name))
            return Route(src, output_topic(in_ns, out_ns, src))

        image = route("image", self.image)
        info = route("camera_info", self.camera_info) if self.camera_info is not None else None
        labels = tuple(route("labels", t) for t in self.labels)
        for r in labels:
            if r.src == image.src:
                raise TopicError(f"{n['labels']}: {r.src} is the image topic itself; label "
                                 "topics are the topics carried beside the image")
            if info is not None and r.src == info.src:
                raise TopicError(f"{n['labels']}: {r.src} is the camera_info topic, which is "
                                 "carried already")
        return _validated(TopicPlan(in_ns, out_ns, image, info, labels, n))


def _validated(plan: TopicPlan) -> TopicPlan:
    """Check resolved names, duplicates, shared outputs and feedback loops."""
    n = plan.names
    for r in plan.routes:
        check_name(n["labels"] if r in plan.labels else n["image"], r.src)
        check_name(n["output_ns"], r.dst)
    srcs = [r.src for r in plan.routes]
    twice = sorted({s for s in srcs if srcs.count(s) > 1})
    if twice:
        raise TopicError(f"{n['labels']}: input topics {twice} appear twice")
    by_dst: dict[str, list[str]] = {}
    for r in plan.routes:
        by_dst.setdefault(r.dst, []).append(r.src)
    shared = {d: s for d, s in by_dst.items() if len(s) > 1}
    if shared:
        what = "; ".join(f"{' and '.join(s)} -> {d}" for d, s in sorted(shared.items()))
        raise TopicError(f"{n['labels']}: output topics {sorted(shared)} would carry more than "
                         f"one input ({what}); rename or drop one input")
    loops = sorted(set(srcs) & set(by_dst))
    if loops:
        raise TopicError(f"{n['output_ns']}: output topics {loops} are also inputs (the "
                         "translation would feed back into itself); choose another output "
                         "namespace")
    return plan
