"""Which reliability each input subscription uses (no rclpy: plain data in, choice out).

``qos`` parameter:
    ``auto``         (default) per topic, from the publishers seen on the graph: reliable
                     when every publisher is reliable (``ros_gz_bridge``, the synthetic
                     camera, most drivers), best effort as soon as one is best effort (a
                     reliable subscription would never hear it), reliable while there is no
                     publisher yet. The node re-checks while it runs and re-subscribes a
                     topic whose publishers changed. Same rule as rosbag2's recorder and
                     rmw's ``BEST_AVAILABLE``, which decide only once.
    ``reliable``     every input reliable (a best-effort publisher is incompatible: the
                     node warns naming the topic).
    ``sensor_data``  every input best effort (hears every publisher). With Cyclone DDS a
                     best-effort reader of a *reliable* writer of large (fragmented)
                     messages can stop receiving for good once its process lost 16 samples
                     in a row (docs/ros.md, "QoS"): prefer ``auto``.

Why reliable for a reliable publisher: every part of a frame (image, camera_info, each
label) must arrive whole or the frame is dropped as ``incomplete``; the node itself keeps
only the newest frame, so nothing queues (keep-last ``queue_depth``).

Example:
    >>> choose("auto", [Offer("/ros_gz_bridge", RELIABLE)]).reliability
    'reliable'
    >>> choose("auto", [Offer("/a", RELIABLE), Offer("/b", BEST_EFFORT)]).reliability
    'best_effort'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

QOS_MODES = ("auto", "reliable", "sensor_data")
RELIABLE = "reliable"
BEST_EFFORT = "best_effort"
RELIABILITIES = (RELIABLE, BEST_EFFORT)


@dataclass(frozen=True)
class Offer:
    """One publisher of a topic as the graph reports it: its node (``/ns/name``) and its
    reliability (``reliable``, ``best_effort``, or anything else the middleware reports,
    e.g. ``unknown``, taken as possibly best effort)."""

    node: str
    reliability: str


@dataclass(frozen=True)
class QoSChoice:
    """The subscription's reliability and why (``reason`` is one log phrase); ``mixed``:
    publishers of both kinds (best effort chosen so that every one is heard)."""

    reliability: str
    reason: str
    mixed: bool = False


def choose(mode: str, offers: Sequence[Offer]) -> QoSChoice:
    """Reliability for one input topic under ``mode`` given its publishers' offers.

    Raises:
        ValueError: ``mode`` is not one of :data:`QOS_MODES`.
    """
    if mode == "reliable":
        return QoSChoice(RELIABLE, "qos reliable")
    if mode == "sensor_data":
        return QoSChoice(BEST_EFFORT, "qos sensor_data")
    if mode != "auto":
        raise ValueError(f"qos: expected one of {list(QOS_MODES)}, got {mode!r}")
    if not offers:
        return QoSChoice(RELIABLE, "auto: no publisher yet")
    weak = sorted({o.node for o in offers if o.reliability != RELIABLE})
    if not weak:
        return QoSChoice(RELIABLE, f"auto: {_count(offers)} all reliable")
    strong = len(offers) - sum(o.reliability != RELIABLE for o in offers)
    return QoSChoice(BEST_EFFORT, f"auto: {_count(offers)}, best effort from "
                     f"{', '.join(weak)}", mixed=strong > 0)


def _count(offers: Sequence[Offer]) -> str:
    return f"{len(offers)} publisher{'s' if len(offers) != 1 else ''}"


def incompatible_text(name: str, topic: str, mode: str, policy: str, total: int) -> str:
    """The warning for an incompatible-QoS event on input ``name`` (``topic``)."""
    fix = ("set qos:=auto (matches each topic to its publishers) or qos:=sensor_data"
           if mode == "reliable" else "check the publisher's QoS (ros2 topic info -v)")
    return (f"input {name}: a publisher on {topic} offers a QoS this subscription cannot "
            f"match ({policy}; {total} such publisher event(s)): its messages are not "
            f"received and frames wait for them; {fix}")


def mixed_text(name: str, topic: str, choice: QoSChoice) -> str:
    """The warning when ``auto`` had to pick best effort beside reliable publishers."""
    return (f"input {name}: publishers on {topic} mix reliable and best effort ({choice.reason}"
            f"); subscribed best effort so every one is heard. With Cyclone DDS a best-effort "
            f"reader of a reliable writer of large messages can stop receiving under load "
            f"(docs/ros.md, QoS): make the publishers agree")
