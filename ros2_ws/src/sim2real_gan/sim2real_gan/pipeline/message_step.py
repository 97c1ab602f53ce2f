"""The message path of one frame: decode Image -> translate -> encode Image fields.

Shared by the ROS node (rclpy messages) and ``translate-bag`` (rosbags messages): the codec is
duck-typed, and the result is a dict of Image fields that either side turns into its own
message type with the *input* header.

Example:
    >>> step = MessageTranslator(translator.translate, aux_keys={"uv": "/sim/camera/uv"})
    >>> fields = step(image_msg, {"/sim/camera/uv": uv_msg})      # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim2real_gan.artifact.pixels import check_frames
from sim2real_gan.io.image_codec import (
    from_rgb8,
    image_to_numpy,
    numpy_to_image_fields,
    to_rgb8,
)
from sim2real_gan.pipeline.faults import FrameFault

COLOUR_ENCODINGS = ("rgb8", "bgr8", "rgba8", "bgra8")


@dataclass
class StepTimes:
    """Accumulated seconds: ``engine`` (translate call only) and ``total`` (whole step)."""

    frames: int = 0
    engine_s: float = 0.0
    total_s: float = 0.0

    @property
    def engine_fps(self) -> float:
        return self.frames / self.engine_s if self.engine_s > 0 else 0.0

    @property
    def total_fps(self) -> float:
        return self.frames / self.total_s if self.total_s > 0 else 0.0


class MessageTranslator:
    """Image message (+ aux label messages) -> translated Image fields, same size.

    Args:
        translate: ``f(rgb uint8 (H,W,3), **aux) -> uint8 (H,W,3)``, e.g.
            ``Translator.translate``; aux keyword arguments are float32 (H,W[,C]) arrays.
        aux_keys: aux argument name -> label key holding that stream, e.g.
            ``{"uv": "/sim/camera/uv"}`` (the model's declared aux inputs).
        output_encoding: encoding of the output; None = the input's colour encoding
            (rgb8/bgr8/rgba8/bgra8), or rgb8 for mono8 input.
    """

    def __init__(self, translate: Callable[..., np.ndarray],
                 aux_keys: Mapping[str, str] | None = None,
                 output_encoding: str | None = None):
        if output_encoding is not None and output_encoding not in COLOUR_ENCODINGS:
            raise ValueError(f"output_encoding must be one of {COLOUR_ENCODINGS}, got "
                             f"{output_encoding!r}")
        self._translate = translate
        self.aux_keys = dict(aux_keys or {})
        self.output_encoding = output_encoding
        self.times = StepTimes()

    def __call__(self, image: Any, labels: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Translate one decoded Image message; ``labels`` maps label key -> decoded message.

        Returns:
            Image fields (height, width, encoding, is_bigendian, step, data) of the output.
        Raises:
            ImageEncodingError (a ValueError) for an image or aux stream the codec refuses,
            whatever the translate function raises, ``artifact.pixels.InputError`` (a
            ValueError) for an output that is not uint8 of the input's shape.
        """
        t0 = time.perf_counter()
        rgb = self._decode_image(image)
        aux = {name: self._decode_aux(key, labels) for name, key in self.aux_keys.items()}
        return self._run(rgb, aux, image.encoding, t0)

    def translate_frame(self, image: Any, labels: Mapping[str, Any] | None, *,
                        image_topic: str, stamp_ns: int) -> dict[str, Any]:
        """As :meth:`__call__`, but a failure is a :class:`FrameFault` naming the stage
        (``decode`` of the image or an aux stream, ``translate``), the topic and the stamp."""
        t0 = time.perf_counter()
        try:
            rgb = self._decode_image(image)
        except ValueError as exc:
            raise FrameFault("decode", image_topic, stamp_ns, str(exc)) from exc
        aux = {}
        for name, key in self.aux_keys.items():
            try:
                aux[name] = self._decode_aux(key, labels)
            except ValueError as exc:
                raise FrameFault("decode", key, stamp_ns, f"aux input {name}: {exc}") from exc
        try:
            return self._run(rgb, aux, image.encoding, t0)
        except Exception as exc:  # noqa: BLE001 - any engine failure is this frame's fault
            raise FrameFault("translate", image_topic, stamp_ns,
                             f"{type(exc).__name__}: {exc}") from exc

    @staticmethod
    def _decode_image(image: Any) -> np.ndarray:
        return to_rgb8(image_to_numpy(image), image.encoding)

    @staticmethod
    def _decode_aux(key: str, labels: Mapping[str, Any] | None) -> np.ndarray:
        if labels is None or key not in labels:
            raise KeyError(f"aux input needs label {key!r}, which the frame lacks")
        return np.asarray(image_to_numpy(labels[key]), dtype=np.float32)

    def _run(self, rgb: np.ndarray, aux: dict[str, np.ndarray], in_encoding: str,
             t0: float) -> dict[str, Any]:
        t1 = time.perf_counter()
        out = self._translate(rgb, **aux)
        t2 = time.perf_counter()
        check_frames(out, "translator output", shape=rgb.shape)
        enc = self.output_encoding or (
            in_encoding if in_encoding in COLOUR_ENCODINGS else "rgb8")
        fields = numpy_to_image_fields(from_rgb8(out, enc), enc)
        t3 = time.perf_counter()
        self.times.frames += 1
        self.times.engine_s += t2 - t1
        self.times.total_s += t3 - t0
        return fields
