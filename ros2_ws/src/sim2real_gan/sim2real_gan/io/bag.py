"""rosbag2 read/write (MCAP and sqlite3) through ``rosbags``; no ROS install needed.

Writing is atomic: :class:`BagWriter` writes into a hidden temporary sibling directory and
renames it to the target only when the ``with`` block ends without an exception
(:func:`sim2real_gan.io.staging.atomic_path`: on failure or interruption nothing it created
remains, parent folders included).

Example:
    >>> from sim2real_gan.io.ros_types import make_header, image_msg
    >>> with BagWriter(tmp / "bag") as w:                      # doctest: +SKIP
    ...     w.add_topic("/cam/image_raw", "sensor_msgs/msg/Image")
    ...     w.write("/cam/image_raw", 5, image_msg(rgb, "rgb8", make_header(5, "cam")))
    >>> with BagReader(tmp / "bag") as r:                      # doctest: +SKIP
    ...     for m in r.messages(["/cam/image_raw"]):
    ...         img = m.decode()
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rosbags.interfaces import Connection
from rosbags.rosbag2 import Reader, Writer
from rosbags.rosbag2.enums import StoragePlugin
from rosbags.typesys.store import Typestore

from sim2real_gan.io.ros_types import typestore
from sim2real_gan.io.staging import atomic_path

STORAGES: dict[str, StoragePlugin] = {"mcap": StoragePlugin.MCAP, "sqlite3": StoragePlugin.SQLITE3}


class BagError(ValueError):
    """A bag is missing, unreadable, corrupt or truncated, or a write request is invalid."""


@dataclass(frozen=True)
class TopicDef:
    """Everything needed to recreate a topic's connection byte-identically in a new bag."""

    msgtype: str
    msgdef: str
    rihs01: str
    serialization_format: str = "cdr"
    qos: tuple = ()


@dataclass
class BagMessage:
    """One serialised message: ``raw`` is the CDR payload exactly as stored in the bag."""

    topic: str
    msgtype: str
    stamp_ns: int  # log time (receive time) in ns
    raw: bytes
    _store: Typestore | None = field(default=None, repr=False, compare=False)

    def decode(self) -> Any:
        """Deserialise ``raw`` into a rosbags message object."""
        store = self._store or typestore()
        try:
            return store.deserialize_cdr(self.raw, self.msgtype)
        except KeyError:
            raise BagError(f"no definition for message type {self.msgtype!r}") from None
        except Exception as exc:  # malformed CDR payload
            raise BagError(
                f"cannot decode {self.msgtype} on {self.topic} at {self.stamp_ns} ns: {exc}"
            ) from exc


class BagWriter:
    """Atomic rosbag2 writer (context manager).

    Args:
        path: output bag directory (must not exist unless ``overwrite``).
        storage: ``"mcap"`` (default) or ``"sqlite3"``.
        overwrite: replace an existing ``path`` (only after the new bag is complete).
    """

    def __init__(self, path: str | os.PathLike, storage: str = "mcap", overwrite: bool = False):
        if storage not in STORAGES:
            raise BagError(f"unknown bag storage {storage!r}; expected one of {sorted(STORAGES)}")
        self.path = Path(path)
        self.storage = storage
        self.overwrite = overwrite
        self._stage: AbstractContextManager[Path] | None = None
        self._writer: Writer | None = None
        self._conns: dict[str, Connection] = {}

    def __enter__(self) -> BagWriter:
        if os.path.lexists(self.path) and not self.overwrite:
            raise FileExistsError(f"output bag {self.path} already exists (use overwrite/--force)")
        self._stage = atomic_path(self.path, replace=self.overwrite)
        built = self._stage.__enter__()
        try:
            self._writer = Writer(built, version=9, storage_plugin=STORAGES[self.storage])
            self._writer.open()
        except BaseException as exc:
            self._writer = None
            self._stage.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        assert self._writer is not None and self._stage is not None
        writer, stage, self._writer, self._stage = self._writer, self._stage, None, None
        try:
            writer.close()
        except BaseException as close_exc:
            if exc_type is None:  # the bag is not complete: discard it, report the failure
                stage.__exit__(type(close_exc), close_exc, close_exc.__traceback__)
                raise
        stage.__exit__(exc_type, exc, tb)

    @property
    def topics(self) -> dict[str, str]:
        """Topics added so far: topic -> msgtype."""
        return {t: c.msgtype for t, c in self._conns.items()}

    def add_topic(self, topic: str, msgtype: str, definition: TopicDef | None = None) -> None:
        """Register a topic. ``definition`` (from :attr:`BagReader.topic_defs`) copies another
        bag's message definition, hash and QoS, so types outside the Jazzy store work too."""
        if self._writer is None:
            raise BagError("BagWriter is not open; use it as a context manager")
        if topic in self._conns:
            raise BagError(f"topic {topic} was already added to {self.path}")
        if definition is not None and definition.rihs01:
            conn = self._writer.add_connection(
                topic,
                msgtype,
                msgdef=definition.msgdef,
                rihs01=definition.rihs01,
                serialization_format=definition.serialization_format,
                offered_qos_profiles=list(definition.qos),
            )
        else:
            if msgtype not in typestore().types:
                raise BagError(f"message type {msgtype!r} is not in the ROS 2 Jazzy typestore")
            conn = self._writer.add_connection(topic, msgtype, typestore=typestore())
        self._conns[topic] = conn

    def _conn(self, topic: str) -> Connection:
        try:
            return self._conns[topic]
        except KeyError:
            raise BagError(f"topic {topic} was not added to {self.path}; call add_topic") from None

    def write(self, topic: str, stamp_ns: int, msg: Any) -> None:
        """Serialise ``msg`` (a rosbags message) with the Jazzy typestore and write it."""
        conn = self._conn(topic)
        self._writer.write(conn, int(stamp_ns), typestore().serialize_cdr(msg, conn.msgtype))

    def write_raw(self, topic: str, stamp_ns: int, data: bytes | memoryview) -> None:
        """Write an already serialised payload unchanged (byte-identical copy)."""
        self._writer.write(self._conn(topic), int(stamp_ns), data)


