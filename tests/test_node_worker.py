"""The node's translation thread without ROS: real Translator (ONNX Runtime), real
synchroniser, Image messages from the rosbags typestore (same fields as rclpy's)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from sim2real_gan.io.image_codec import image_to_numpy
from sim2real_gan.io.ros_types import image_msg, make_header, stamp_to_ns
from sim2real_gan.node.params import StyleSpec
from sim2real_gan.node.worker import TranslationWorker
from sim2real_gan.pipeline import FrameSynchronizer, SyncConfig
from sim2real_gan.runtime import Translator
from sim2real_gan.runtime.styles import seed_style
from test_export_onnx import make_artifact

SEG, DEPTH, UV = "/sim/camera/segmentation", "/sim/camera/depth", "/sim/camera/uv"
H, W = 24, 32


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_artifact(tmp_path_factory.mktemp("node_plain"))


@pytest.fixture(scope="module")
def uv_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_artifact(tmp_path_factory.mktemp("node_uv"), aux=("uv",), texture=4)


def add_frame(sync: FrameSynchronizer, stamp: int, uv: bool = False,
              encoding: str = "rgb8") -> None:
    """One frame's messages, labels first (arrival order must not matter)."""
    header = make_header(stamp, "endoscope_optical_frame")
    rng = np.random.default_rng(stamp % 2**32)
    sync.add_label(SEG, stamp, image_msg(np.full((H, W), stamp % 7, np.uint8), "mono8", header))
    sync.add_label(DEPTH, stamp, image_msg(np.full((H, W), 0.1, np.float32), "32FC1", header))
    if uv:
        sync.add_label(UV, stamp, image_msg(rng.random((H, W, 2), np.float32), "32FC2", header))
    if encoding == "16UC1":
        sync.add_image(stamp, image_msg(np.zeros((H, W), np.uint16), "16UC1", header))
    else:
        sync.add_image(stamp, image_msg(rng.integers(0, 255, (H, W, 3), np.uint8), encoding,
                                        header))


class Recorder:
    """The publish callable: keeps (image stamp, output image, label stamps)."""

    def __init__(self, delay_s: float = 0.0):
        self.out: list[tuple[int, np.ndarray, dict[str, int], str]] = []
        self.delay_s = delay_s
        self.lock = threading.Lock()

    def __call__(self, frame, fields) -> None:
        time.sleep(self.delay_s)  # a slow consumer, to overload the pipeline
        img = np.frombuffer(fields["data"], np.uint8).reshape(fields["height"], fields["width"],
                                                               3)
        labels = {k: stamp_to_ns(m.header.stamp) for k, m in frame.labels.items()}
        with self.lock:
            self.out.append((stamp_to_ns(frame.image.header.stamp), img.copy(), labels,
                             fields["encoding"]))


def make_sync(keys=(SEG, DEPTH), episode_gap_ns: int = 0) -> FrameSynchronizer:
    return FrameSynchronizer(SyncConfig(label_keys=keys, camera_info=False, max_pending=4,
                                        episode_gap_ns=episode_gap_ns))


def test_each_frame_is_translated_with_its_own_labels(artifact: Path) -> None:
    t = Translator.from_artifact(artifact, backend="onnxruntime")
    sync, rec = make_sync(), Recorder()
    worker = TranslationWorker(sync, t, rec, style=StyleSpec("seed", 1))
    for i in range(3):
        add_frame(sync, 1_000 + i, encoding="bgr8")
        worker.step(sync.pop())
    assert [s for s, *_ in rec.out] == [1_000, 1_001, 1_002]
    for stamp, img, labels, enc in rec.out:
        assert labels == {SEG: stamp, DEPTH: stamp}
        assert img.shape == (H, W, 3) and enc == "bgr8"  # input encoding and size kept
    assert sync.snapshot().published == 3


