"""Evaluation and dump stand on the core: no module of the ROS package imports `training`
(only `cli/train.py`, lazily), and `dump` runs in a fresh interpreter without torch or
`training`, as on a colcon-only install."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_SRC = ROOT / "ros2_ws" / "src" / "sim2real_gan"
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


def _python(code: str, tmp: Path, blocked: tuple[str, ...], *args: str
            ) -> subprocess.CompletedProcess:
    site = tmp / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCKER.format(blocked=set(blocked)))
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{site}:{PACKAGE_SRC}", "HOME": str(tmp)}
    return subprocess.run([sys.executable, "-c", code, *args], cwd=tmp, env=env,
                          capture_output=True, text=True, timeout=300)


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_core_modules_import_no_training() -> None:
    """eval, flow, io, dump, ... (every module but the lazy `train` command)."""
    pkg = PACKAGE_SRC / "sim2real_gan"
    offenders = [p.relative_to(pkg).as_posix() for p in sorted(pkg.rglob("*.py"))
                 if p != pkg / "cli" / "train.py" and "training" in _imports(p)]
    assert offenders == []
    assert "training" in _imports(pkg / "cli" / "train.py")  # the check sees real imports


def test_dump_runs_without_torch_or_training(tmp_path: Path) -> None:
    from sim2real_gan.io.bag import BagWriter
    from sim2real_gan.io.ros_types import image_msg, make_header

    bag = tmp_path / "bag"
    with BagWriter(bag) as w:
        w.add_topic("/cam/image_raw", "sensor_msgs/msg/Image")
        for i in range(3):
            w.write("/cam/image_raw", i, image_msg(np.full((8, 8, 3), 40 * i, np.uint8), "rgb8",
                                                   make_header(i, "cam")))
    code = ("import sys; from sim2real_gan.cli.main import main; code = main(sys.argv[1:]); "
            "assert 'torch' not in sys.modules and 'training' not in sys.modules; sys.exit(code)")
    r = _python(code, tmp_path, ("training", "torch"), "dump", str(bag), str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    assert len(list((tmp_path / "out" / "cam" / "image_raw").glob("*.png"))) == 3