class BagReader:
    """rosbag2 reader (context manager) that turns every failure into a :class:`BagError`.

    Args:
        path: bag directory (or a single ``.mcap`` / ``.db3`` file).
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._reader: Reader | None = None
        self._store: Typestore | None = None

    def __enter__(self) -> BagReader:
        if not self.path.exists():
            raise BagError(f"bag {self.path} does not exist")
        try:
            self._reader = Reader(self.path)
            self._reader.open()
        except Exception as exc:
            self._reader = None
            raise BagError(f"cannot open bag {self.path}: corrupt, truncated or not a "
                           f"rosbag2 ({type(exc).__name__}: {exc})") from exc
        self._store = _store_for(self._reader.connections)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._reader is not None:
            try:
                self._reader.close()
            finally:
                self._reader = None

    def _open_reader(self) -> Reader:
        if self._reader is None:
            raise BagError(f"BagReader for {self.path} is not open; use it as a context manager")
        return self._reader

    @property
    def storage(self) -> str:
        """``"mcap"`` or ``"sqlite3"`` (storage of the first file)."""
        files = [p.suffix for p in self.path.rglob("*")] if self.path.is_dir() else [
            self.path.suffix]
        return "sqlite3" if ".db3" in files else "mcap"

    @property
    def topics(self) -> dict[str, str]:
        """topic -> msgtype (first connection per topic)."""
        return {t: d.msgtype for t, d in self.topic_defs.items()}

    @property
    def topic_defs(self) -> dict[str, TopicDef]:
        """topic -> :class:`TopicDef`, to recreate the topic in another bag."""
        defs: dict[str, TopicDef] = {}
        for c in self._open_reader().connections:
            if c.topic not in defs:
                ext = c.ext
                defs[c.topic] = TopicDef(
                    msgtype=c.msgtype,
                    msgdef=c.msgdef.data,
                    rihs01=c.digest,
                    serialization_format=getattr(ext, "serialization_format", "cdr"),
                    qos=tuple(getattr(ext, "offered_qos_profiles", ()) or ()),
                )
        return defs

    @property
    def message_counts(self) -> dict[str, int]:
        """topic -> number of messages (from the bag's index/metadata)."""
        counts: dict[str, int] = {}
        for c in self._open_reader().connections:
            counts[c.topic] = counts.get(c.topic, 0) + int(c.msgcount)
        return counts

    @property
    def message_count(self) -> int:
        """Total number of messages."""
        return sum(self.message_counts.values())

    def messages(self, topics: Iterable[str] | None = None) -> Iterator[BagMessage]:
        """Yield messages in log-time order, optionally only those of ``topics``.

        Raises:
            BagError: an unknown topic was asked for, or the bag is corrupt/truncated.
        """
        reader = self._open_reader()
        conns = reader.connections
        if topics is not None:
            wanted = set(topics)
            missing = wanted - {c.topic for c in conns}
            if missing:
                raise BagError(f"bag {self.path} has no topic(s) {sorted(missing)}; "
                               f"it has {sorted({c.topic for c in conns})}")
            conns = [c for c in conns if c.topic in wanted]
        iterator = reader.messages(connections=conns)
        while True:
            try:
                conn, stamp, raw = next(iterator)
            except StopIteration:
                return
            except Exception as exc:
                raise BagError(f"bag {self.path} is corrupt or truncated: "
                               f"{type(exc).__name__}: {exc}") from exc
            yield BagMessage(conn.topic, conn.msgtype, int(stamp), bytes(raw), self._store)


def has_header(msgtype: str, store: Typestore | None = None) -> bool:
    """True when the first field of ``msgtype`` is a ``std_msgs/msg/Header``."""
    store = store or typestore()
    try:
        fields = store.fielddefs[msgtype][1]
    except KeyError:
        return False
    return bool(fields) and fields[0][0] == "header" and fields[0][1][1] == "std_msgs/msg/Header"


def cdr_header_stamp_ns(raw: bytes | memoryview) -> int:
    """``header.stamp`` in ns read straight from a CDR payload whose first field is a Header.

    Cheap (no deserialisation); only valid for types where :func:`has_header` is true.
    """
    if len(raw) < 12:
        raise BagError(f"CDR payload of {len(raw)} bytes is too short to hold a header stamp")
    order = "<" if raw[1] & 1 else ">"
    sec, nanosec = struct.unpack_from(order + "iI", raw, 4)
    return sec * 1_000_000_000 + nanosec


def _store_for(connections: list[Connection]) -> Typestore:
    """The Jazzy typestore, or a private copy extended with the bag's own definitions."""
    base = typestore()
    unknown = [c for c in connections if c.msgtype not in base.types]
    if not unknown:
        return base
    from rosbags.typesys import Stores, get_types_from_idl, get_types_from_msg, get_typestore

    store = get_typestore(Stores.ROS2_JAZZY)
    for c in unknown:
        try:
            if c.msgdef.data.startswith("=" * 80 + "\nIDL: "):
                store.register(get_types_from_idl(c.msgdef.data))
            else:
                store.register(get_types_from_msg(c.msgdef.data, c.msgtype))
        except Exception:  # noqa: BLE001 - undecodable types can still be copied raw
            continue
    return store
