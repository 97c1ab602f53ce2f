"""The light serving path: what importing and running the runtime pulls in, in fresh
interpreters; a colcon-only install (no ``training``, no torch) running the CLI; one backend
list; the translator Protocol."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sim2real_gan.artifact import BACKEND_CHOICES, BACKEND_NAMES
from sim2real_gan.cli.main import COMMANDS
from sim2real_gan.io.bag import BagReader

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_SRC = ROOT / "ros2_ws" / "src" / "sim2real_gan"
DEFAULT_MODEL = ROOT / "models" / "default"
HEAVY = "{'torch', 'training', 'rclpy', 'sim2real_gan.export'}"

# A sitecustomize that makes the listed top-level packages unimportable, as on a machine
# where only the colcon-built ROS package (and no training code, no torch) is installed.
BLOCKER = '''
import sys
BLOCKED = {blocked!r}

class _Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (not installed)", name=name)
        return None

sys.meta_path.insert(0, _Blocker())
'''


def _python(code: str, tmp: Path, blocked: tuple[str, ...] = (),
            args: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with only the ROS package source on PYTHONPATH
    (plus a blocker for ``blocked``), from an unrelated working directory."""
    site = tmp / "site"
    site.mkdir(exist_ok=True)
    if blocked:
        (site / "sitecustomize.py").write_text(BLOCKER.format(blocked=set(blocked)))
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{site}:{PACKAGE_SRC}", "HOME": str(tmp),
           "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run([sys.executable, "-c", code, *args], cwd=tmp, env=env,
                          capture_output=True, text=True, timeout=300)


def test_serving_imports_no_torch_training_rclpy_or_export(tmp_path: Path) -> None:
    code = ("import sys; from sim2real_gan.runtime import Translator; "
            "import sim2real_gan.pipeline; import sim2real_gan.artifact; "
            f"bad = {HEAVY} & set(sys.modules); assert not bad, bad")
    r = _python(code, tmp_path)
    assert r.returncode == 0, r.stderr


def test_translating_with_onnxruntime_imports_no_torch(tmp_path: Path) -> None:
    """Loading the shipped model (every artifact check) and translating a frame on the
    CPU backend, ``auto`` included (no GPU is visible), never imports torch."""
    code = ("import sys, numpy as np; from sim2real_gan.runtime import Translator; "
            f"t = Translator.from_artifact({str(DEFAULT_MODEL)!r}); "
            "out = t.translate(np.zeros((40, 56, 3), np.uint8)); "
            "assert out.shape == (40, 56, 3) and t.backend.label == 'onnxruntime-cpu'; "
            f"bad = {HEAVY} & set(sys.modules); assert not bad, bad")
    r = _python(code, tmp_path)
    assert r.returncode == 0, r.stderr


CLI = "import sys; from sim2real_gan.cli.main import main; sys.exit(main(sys.argv[1:]))"


def test_colcon_only_install_every_command_help_works(tmp_path: Path) -> None:
    """Without ``training`` and without torch, the parser of every command builds."""
    names = ["--help"] + [m.__name__.rsplit(".", 1)[-1].replace("_", "-") for m in COMMANDS]
    for name in names:
        argv = (name,) if name == "--help" else (name, "--help")
        r = _python(CLI, tmp_path, blocked=("training", "torch"), args=argv)
        assert r.returncode == 0, (argv, r.stderr)
        assert "usage: sim2real-gan" in r.stdout and "Traceback" not in r.stderr, argv


@pytest.mark.parametrize("argv", [("train", "--config", "tiny"), ("train", "--help")])
def test_colcon_only_install_train_says_what_is_missing(tmp_path: Path, argv: tuple) -> None:
    r = _python(CLI, tmp_path, blocked=("training",), args=argv)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert "needs the offline `training` package" in lines[0] and "colcon" in lines[0]


def test_colcon_only_install_translates_a_bag(tmp_path: Path) -> None:
    """translate-bag end to end with the shipped model, training and torch unavailable."""
    from sim2real_gan.pipeline.sim_source import simulate_to_bag

    simulate_to_bag(tmp_path / "in", frames=2, width=48, height=48, seed=1)
    r = _python(CLI, tmp_path, blocked=("training", "torch"), args=(
        "translate-bag", str(tmp_path / "in"), str(tmp_path / "out"), "--model",
        str(DEFAULT_MODEL), "--style", "3", "--no-progress", "--threads", "1"))
    assert r.returncode == 0, r.stderr
    with BagReader(tmp_path / "out") as bag:
        assert bag.message_counts["/realistic/camera/image_raw"] == 2


def test_one_backend_list() -> None:
    from sim2real_gan.cli.translate_bag import add_model_args
    from sim2real_gan.node.params import TRANSLATOR_PARAMS
    from sim2real_gan.runtime.backends import BACKENDS

    assert tuple(BACKENDS) == BACKEND_NAMES
    assert TRANSLATOR_PARAMS["backend"].choices == BACKEND_CHOICES
    import argparse

    p = argparse.ArgumentParser()
    add_model_args(p)
    backend = next(a for a in p._actions if a.dest == "backend")
    assert tuple(backend.choices) == BACKEND_CHOICES


def test_one_aux_registry() -> None:
    from sim2real_gan.artifact import AUX_SOURCES
    from sim2real_gan.models.config import AUX_CHANNELS

    assert AUX_CHANNELS == {name: src.channels for name, src in AUX_SOURCES.items()}


def test_translator_satisfies_the_protocol() -> None:
    from sim2real_gan.runtime import BackendLike, Translator, TranslatorLike

    t = Translator.from_artifact(DEFAULT_MODEL, backend="onnxruntime", threads=1)
    assert isinstance(t, TranslatorLike) and isinstance(t.backend, BackendLike)
    assert not isinstance(object(), TranslatorLike)
    assert t.translate(np.zeros((16, 16, 3), np.uint8)).shape == (16, 16, 3)


def test_no_gpu_driver_is_detected_without_torch(tmp_path: Path) -> None:
    code = ("import sys, json; from sim2real_gan.runtime.devices import nvidia_gpu_possible; "
            "print(json.dumps([nvidia_gpu_possible(), 'torch' in sys.modules]))")
    r = _python(code, tmp_path)  # CUDA_VISIBLE_DEVICES is '' there
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [False, False]
