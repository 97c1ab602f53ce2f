"""Which topics of a recorded bag feed which frame field.

A sim or real source needs only a colour image topic. Unless configured, it is found by
name: a ``sensor_msgs/msg/Image`` topic ending in one of ``SUFFIXES["image"]`` that is not
a label/depth/flow topic; when a bag holds several (e.g. ``/sim/camera`` and
``/real/camera``), the one under the role's default namespace wins, else the user must
choose (training: ``topics: {image: ...}`` or ``namespace``; evaluate: ``--image-topic``).
Every other field is looked up first
under the image topic's namespace (``/endoscope/image`` -> ``/endoscope/seg/labels_map``,
``/endoscope/depth``, ``/endoscope/camera_info``), then anywhere in the bag when exactly
one topic has a matching name (Gazebo's default per-sensor topics). ``topics: {field: ""}``
turns a field off.

Shared by training (``training.data``), evaluation (``sim2real_gan.eval.own_data``) and
``dump``, so a recording is read the same way everywhere. Errors name the option that
chooses or turns off a field's topic (an :data:`Option`: the training recipe keys by default,
CLI flags for commands).
"""

from __future__ import annotations

from collections.abc import Callable

from sim2real_gan.sim.config import DEFAULT_NS as DEFAULT_NAMESPACE

IMAGE = "sensor_msgs/msg/Image"
CAMERA_INFO = "sensor_msgs/msg/CameraInfo"

#: field -> topic-name endings, in order of preference (simulate's names first, Gazebo's next)
SUFFIXES: dict[str, tuple[str, ...]] = {
    "image": ("image_raw", "image", "image_color", "image_rect_color", "image_rect"),
    "labels": ("segmentation", "labels_map", "seg/labels_map", "segmentation/labels_map",
               "labels"),
    "depth": ("depth", "depth/image_raw", "depth_image", "depth/image", "depth/image_rect_raw"),
    "uv": ("uv",),
    "flow": ("flow",),
    "valid": ("flow_valid",),
    "camera_info": ("camera_info",),
}
_NOT_COLOUR = {"depth", "seg", "segmentation", "labels", "labels_map", "colored_map", "flow",
               "flow_valid", "uv", "disparity", "ir", "infra1", "infra2"}


#: (field, off) -> how the user chooses that field's topic (off=False) or turns the field
#: off (off=True), e.g. ``data.sim.topics.labels`` / ``data.sim.topics.labels: ''``
Option = Callable[[str, bool], str]


def recipe_option(role: str) -> Option:
    """Training recipes choose a topic with ``data.<role>.topics.<field>``."""
    def option(name: str, off: bool) -> str:
        key = f"data.{role}.topics.{name}"
        if off:
            return f"{key}: ''"
        return f"{key} (or data.{role}.namespace)" if name == "image" else key
    return option


def _ends(topic: str, suffix: str) -> bool:
    return topic.endswith("/" + suffix)


def _type_for(name: str) -> str:
    return CAMERA_INFO if name == "camera_info" else IMAGE


def image_candidates(types: dict[str, str]) -> list[str]:
    """Image topics whose name says colour camera image (sorted)."""
    return sorted(t for t, ty in types.items() if ty == IMAGE
                  and any(_ends(t, s) for s in SUFFIXES["image"])
                  and not _NOT_COLOUR & set(t.split("/")[:-1] + [t.rsplit("/", 1)[-1]]))


def _pick_image(types: dict[str, str], topics: dict[str, str], namespace: str, role: str,
                where: str, option: Option) -> str:
    images = sorted(t for t, ty in types.items() if ty == IMAGE)
    if topics.get("image"):
        if types.get(topics["image"]) != IMAGE:
            raise ValueError(f"{where}: image topic {topics['image']} is not a "
                             f"{IMAGE} topic of the bag; its Image topics: {images}")
        return topics["image"]
    if namespace:
        tried = [f"{namespace}/{s}" for s in SUFFIXES["image"]]
        for t in tried:
            if types.get(t) == IMAGE:
                return t
        raise ValueError(f"{where}: no image topic under namespace {namespace} (tried "
                         f"{tried}); its Image topics: {images}")
    cands = image_candidates(types)
    if len(cands) > 1:
        mine = [t for t in cands if t.startswith(DEFAULT_NAMESPACE[role] + "/")]
        cands = mine if len(mine) == 1 else cands
    if len(cands) == 1:
        return cands[0]
    if not cands:
        raise ValueError(f"{where}: no camera image topic (expected a {IMAGE} topic named "
                         f".../image_raw or .../image, or one chosen with "
                         f"{option('image', False)}); its topics: {sorted(types)}")
    raise ValueError(f"{where}: several camera image topics {cands}; choose one with "
                     f"{option('image', False)}")


def _find(types: dict[str, str], name: str, ns: str, where: str, option: Option) -> str | None:
    ty = _type_for(name)
    for s in SUFFIXES[name]:
        if types.get(f"{ns}/{s}") == ty:
            return f"{ns}/{s}"
    hits = sorted(t for t, tt in types.items() if tt == ty
                  and any(_ends(t, s) for s in SUFFIXES[name]))
    if len(hits) > 1:
        raise ValueError(f"{where}: several {name} topics {hits}, none under {ns}; choose "
                         f"with {option(name, False)}, or {option(name, True)} to not use it")
    return hits[0] if hits else None


def resolve_topics(types: dict[str, str], wanted: tuple[str, ...], topics: dict[str, str],
                   namespace: str, role: str, where: str,
                   option: Option | None = None) -> dict[str, str]:
    """field -> topic for the image, each wanted field the bag has, and ``camera_info``.

    Args:
        types: the bag's topic -> message type.
        wanted: frame fields the caller would use (see frames.FIELDS).
        topics: user overrides field -> topic ('' = do not use that field).
        namespace: user namespace ('' = auto).
        where: names the bag in errors.
        option: names the option that chooses a field's topic in errors (default: the
            training recipe keys, :func:`recipe_option`).
    """
    option = option or recipe_option(role)
    ns = namespace.rstrip("/")
    out = {"image": _pick_image(types, topics, ns, role, where, option)}
    ns = ns or out["image"].rsplit("/", 1)[0]
    for name in (*wanted, "camera_info"):
        if name in out:
            continue
        if name in topics:
            t = topics[name]
            if t and types.get(t) != _type_for(name):
                raise ValueError(f"{where}: {name} topic {t} is not a {_type_for(name)} topic "
                                 f"of the bag; its topics: {sorted(types)}")
            if t:
                out[name] = t
        elif name == "target":  # paired real frames of a `simulate --paired` bag
            t = f"{DEFAULT_NAMESPACE['real']}/image_raw"
            if types.get(t) == IMAGE and t != out["image"]:
                out[name] = t
        elif name in SUFFIXES:
            t = _find(types, name, ns, where, option)
            if t is not None:
                out[name] = t
    return out
