"""Sending profiles: every recording is written to the spool directory first, then sent by a daemon
thread; what cannot be sent stays spooled for `python -m prof_client upload --spool`."""

import _thread
import atexit
import gzip
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any, Dict, List, Optional, Tuple

from ._recorders import client_threads

DEFAULT_SERVER = "http://localhost:8080"
#: The longest a program's exit waits for uploads still running (PROF_EXIT_WAIT overrides, in seconds).
EXIT_WAIT_S = 2.0
HTTP_TIMEOUT_S = 30.0

#: One event per upload started by this process, set when it ends.
_pending: List[threading.Event] = []


class UploadError(Exception):
    pass


def spool_dir() -> str:
    explicit = os.environ.get("PROF_SPOOL")
    if explicit:
        return explicit
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "prof-client", "spool")


def server_url(server: Optional[str]) -> str:
    return (server or os.environ.get("PROF_SERVER") or DEFAULT_SERVER).rstrip("/")


def new_spool_path(directory: Optional[str] = None) -> str:
    directory = directory or spool_dir()
    os.makedirs(directory, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    return os.path.join(directory, "%s-%s.prof" % (stamp, uuid.uuid4().hex[:12]))


def write_sidecar(path: str, fields: Dict[str, Any]) -> None:
    tmp = path + ".json.tmp"
    with open(tmp, "w") as f:
        json.dump(fields, f)
    os.replace(tmp, path + ".json")


def read_sidecar(path: str) -> Dict[str, Any]:
    try:
        with open(path + ".json") as f:
            value = json.load(f)
        return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return {}


def post_profile(
    path: str,
    project: Optional[str] = None,
    name: Optional[str] = None,
    tags: Optional[Dict[str, str]] = None,
    server: Optional[str] = None,
    token: Optional[str] = None,
    timeout: float = HTTP_TIMEOUT_S,
) -> Dict[str, Any]:
    """POSTs one vmprof file (gzipped on the way) to /api/profiles; returns the server's answer."""
    query: List[Tuple[str, str]] = []
    if project:
        query.append(("project", project))
    if name:
        query.append(("name", name))
    for key, value in (tags or {}).items():
        query.append(("tag", "%s=%s" % (key, value)))
    url = server_url(server) + "/api/profiles"
    if query:
        url += "?" + urllib.parse.urlencode(query)
    with open(path, "rb") as f:
        body = gzip.compress(f.read(), 6)
    headers = {"Content-Type": "application/octet-stream", "User-Agent": "prof-client-python/0.1"}
    token = token or os.environ.get("PROF_TOKEN")
    if token:
        headers["Authorization"] = "Bearer " + token
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read().decode("utf-8") or "{}")
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")[:500]
        raise UploadError("%s answered %d: %s" % (url, error.code, detail)) from None
    except (OSError, ValueError) as error:
        raise UploadError("%s: %s" % (url, error)) from None
    if isinstance(answer, dict) and "url" in answer:
        answer["url"] = server_url(server) + str(answer["url"])
    return answer if isinstance(answer, dict) else {}


def _claim(path: str) -> Optional[str]:
    """Renames a spooled file for this process, so two senders never send it twice."""
    claimed = "%s.sending-%d" % (path, os.getpid())
    try:
        os.rename(path, claimed)
    except OSError:
        return None
    return claimed


def send_spooled(path: str, server: Optional[str] = None, token: Optional[str] = None) -> Dict[str, Any]:
    """Sends one spooled profile and deletes it; on failure it stays spooled and UploadError is raised."""
    fields = read_sidecar(path)
    claimed = _claim(path)
    if claimed is None:
        raise UploadError("%s: already being sent or gone" % path)
    try:
        answer = post_profile(
            claimed,
            project=fields.get("project"),
            name=fields.get("name"),
            tags=fields.get("tags"),
            server=server or fields.get("server"),
            token=token,
        )
    except BaseException:
        os.rename(claimed, path)
        raise
    os.unlink(claimed)
    try:
        os.unlink(path + ".json")
    except OSError:
        pass
    return answer


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def spooled_files(directory: Optional[str] = None) -> List[str]:
    """Spooled profiles, oldest first; files left claimed by a process that died are released."""
    directory = directory or spool_dir()
    try:
        entries = sorted(os.listdir(directory))
    except OSError:
        return []
    found = []
    for entry in entries:
        full = os.path.join(directory, entry)
        if ".prof.sending-" in entry:
            base, _, pid = entry.rpartition(".sending-")
            if pid.isdigit() and not _pid_alive(int(pid)):
                os.rename(full, os.path.join(directory, base))
                found.append(os.path.join(directory, base))
        elif entry.endswith(".prof"):
            found.append(full)
    return sorted(found)


def _say(message: str) -> None:
    try:
        sys.stderr.write("prof-client: %s\n" % message)
    except Exception:
        pass


def send_in_background(path: str, server: Optional[str], token: Optional[str]) -> None:
    done = threading.Event()

    def run() -> None:
        client_threads.add(threading.get_ident())
        try:
            answer = send_spooled(path, server=server, token=token)
            if os.environ.get("PROF_VERBOSE"):
                print("prof-client: uploaded %s" % answer.get("url", answer), flush=True)
        except UploadError as error:
            _say("profile kept in %s, not sent (%s); send it later with: python -m prof_client upload --spool" % (path, error))
        except Exception as error:  # the program must never see the client's failures
            _say("profile kept in %s (%r)" % (path, error))
        finally:
            client_threads.discard(threading.get_ident())
            done.set()

    _pending.append(done)
    # Not threading.Thread: its start() waits for the thread to be scheduled, and exit never waits for this one.
    _thread.start_new_thread(run, ())


@atexit.register
def _wait_for_uploads() -> None:
    try:
        wait = float(os.environ.get("PROF_EXIT_WAIT", EXIT_WAIT_S))
    except ValueError:
        wait = EXIT_WAIT_S
    deadline = time.monotonic() + wait
    for done in list(_pending):
        done.wait(max(0.0, deadline - time.monotonic()))
