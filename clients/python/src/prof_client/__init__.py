"""Profile Python functions, blocks and whole programs and send them to a Prof server.

    from prof_client import profile

    @profile(project="etl")
    def main(): ...

The profile (CPU stacks with a time per sample, process RSS alongside) is written to a spool
directory and uploaded in the background; the profiled call returns its own value or raises its own
exception whatever the server does.
"""

import functools
import inspect
import os
import sys
import threading
import warnings
from types import FrameType, TracebackType
from typing import Any, Callable, Dict, Optional, Type, TypeVar

from . import _upload
from ._recorders import Recording, start_recording
from ._upload import UploadError, spool_dir, spooled_files

__all__ = ["profile", "upload", "upload_spool", "UploadError", "spool_dir", "spooled_files"]
__version__ = "0.1.0"

F = TypeVar("F", bound=Callable[..., Any])

# vmprof can record once per process and one recording per program is what a reader wants:
# a profiled call made while another recording runs is simply part of that recording.
_busy = threading.Lock()


def _disabled() -> bool:
    return os.environ.get("PROF_DISABLE", "").strip().lower() not in ("", "0", "false", "no")


class profile:
    """`@profile(project=...)` on a function or method (sync or async), or `with profile(...):` for a block.

    project, name, tags: how the profile is listed (name defaults to the function's qualified name,
    or the enclosing function for a block); server, token: default to PROF_SERVER and PROF_TOKEN;
    memory: record the process RSS at every sample; period: seconds between samples (default 1 ms
    with vmprof, 5 ms with the sampling thread, whose samples are bounded by the GIL switch interval).
    """

    def __init__(
        self,
        project: Optional[str] = None,
        name: Optional[str] = None,
        tags: Optional[Dict[str, str]] = None,
        server: Optional[str] = None,
        token: Optional[str] = None,
        memory: bool = True,
        period: Optional[float] = None,
    ) -> None:
        self.project = project
        self.name = name
        self.tags = dict(tags or {})
        self.server = server
        self.token = token
        self.memory = memory
        self.period = period
        self._session: Optional[_Session] = None
        #: Where the last recording was spooled (None when nothing was recorded).
        self.path: Optional[str] = None

    def __call__(self, fn: F) -> F:
        name = self.name or getattr(fn, "__qualname__", None) or getattr(fn, "__name__", "function")
        settings = self

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                session = _Session.begin(settings, name, sys._getframe())
                try:
                    return await fn(*args, **kwargs)
                finally:
                    if session is not None:
                        session.end()

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            session = _Session.begin(settings, name, sys._getframe())
            try:
                return fn(*args, **kwargs)
            finally:
                if session is not None:
                    session.end()

        return wrapper  # type: ignore[return-value]

    def __enter__(self) -> "profile":
        caller = sys._getframe(1)
        name = self.name or caller.f_code.co_name
        # The block runs in the caller's frame: stacks end there, its callers are cut off.
        self._session = _Session.begin(self, name, caller.f_back)
        return self

    def __exit__(
        self,
        kind: Optional[Type[BaseException]],
        value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.end()

    async def __aenter__(self) -> "profile":
        caller = sys._getframe(1)
        self._session = _Session.begin(self, self.name or caller.f_code.co_name, caller.f_back)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.__exit__(None, None, None)


class _Session:
    """One recording into a spool file; every failure inside is a warning, never the program's problem."""

    def __init__(self, settings: profile, name: str, path: str, handle: Any, recording: Recording) -> None:
        self.settings = settings
        self.name = name
        self.path = path
        self.handle = handle
        self.recording = recording

    @staticmethod
    def begin(settings: profile, name: str, boundary: Optional[FrameType]) -> "Optional[_Session]":
        if _disabled() or not _busy.acquire(blocking=False):
            return None
        handle = None
        try:
            path = _upload.new_spool_path()
            # Readable too: vmprof.disable() reads the file back through the descriptor to add native symbols.
            handle = open(path + ".part", "w+b")
            meta = {"name": name}
            if settings.project:
                meta["project"] = settings.project
            recording = start_recording(handle, settings.period, settings.memory, boundary, meta)
            return _Session(settings, name, path, handle, recording)
        except Exception as error:
            if handle is not None:
                handle.close()
            _busy.release()
            warnings.warn("prof-client: not profiling %s (%r)" % (name, error), RuntimeWarning, 3)
            return None

    def end(self) -> None:
        try:
            self.recording.stop()
            self.handle.close()
            tags = dict(self.settings.tags)
            tags.setdefault("recorder", self.recording.recorder)
            fields = {"project": self.settings.project, "name": self.name, "tags": tags}
            if self.settings.server:
                fields["server"] = self.settings.server
            _upload.write_sidecar(self.path, fields)
            os.replace(self.path + ".part", self.path)
            self.settings.path = self.path
            _upload.send_in_background(self.path, self.settings.server, self.settings.token)
        except Exception as error:
            warnings.warn("prof-client: profile of %s lost (%r)" % (self.name, error), RuntimeWarning, 3)
        finally:
            _busy.release()


def upload(
    path: str,
    project: Optional[str] = None,
    name: Optional[str] = None,
    tags: Optional[Dict[str, str]] = None,
    server: Optional[str] = None,
    token: Optional[str] = None,
) -> Dict[str, Any]:
    """Uploads an existing profile file (vmprof `.prof`, gzipped or not) now; raises UploadError on failure.

    Returns the server's answer, e.g. {"id": "...", "url": "http://host/profiles/..."}.
    """
    return _upload.post_profile(path, project=project, name=name, tags=tags, server=server, token=token)


def upload_spool(server: Optional[str] = None, token: Optional[str] = None) -> Dict[str, Any]:
    """Sends every spooled profile; returns {"sent": [answers], "failed": {path: message}}."""
    sent = []
    failed: Dict[str, str] = {}
    for path in spooled_files():
        try:
            sent.append(_upload.send_spooled(path, server=server, token=token))
        except UploadError as error:
            failed[path] = str(error)
    return {"sent": sent, "failed": failed}