def test_overload_drops_stale_frames_and_never_mismatches(artifact: Path) -> None:
    """A producer much faster than the consumer: bounded memory, drops counted, every
    published label carries its image's stamp."""
    t = Translator.from_artifact(artifact, backend="onnxruntime")
    sync, rec = make_sync(), Recorder(delay_s=0.02)
    worker = TranslationWorker(sync, t, rec, style=StyleSpec("seed", 0))
    worker.start()
    try:
        for i in range(60):
            add_frame(sync, 10_000_000 * (i + 1))
            assert sync.pending_count <= 4 * 3  # frames + orphans stay bounded
            time.sleep(0.002)
    finally:
        deadline = time.monotonic() + 5
        while sync.pending_count and time.monotonic() < deadline:
            time.sleep(0.01)
        worker.stop()
    snap = sync.snapshot()
    assert 0 < snap.published < 60 and snap.frame_drops.get("stale", 0) > 0
    assert snap.published + snap.frames_dropped == 60
    stamps = [s for s, *_ in rec.out]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert all(labels == {SEG: s, DEPTH: s} for s, _, labels, _ in rec.out)
    assert not worker.running


def test_random_style_changes_per_episode_fixed_style_does_not(artifact: Path) -> None:
    """Episodes come from the synchroniser (gap, reset); the worker only reads them."""
    t = Translator.from_artifact(artifact, backend="onnxruntime")
    sync = make_sync(episode_gap_ns=1_000_000_000)
    worker = TranslationWorker(sync, t, Recorder(), style=StyleSpec("random"), seed=5)
    codes = []
    for stamp in (0, 33_000_000, 5_000_000_000, 5_033_000_000, 1_000):  # gap, then reset
        add_frame(sync, stamp)
        frame = sync.pop()  # the reset frame is not dropped as late
        worker.step(frame)
        codes.append(t.style)
    np.testing.assert_array_equal(codes[0], codes[1])  # same episode, same style
    assert not np.array_equal(codes[1], codes[2]) and not np.array_equal(codes[3], codes[4])
    assert worker.episode == sync.episode == 3 and sync.snapshot().resets == 1
    worker.request_style(StyleSpec("seed", 3))
    add_frame(sync, 2_000)
    worker.step(sync.pop())
    np.testing.assert_array_equal(t.style, seed_style(3, t.manifest.style_dim))
    assert worker.style_info == "seed 3"


def test_bad_frame_is_counted_and_the_loop_goes_on(artifact: Path) -> None:
    t = Translator.from_artifact(artifact, backend="onnxruntime")
    sync, rec = make_sync(), Recorder()
    worker = TranslationWorker(sync, t, rec)
    worker.start()
    try:
        add_frame(sync, 100, encoding="16UC1")  # not a colour image
        deadline = time.monotonic() + 5
        while worker.errors == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        add_frame(sync, 200)
        while not rec.out and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        worker.stop()
    assert worker.errors == 1 and sync.snapshot().frame_drops.get("decode") == 1
    assert [s for s, *_ in rec.out] == [200]


def test_aux_input_comes_from_its_label_topic(uv_artifact: Path) -> None:
    t = Translator.from_artifact(uv_artifact, backend="onnxruntime")
    sync, rec = make_sync((SEG, DEPTH, UV)), Recorder()
    worker = TranslationWorker(sync, t, rec, aux_keys={"uv": UV}, style=StyleSpec("seed", 2))
    add_frame(sync, 7, uv=True)
    frame = sync.pop()
    worker.step(frame)
    expected = t.translate(np.ascontiguousarray(image_to_numpy(frame.image)),
                           uv=image_to_numpy(frame.labels[UV]))
    np.testing.assert_array_equal(rec.out[0][1], expected)
    assert rec.out[0][2] == {SEG: 7, DEPTH: 7, UV: 7}


def test_worker_styles_go_through_the_runtime_style_values(artifact: Path,
                                                          tmp_path: Path) -> None:
    """The worker has no style code of its own: a bank name sets that code, a reference
    image that has gone away is the runtime's one-line StyleError naming the path."""
    from sim2real_gan.artifact import StyleError

    t = Translator.from_artifact(artifact, backend="onnxruntime")
    sync = make_sync()
    worker = TranslationWorker(sync, t, Recorder(), style=StyleSpec("name", "seed_7"))
    add_frame(sync, 1)
    worker.step(sync.pop())
    np.testing.assert_allclose(t.style, t.manifest.styles["seed_7"], rtol=1e-6)
    assert worker.style_info == "name seed_7"
    gone = tmp_path / "ref.png"
    worker.request_style(StyleSpec("image", str(gone)))
    add_frame(sync, 2)
    with pytest.raises(StyleError, match=f"reference image {gone} does not exist"):
        worker.step(sync.pop())


