"""The translator's input subscriptions (rclpy glue over ``qos_choice`` and the monitor).

One subscription per input (image, camera_info, each label topic). Its reliability comes
from :func:`sim2real_gan.node.qos_choice.choose`: with ``qos: auto`` from the publishers
the graph reports for that topic, re-checked by :meth:`InputSubscriptions.refresh` (the
node calls it twice a second), which re-subscribes a topic whose choice changed. An
incompatible-QoS event (a publisher this subscription cannot hear) is one warning naming
the input, its topic, the policy and the fix. Every message is noted in the
:class:`~sim2real_gan.pipeline.monitor.InputMonitor` before it is handed on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rclpy.event_handler import SubscriptionEventCallbacks
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSPolicyKind, QoSProfile, ReliabilityPolicy

from sim2real_gan.node.qos_choice import (
    RELIABLE,
    Offer,
    QoSChoice,
    choose,
    incompatible_text,
    mixed_text,
)
from sim2real_gan.pipeline.monitor import InputMonitor


@dataclass(frozen=True)
class Input:
    """One input: message type, topic and the name used in lines and diagnostics."""

    msg_type: type
    topic: str
    name: str


def subscription_qos(reliability: str, depth: int) -> QoSProfile:
    """Keep-last ``depth``, volatile (matches volatile and transient-local publishers)."""
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=int(depth),
                      durability=DurabilityPolicy.VOLATILE,
                      reliability=(ReliabilityPolicy.RELIABLE if reliability == RELIABLE
                                   else ReliabilityPolicy.BEST_EFFORT))


def offers(node: Node, topic: str) -> list[Offer]:
    """The publishers of ``topic`` as the graph reports them (plain data)."""
    return [Offer(f"{i.node_namespace.rstrip('/')}/{i.node_name}",
                  i.qos_profile.reliability.name.lower())
            for i in node.get_publishers_info_by_topic(topic)]


class InputSubscriptions:
    """See the module docstring. ``on_message(key, msg)`` receives every message."""

    def __init__(self, node: Node, inputs: Mapping[str, Input], mode: str, depth: int,
                 on_message: Callable[[str, Any], None], monitor: InputMonitor):
        self.node, self.inputs, self.mode, self.depth = node, dict(inputs), mode, depth
        self.on_message, self.monitor = on_message, monitor
        self.log = node.get_logger()
        self.choices: dict[str, QoSChoice] = {}
        self.incompatible: dict[str, str] = {}  # key -> last warning (tests, diagnostics)
        self._subs: dict[str, Any] = {}
        self._mixed_warned: set[str] = set()

    def open(self) -> None:
        """Subscribe every input with its chosen reliability."""
        for key in self.inputs:
            self._subscribe(key, choose(self.mode, offers(self.node, self.inputs[key].topic)))

    def refresh(self) -> None:
        """``auto``: re-choose each topic's reliability from its current publishers and
        re-subscribe where it changed (a moment of messages may be missed then)."""
        if self.mode != "auto":
            return
        for key, spec in self.inputs.items():
            choice = choose(self.mode, offers(self.node, spec.topic))
            if choice.reliability != self.choices[key].reliability:
                self.node.destroy_subscription(self._subs.pop(key))
                self._subscribe(key, choice)
            self.choices[key] = choice
            self._warn_mixed(key, choice)

    def close(self) -> None:
        for sub in self._subs.values():
            self.node.destroy_subscription(sub)
        self._subs = {}

    def summary(self) -> str:
        """``image_raw reliable, depth best_effort``: the reliability each input uses."""
        return ", ".join(f"{self.inputs[k].name} {c.reliability}"
                         for k, c in self.choices.items())

    def _subscribe(self, key: str, choice: QoSChoice) -> None:
        spec = self.inputs[key]
        events = SubscriptionEventCallbacks(
            incompatible_qos=lambda info, k=key: self._incompatible(k, info))
        self._subs[key] = self.node.create_subscription(
            spec.msg_type, spec.topic, lambda msg, k=key: self._received(k, msg),
            subscription_qos(choice.reliability, self.depth), event_callbacks=events)
        self.choices[key] = choice
        self.log.info(f"input {spec.name}: {spec.topic} subscribed {choice.reliability} "
                      f"depth {self.depth} ({choice.reason})")
        self._warn_mixed(key, choice)

    def _warn_mixed(self, key: str, choice: QoSChoice) -> None:
        """Once per input: ``auto`` had to pick best effort beside reliable publishers."""
        if choice.mixed and key not in self._mixed_warned:
            self._mixed_warned.add(key)
            spec = self.inputs[key]
            self.log.warning(mixed_text(spec.name, spec.topic, choice))

    def _received(self, key: str, msg: Any) -> None:
        self.monitor.note(key)
        self.on_message(key, msg)

    def _incompatible(self, key: str, info: Any) -> None:
        spec = self.inputs[key]
        try:
            policy = QoSPolicyKind(info.last_policy_kind).name.lower()
        except ValueError:
            policy = f"policy {info.last_policy_kind}"
        if self.mode == "auto":  # the next refresh re-chooses from the publishers
            self.log.info(f"input {spec.name}: an incompatible publisher appeared on "
                          f"{spec.topic} ({policy}); re-choosing its QoS")
            return
        text = incompatible_text(spec.name, spec.topic, self.mode, policy, info.total_count)
        self.incompatible[key] = text
        self.log.warning(text)
