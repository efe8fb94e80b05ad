"""Packing values into guest structs described by :mod:`.abi` layouts."""

from __future__ import annotations

import os
import struct
from collections.abc import Mapping

from . import abi


def pack(layout: abi.Layout, values: Mapping[str, int], little: bool = True) -> bytes:
    """Bytes of a struct: each known field at its offset, the rest zero."""
    size, fields = layout
    buf = bytearray(size)
    end = "<" if little else ">"
    for name, (off, fmt) in fields.items():
        if name in values:
            width = struct.calcsize(fmt)
            v = values[name] & ((1 << (8 * width)) - 1)
            struct.pack_into(end + fmt.upper(), buf, off, v)
    return bytes(buf)


def stat_values(st: os.stat_result) -> dict[str, int]:
    """The fields of ``struct stat`` / ``statx`` from a host stat result."""
    v = {
        "dev": st.st_dev,
        "ino": st.st_ino,
        "ino32": st.st_ino,
        "mode": st.st_mode,
        "nlink": st.st_nlink,
        "uid": st.st_uid,
        "gid": st.st_gid,
        "rdev": st.st_rdev,
        "size": st.st_size,
        "blksize": st.st_blksize,
        "blocks": st.st_blocks,
        "dev_major": os.major(st.st_dev),
        "dev_minor": os.minor(st.st_dev),
        "rdev_major": os.major(st.st_rdev),
        "rdev_minor": os.minor(st.st_rdev),
        "mask": 0x7FF,  # STATX_BASIC_STATS
    }
    for t in ("atime", "mtime", "ctime"):
        ns = getattr(st, f"st_{t}_ns")
        v[t], v[f"{t}_nsec"] = divmod(ns, 1_000_000_000)
    v["btime"], v["btime_nsec"] = v["ctime"], v["ctime_nsec"]
    return v
