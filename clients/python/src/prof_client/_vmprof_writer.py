"""Writes the vmprof file format, version 7: the version whose stack records carry a time stamp.

Layout (docs/formats/vmprof-format.md in the Prof repository): 64-bit little-endian words, a static
header, a header record (version 7, mode byte, interpreter), the start time, meta records, then one
stack record per sample (float64 CLOCK_MONOTONIC seconds, depth, code ids leaf first, thread id,
RSS in KiB), the names of the code ids, and a trailer with the end time.
"""

import struct
import time
from typing import BinaryIO, Dict, List, Optional, Sequence

MODE_MEMORY = 0x01
MODE_REAL_TIME = 0x10

_WORD = struct.Struct("<q")
_HEAD = struct.Struct("<Bdq")  # marker 0x01, time, depth
_FLUSH_AT = 64 * 1024


def _time_record(marker: int, at: float) -> bytes:
    seconds = int(at)
    micros = int(round((at - seconds) * 1_000_000))
    return struct.pack("<Bqq8x", marker, seconds, micros)


def _string(value: str) -> bytes:
    data = value.encode("utf-8", "replace")
    return _WORD.pack(len(data)) + data


class VmprofWriter:
    """Appends records to a binary file; code ids are small multiples of 4 (never odd: odd means native)."""

    def __init__(
        self,
        out: BinaryIO,
        period_us: int,
        memory: bool,
        interpreter: str,
        meta: Dict[str, str],
    ) -> None:
        self._out = out
        self._memory = memory
        self._buf = bytearray()
        self._ids: Dict[object, int] = {}
        self._names: List[str] = []
        self.samples = 0
        self.start_monotonic = time.monotonic()
        mode = MODE_REAL_TIME | (MODE_MEMORY if memory else 0)
        name = interpreter.encode("ascii", "replace")[:255]
        self._buf += b"".join(_WORD.pack(v) for v in (0, 3, 0, period_us, 0))
        self._buf += struct.pack(">BHBB", 0x05, 7, mode, len(name)) + name
        self._buf += _time_record(0x06, time.time())
        entries = dict(meta)
        entries["start_time_offset"] = "%.6f" % self.start_monotonic
        for key, value in entries.items():
            self._buf += b"\x07" + _string(key) + _string(value)

    def code_id(self, code: object, name: str) -> int:
        known = self._ids.get(code)
        if known is not None:
            return known
        uid = (len(self._names) + 1) * 4
        self._ids[code] = uid
        self._names.append(name)
        return uid

    def sample(self, at: float, stack: Sequence[int], thread: int, rss_kib: Optional[int]) -> None:
        """One stack record; `stack` is leaf first."""
        buf = self._buf
        buf += _HEAD.pack(0x01, at, len(stack))
        if stack:
            buf += struct.pack("<%dq" % len(stack), *stack)
        buf += _WORD.pack(thread & 0x7FFFFFFFFFFFFFFF)
        if self._memory:
            buf += _WORD.pack(rss_kib if rss_kib is not None else 0)
        self.samples += 1
        if len(buf) >= _FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        if self._buf:
            self._out.write(self._buf)
            self._buf = bytearray()

    def finish(self, thread_names: Optional[Dict[int, str]] = None) -> None:
        """Names, thread names (meta `thread:<id>`, which vmprof's format has no record for), the trailer."""
        buf = self._buf
        for ident, name in (thread_names or {}).items():
            buf += b"\x07" + _string("thread:%d" % (ident & 0x7FFFFFFFFFFFFFFF)) + _string(name)
        for index, name in enumerate(self._names):
            buf += b"\x02" + _WORD.pack((index + 1) * 4) + _string(name)
        buf += _time_record(0x03, time.time())
        self.flush()
        self._out.flush()


def code_name(name: str, first_line: int, filename: str) -> str:
    """vmprof's `py:<name>:<first line>:<file>`, each part capped as its writer does."""
    return ("py:" + name)[:511] + (":%d:%s" % (first_line, filename))[:511]