def test_label_of_another_size_is_a_counted_skip(artifact: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    """The node's worker and translate-bag share the per-frame checks (pipeline.faults)."""
    from sim2real_gan.pipeline.faults import FrameFault

    t = Translator.from_artifact(artifact, backend="onnxruntime")
    sync, rec = make_sync(), Recorder()
    worker = TranslationWorker(sync, t, rec, image_topic="/sim/camera/image_raw")
    header = make_header(50, "endoscope_optical_frame")
    sync.add_label(SEG, 50, image_msg(np.zeros((H, W + 4), np.uint8), "mono8", header))
    sync.add_label(DEPTH, 50, image_msg(np.zeros((H, W), np.float32), "32FC1", header))
    sync.add_image(50, image_msg(np.zeros((H, W, 3), np.uint8), "rgb8", header))
    with pytest.raises(FrameFault, match=f"{SEG} @ 0.000000050 s: size_mismatch: label is "
                       f"{W + 4}x{H}, its image {W}x{H}"):
        worker.step(sync.pop())
    deadline = time.monotonic() + 10

    def wait_until(done) -> None:  # one frame at a time, so that none is superseded
        while not done() and time.monotonic() < deadline:
            time.sleep(0.005)

    worker.start()
    try:
        add_frame(sync, 60)
        wait_until(lambda: len(rec.out) == 1)
        broken = image_msg(np.zeros((H, W, 3), np.uint8), "rgb8", make_header(70, "f"))
        broken.data = broken.data[:5]  # header sizes fine, pixel data truncated: decode
        sync.add_label(SEG, 70, image_msg(np.zeros((H, W), np.uint8), "mono8", broken.header))
        sync.add_label(DEPTH, 70, image_msg(np.zeros((H, W), np.float32), "32FC1",
                                            broken.header))
        sync.add_image(70, broken)
        wait_until(lambda: worker.errors == 1)
        add_frame(sync, 80)
        wait_until(lambda: len(rec.out) == 2)
    finally:
        worker.stop()
    assert [s for s, *_ in rec.out] == [60, 80]
    assert sync.snapshot().frame_drops == {"decode": 1} and worker.errors == 1
    assert "frame skipped: /sim/camera/image_raw @ 0.000000070 s: decode" in caplog.text


class ShutdownRace:
    """The node's publish + its context: the context goes while frame ``at`` is being
    published (as Ctrl-C's rclpy signal handler does under the worker), and that publish
    fails the way rclpy's does then."""

    def __init__(self, at: int):
        self.at, self.calls, self.ok = at, 0, True
        self.called = threading.Semaphore(0)

    def __call__(self, frame, fields) -> None:
        self.calls += 1
        try:
            if self.calls == self.at:
                self.ok = False
                raise RuntimeError("Failed to publish: publisher's context is invalid")
        finally:
            self.called.release()


@pytest.mark.parametrize("context_goes", [True, False], ids=["shutdown", "context_ok"])
def test_a_publish_racing_shutdown_is_not_an_error(artifact: Path, context_goes: bool,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    """Once ``alive`` (the node: ``context.ok``) is False the worker publishes nothing more,
    and the failed publish that raced it is no ERROR; while the context is up the same
    failure is a counted, logged error and the loop goes on."""
    t = Translator.from_artifact(artifact, backend="onnxruntime")
    sync, race = make_sync(), ShutdownRace(at=2)
    worker = TranslationWorker(sync, t, race, style=StyleSpec("seed", 0),
                               alive=(lambda: race.ok) if context_goes else (lambda: True))
    caplog.set_level("DEBUG", logger="sim2real_gan.node.worker")
    worker.start()
    try:
        for i in range(2):  # one frame at a time (latest-frame policy)
            add_frame(sync, 1_000 + i)
            assert race.called.acquire(timeout=10)
        add_frame(sync, 1_002)
        if context_goes:
            worker._thread.join(10)  # ends by itself: nobody called stop()
            assert not worker.running
        else:
            assert race.called.acquire(timeout=10)
    finally:
        worker.stop()
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    if context_goes:
        assert race.calls == 2 and worker.errors == 0 and not errors  # frame 3 not published
        assert "shutting down: Failed to publish" in caplog.text
        assert sync.snapshot().published == 1
    else:
        assert race.calls == 3 and worker.errors == 1 and sync.snapshot().frame_drops == \
            {"error": 1}
        assert len(errors) == 1 and "publisher's context is invalid" in errors[0].getMessage()
