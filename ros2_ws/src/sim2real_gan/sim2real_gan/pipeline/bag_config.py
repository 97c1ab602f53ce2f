"""Settings of ``translate-bag`` (its flags) and its exit rule, without heavy imports.

The CLI builds its argument parser from these defaults; :mod:`sim2real_gan.pipeline.
bag_translate` does the work.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim2real_gan.pipeline.stereo_topics import STEREO_CLI_NAMES, StereoRequest
from sim2real_gan.pipeline.topics import CLI_NAMES, TopicError, TopicRequest, check_name, parent

DEFAULT_MAX_DROP_FRACTION = 0.05
"""More than 1 in 20 frames lost means a missing topic or wrong sync settings, not noise
(a recording typically loses the first one or two frames, whose labels the recorder missed)."""


@dataclass(frozen=True)
class BagTranslateConfig:
    """What to translate and where it goes (the flags of ``translate-bag``).

    Args:
        image_topic: input image topic (absolute, or relative to ``input_ns``).
        output_ns: namespace of the translated image, labels and camera_info.
        input_ns: input namespace; None = the image topic's parent.
        label_topics: label topics to carry (relative to ``input_ns`` or absolute); None =
            every other stamped topic inside the input namespace (except camera_info).
        camera_info: carry ``camera_info_topic`` when the bag has it.
        camera_info_topic: relative to ``input_ns`` or absolute.
        keep_input: also copy the input namespace's topics unchanged under their own names.
        storage: ``"mcap"`` or ``"sqlite3"``; None = the input bag's storage.
        overwrite: replace an existing output bag.
        slop_ns, hold_ns, max_pending, reorder_ns, episode_gap_ns: synchroniser settings
            (hold in bag log time, reorder window in stamp time).
        progress: show a tqdm bar.
        stereo: translate a stereo pair (docs/stereo.md): ``image_topic``, ``camera_info_topic``
            and ``label_topics`` name each eye's topics relative to ``<input_ns>/<left_ns>``
            and ``<input_ns>/<right_ns>``; an absolute ``image_topic`` gives the input
            namespace (its parent, unless ``input_ns``) and the image name (its last part).
        left_ns, right_ns: the eye namespaces (relative), under the input and output ones.
        stereo_depth_topic: each eye's depth topic (relative to the eye); when both eyes
            carry it with camera_info, the right eye's pixels that the left eye also sees are
            the left translation reprojected (docs/stereo.md); "" = off.
    """

    image_topic: str = "/sim/camera/image_raw"
    output_ns: str = "/realistic/camera"
    input_ns: str | None = None
    label_topics: tuple[str, ...] | None = None
    camera_info: bool = True
    camera_info_topic: str = "camera_info"
    keep_input: bool = False
    storage: str | None = None
    overwrite: bool = False
    slop_ns: int = 0
    hold_ns: int = 1_000_000_000
    max_pending: int = 64
    reorder_ns: int = 200_000_000
    episode_gap_ns: int = 1_000_000_000
    progress: bool = True
    stereo: bool = False
    left_ns: str = "left"
    right_ns: str = "right"
    stereo_depth_topic: str = "depth"

    def request(self, with_camera_info: bool | None = None) -> TopicRequest:
        """The topic request of these flags (TopicError for a bad name or combination)."""
        ns = self.input_ns
        if ns is None:
            check_name(CLI_NAMES["image"], self.image_topic)
            if not self.image_topic.startswith("/"):
                raise TopicError(f"--image-topic: {self.image_topic!r} is relative; give "
                                 "--input-ns or an absolute image topic")
            ns = parent(self.image_topic)
        info = self.camera_info if with_camera_info is None else with_camera_info
        return TopicRequest(ns, self.output_ns, self.image_topic,
                            self.camera_info_topic if info else None,
                            tuple(self.label_topics or ()), CLI_NAMES)

    def stereo_request(self, with_camera_info: bool | None = None) -> StereoRequest:
        """The stereo topic request of these flags (TopicError for a bad name)."""
        check_name(CLI_NAMES["image"], self.image_topic)
        ns, image = self.input_ns, self.image_topic
        if image.startswith("/"):
            ns = ns or parent(image)
            image = image.rsplit("/", 1)[-1]
        elif ns is None:
            raise TopicError(f"--image-topic: {image!r} is relative; give --input-ns or an "
                             "absolute image topic (its parent is the pair's namespace)")
        info = self.camera_info if with_camera_info is None else with_camera_info
        base = TopicRequest(ns, self.output_ns, image, self.camera_info_topic if info else None,
                            tuple(self.label_topics or ()), STEREO_CLI_NAMES)
        return StereoRequest(base, self.left_ns, self.right_ns, STEREO_CLI_NAMES)

    def check(self) -> None:
        """Resolve the topic request now (TopicError), mono or stereo."""
        (self.stereo_request() if self.stereo else self.request()).plan()
