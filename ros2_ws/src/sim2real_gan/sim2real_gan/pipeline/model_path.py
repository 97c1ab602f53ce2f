"""Find a model artifact directory: an explicit path, or a shipped model by name.

Search order for a name (``"default"`` when None):
1. ``$SIM2REAL_GAN_MODELS/<name>``
2. the source checkout: ``ros2_ws/src/sim2real_gan/models/<name>`` (links to ``models/``)
3. ``<sys.prefix>/share/sim2real_gan/models/<name>`` (pip/colcon install)
4. the ament share directory of ``sim2real_gan`` when ``ament_index_python`` is importable.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DEFAULT_MODEL = "default"


def model_search_dirs(name: str = DEFAULT_MODEL) -> list[Path]:
    """Candidate directories for shipped model ``name``, in search order."""
    dirs: list[Path] = []
    if os.environ.get("SIM2REAL_GAN_MODELS"):
        dirs.append(Path(os.environ["SIM2REAL_GAN_MODELS"]) / name)
    dirs.append(Path(__file__).resolve().parents[2] / "models" / name)
    dirs.append(Path(sys.prefix) / "share" / "sim2real_gan" / "models" / name)
    try:  # only present in a ROS 2 environment
        from ament_index_python.packages import get_package_share_directory

        dirs.append(Path(get_package_share_directory("sim2real_gan")) / "models" / name)
    except Exception:  # noqa: BLE001 - not installed, or the package is not in the index
        pass
    return dirs


def resolve_model(spec: str | os.PathLike | None = None) -> Path:
    """A path to an artifact directory, or the name of a shipped model -> existing directory.

    Raises:
        FileNotFoundError: naming every place that was searched.
    """
    if spec is not None:
        path = Path(spec).expanduser()
        if path.is_dir():
            return path
        if path.exists():  # a file here is a wrong argument, not a shipped model's name
            raise NotADirectoryError(f"model {path} is a file; expected a model artifact "
                                     "folder (model.json, model.onnx) or a shipped model name")
        if os.sep in str(spec) or str(spec).startswith("."):
            raise FileNotFoundError(f"model directory {path} does not exist")
    name = DEFAULT_MODEL if spec is None else str(spec)
    searched = model_search_dirs(name)
    for d in searched:
        if (d / "model.json").is_file():
            return d
    where = "\n  ".join(str(d) for d in searched)
    raise FileNotFoundError(f"no model named {name!r} (no model.json) in:\n  {where}")
