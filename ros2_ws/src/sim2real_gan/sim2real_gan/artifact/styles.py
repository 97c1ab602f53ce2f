"""The one style syntax (CLI ``--style``, node parameter ``style``, launch argument ``style``)
and the seed -> style code map. No torch.

Syntax, tried in this order on the stripped text:

* ``random``                     a fresh random code (the node: a new one per episode)
* ``7``                          an integer seed >= 0 (the same code on every machine)
* ``ref.png``, ``imgs/ref``      a reference image: text with a ``/`` or ``\\``, starting
                                 with ``~`` or ``.``, or ending in an image suffix
* ``seed_3``, ``default``        a style name from the model's style bank (no ``:``)

The old node forms ``seed:N``, ``name:NAME`` and ``image:PATH`` are still read, with a
one-line deprecation warning.

>>> StyleSpec.parse("7"), StyleSpec.parse("seed_3").kind, str(StyleSpec.parse("random"))
(StyleSpec(kind='seed', value=7), 'name', 'random')
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger("sim2real_gan.style")

STYLE_SYNTAX = ("random, an integer seed (7), a style name of the model (seed_3) or a "
                "reference image path (ref.png)")
STYLE_KINDS = ("random", "seed", "name", "image")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm",
                  ".pnm")
OLD_PREFIXES = ("seed", "name", "image")
MAX_SEED = 2**63 - 1
_INT_RE = re.compile(r"[+-]?\d+")
_warned: set[str] = set()


class StyleError(ValueError):
    """A style text or value that cannot be used; the message says what was expected."""


class UnknownStyleError(StyleError, KeyError):
    """A style name that is not in the model's style bank (also a KeyError)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class StyleSpec:
    """A parsed style: ``kind`` in random | seed | name | image, and its value."""

    kind: str
    value: int | str | None = None

    @classmethod
    def parse(cls, text: object, check_file: bool = False) -> StyleSpec:
        """Parse style text (see the module doc); ``check_file``: an image must exist.

        Raises:
            StyleError: empty text, a bad seed, a name with ``:``, or (``check_file``) a
                reference image path that does not exist.
        """
        if not isinstance(text, str):
            raise StyleError(f"style: expected text ({STYLE_SYNTAX}), got "
                             f"{type(text).__name__} {text!r}")
        t = text.strip()
        if not t:
            raise StyleError(f"style: empty text; expected {STYLE_SYNTAX}")
        kind, sep, rest = t.partition(":")
        if sep and kind in OLD_PREFIXES:
            spec = _parse_old(kind, rest.strip(), t)
        elif t == "random":
            spec = cls("random")
        elif _INT_RE.fullmatch(t):
            spec = cls("seed", _seed(t))
        elif looks_like_path(t):
            spec = cls("image", os.path.expanduser(t))
        elif sep:
            raise StyleError(f"style: {t!r} is not {STYLE_SYNTAX} (style names have no ':')")
        else:
            spec = cls("name", t)
        if check_file:
            spec.require_file()
        return spec

    def require_file(self) -> None:
        """For an image style: the file must exist (error names the path)."""
        if self.kind != "image":
            return
        path = Path(str(self.value))
        if not path.exists():
            raise StyleError(f"style: reference image {path} does not exist")
        if not path.is_file():
            raise StyleError(f"style: reference image {path} is not a file")

    def __str__(self) -> str:
        """The text that parses back to this spec."""
        return "random" if self.kind == "random" else str(self.value)


def looks_like_path(text: str) -> bool:
    """Text the style syntax reads as a file path rather than a style name."""
    return ("/" in text or "\\" in text or text.startswith(("~", "."))
            or text.lower().endswith(IMAGE_SUFFIXES))


def _seed(text: str) -> int:
    try:
        seed = int(text)
    except ValueError:
        raise StyleError(f"style: seed must be an integer, got {text!r}") from None
    if not 0 <= seed <= MAX_SEED:
        raise StyleError(f"style: seed must be >= 0 and < 2**63, got {seed}")
    return seed


def _parse_old(kind: str, rest: str, text: str) -> StyleSpec:
    """``seed:N`` / ``name:NAME`` / ``image:PATH`` (deprecated; warns once per text)."""
    if not rest:
        raise StyleError(f"style: {text!r} has nothing after ':'; expected {STYLE_SYNTAX}")
    value: int | str = rest
    if kind == "seed":
        value = _seed(rest)
    elif kind == "image":
        value = os.path.expanduser(rest)
    spec = StyleSpec(kind, value)
    if text not in _warned:
        _warned.add(text)
        log.warning("style %r: the %s:... form is deprecated; write %r instead", text, kind,
                    str(spec))
    return spec


def seed_style(seed: int, style_dim: int) -> np.ndarray:
    """Deterministic style code (style_dim,) float32 for an integer seed (N(0, I) prior):
    ``numpy.random.default_rng(seed).standard_normal(style_dim)``, the same on every
    machine; the exported style bank's ``seed_k`` entries are these codes."""
    return np.random.default_rng(int(seed)).standard_normal(style_dim).astype(np.float32)


def prior_style(seed: int, style_dim: int, prior: object | None = None) -> np.ndarray:
    """The style code (style_dim,) float32 of an integer seed under a model's style prior
    (:class:`~sim2real_gan.artifact.manifest.StylePrior`: ``mean + chol @ z`` with ``z =
    seed_style(seed)``); without a prior, ``seed_style(seed)`` itself (N(0, I))."""
    z = seed_style(seed, style_dim)
    return z if prior is None else prior_code(z, prior)


def prior_code(z: np.ndarray, prior: object) -> np.ndarray:
    """N(0, I) draws ``z`` (..., style_dim) -> float32 codes under the style prior:
    ``mean + chol @ z`` (each row)."""
    mean = np.asarray(prior.mean, np.float64)
    chol = np.asarray(prior.chol, np.float64)
    return (mean + np.asarray(z, np.float64) @ chol.T).astype(np.float32)


def check_style_name(name: str) -> str:
    """A style bank name the style syntax can address (export checks reference names)."""
    ok = bool(name) and name.strip() == name and ":" not in name
    if not ok or StyleSpec.parse(name).kind != "name":
        raise StyleError(f"style name {name!r} could not be selected with --style (it is "
                         f"empty, 'random', a number, path-like or has ':'); use e.g. 'ref_1'")
    return name
