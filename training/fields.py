"""Which optional parts of a mode run with the data at hand.

Each mode declares :class:`~training.modes.base.Feature` s (a loss or generator input and
the fields it reads). A feature the config wants runs when its fields are there; when one
is missing, or the feature cannot work with this architecture (``blocked``), it is off with
one log line per cause ("no uv in the sim data (...): neural texture off"), unless one of
its weight keys was set explicitly on the command line: then it is a ValueError, raised
before anything expensive runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from .modes.base import Feature, Mode


@dataclass(frozen=True)
class Available:
    """Fields of each domain: None = not known yet (assume present)."""

    sim: frozenset[str] | None
    real: frozenset[str] | None
    sim_where: str = "data.sim"
    real_where: str = "data.real"


def asked(feature: Feature, explicit: frozenset[str]) -> str:
    """The first of the feature's keys set explicitly (``config.override_keys``), else ""."""
    return next((key for key in feature.keys if key in explicit), "")


def _missing(feature: Feature, have: Available) -> list[tuple[str, str, str]]:
    """(domain, field, where) of every field the feature reads that the data lack."""
    out = []
    for domain, fields, got, where in (("sim", feature.sim_fields, have.sim, have.sim_where),
                                       ("real", feature.real_fields, have.real,
                                        have.real_where)):
        out += [(domain, f, where) for f in fields if got is not None and f not in got]
    return out


def resolve(mode: Mode, have: Available, explicit: frozenset[str] = frozenset(),
            among: frozenset[str] | None = None) -> tuple[frozenset[str], list[str]]:
    """-> (enabled feature names, one note per cause of a feature turned off).

    ``among``: only these may stay on (a second pass after loading keeps what the first
    pass switched off off, and says nothing again about it). Raises ValueError for a
    feature asked for explicitly that cannot run.
    """
    enabled: set[str] = set()
    causes: dict[str, list[str]] = {}
    for f in mode.features():
        if not f.wanted or (among is not None and f.name not in among):
            continue
        missing = _missing(f, have)
        if not missing and not f.blocked:
            enabled.add(f.name)
            continue
        if missing:
            fields = "/".join(dict.fromkeys(m[1] for m in missing))
            cause = f"no {fields} in the {missing[0][0]} data ({missing[0][2]})"
        else:
            cause = f.blocked
        key = asked(f, explicit)
        if key:
            raise ValueError(f"{key} was set on the command line, but {cause}: the "
                             f"{f.label} cannot run; drop the setting or give data with "
                             "those fields")
        causes.setdefault(cause, []).append(f.label)
    notes = [f"{cause}: {', '.join(labels)} off" for cause, labels in causes.items()]
    return frozenset(enabled), notes


def require(mode: Mode, fields: frozenset[str] | None, where: str) -> None:
    """The mode's required sim fields are there (None: not known yet)."""
    missing = [f for f in mode.required_sim if fields is not None and f not in fields]
    if missing:
        raise ValueError(f"mode {mode.name!r} needs {'/'.join(missing)} in the sim data, "
                         f"which {where} does not have (it has {sorted(fields)})")
