"""The two recorders behind one interface: vmprof's own (`vmprof` package or PyPy's built-in `_vmprof`),
else a sampling thread that writes the same file format with a time stamp per sample."""

import _thread
import os
import platform
import sys
import threading
import time
from types import FrameType
from typing import Any, Dict, Optional, Set, Tuple

from ._vmprof_writer import VmprofWriter, code_name

#: Threads of the client itself (sampler, uploads): never sampled.
client_threads: Set[int] = set()


class Recording:
    recorder = ""

    def stop(self) -> None:
        raise NotImplementedError


def _rss_reader() -> Any:
    """A function returning the resident set size in KiB, read anew at every call, or None."""
    try:
        fd = os.open("/proc/self/statm", os.O_RDONLY)
        page_kib = os.sysconf("SC_PAGE_SIZE") // 1024
    except (OSError, ValueError, AttributeError):
        return lambda: None

    def read() -> Optional[int]:
        try:
            return int(os.pread(fd, 128, 0).split()[1]) * page_kib
        except Exception:  # no pread (Windows) or an unreadable value: no memory rather than a wrong one
            return None

    read.fd = fd  # type: ignore[attr-defined]
    return read


def _thread_name(ident: int) -> str:
    thread = threading._active.get(ident)  # type: ignore[attr-defined]
    return thread.name if thread is not None else ""


class SamplerRecording(Recording):
    """Every `period` seconds, the stacks of all threads (`sys._current_frames()`) and the process RSS.

    A thread is seen only between bytecodes, when it holds the GIL or has released it (a blocking
    call, a sleep): a C extension running a long call without releasing the GIL shows as its caller.
    """

    recorder = "sampler"

    def __init__(self, out: Any, period: float, memory: bool, boundary: Optional[FrameType], meta: Dict[str, str]):
        self._period = period
        self._boundary = boundary
        self._rss = _rss_reader() if memory else (lambda: None)
        # Where RSS cannot be read (no /proc), the profile has no memory series rather than zeros.
        memory = memory and self._rss() is not None
        interp = "pypy" if platform.python_implementation() == "PyPy" else "cpython"
        meta = dict(meta, recorder=self.recorder)
        self.writer = VmprofWriter(out, int(period * 1_000_000), memory, interp, meta)
        self._running = True
        self.thread_names: Dict[int, str] = {}
        # Waiting on an event instead of sleeping lets stop() end the thread at once, not a period later.
        self._stopped = threading.Event()
        self._finished = threading.Event()
        # _thread does not wait for the new thread to be scheduled (Thread.start does: milliseconds
        # on a loaded machine, added to every profiled call); like a daemon thread, exit never waits for it.
        _thread.start_new_thread(self._run, ())

    def _run(self) -> None:
        client_threads.add(threading.get_ident())
        writer = self.writer
        ids: Dict[Any, int] = {}
        boundary = self._boundary
        current_frames = sys._current_frames
        monotonic = time.monotonic
        wait = self._stopped.wait
        rss = self._rss
        period = self._period
        names = self.thread_names
        try:
            while self._running:
                if wait(period) or not self._running:
                    break
                now = monotonic()
                kib = rss()
                frames = current_frames()
                for ident, frame in frames.items():
                    if ident in client_threads:
                        continue
                    if ident not in names:
                        names[ident] = _thread_name(ident)
                    stack = []
                    f: Optional[FrameType] = frame
                    while f is not None and f is not boundary:
                        code = f.f_code
                        uid = ids.get(code)
                        if uid is None:
                            uid = writer.code_id(code, code_name(code.co_name, code.co_firstlineno, code.co_filename))
                            ids[code] = uid
                        stack.append(uid)
                        f = f.f_back
                    writer.sample(now, stack, ident, kib)
                # Frames kept alive past the sample would hold their locals (and memory) alive.
                frames = frame = f = None  # type: ignore[assignment]
        finally:
            client_threads.discard(threading.get_ident())
            self._finished.set()

    def stop(self) -> None:
        self._running = False
        self._stopped.set()
        self._finished.wait()
        self._boundary = None
        self.writer.finish({k: v for k, v in self.thread_names.items() if v})
        fd = getattr(self._rss, "fd", None)
        if fd is not None:
            os.close(fd)


class VmprofRecording(Recording):
    """vmprof's signal-driven sampler in C: the `vmprof` package when installed, else PyPy's `_vmprof`."""

    def __init__(self, name: str, module: Any, out: Any, period: float, memory: bool) -> None:
        self._out = out
        self._module = module
        self.recorder = name
        if name == "vmprof":
            module.enable(out.fileno(), period=period, memory=memory, lines=False, native=False, real_time=False)
        else:
            module.enable(out.fileno(), period, int(memory), 0, 0, 0)

    def stop(self) -> None:
        self._module.disable()
        self._out.flush()


def vmprof_module() -> Optional[Tuple[str, Any]]:
    """The vmprof package, else PyPy's built-in `_vmprof`, else None (or when PROF_RECORDER=sampler)."""
    if os.environ.get("PROF_RECORDER") == "sampler":
        return None
    for name in ("vmprof", "_vmprof"):
        try:
            return name, __import__(name)
        except Exception:  # a broken vmprof build (e.g. forced onto 3.12) fails with more than ImportError
            continue
    return None


def start_recording(
    out: Any, period: Optional[float], memory: bool, boundary: Optional[FrameType], meta: Dict[str, str]
) -> Recording:
    found = vmprof_module()
    if found is not None:
        return VmprofRecording(found[0], found[1], out, period or 0.001, memory)
    return SamplerRecording(out, period or 0.005, memory, boundary, meta)
