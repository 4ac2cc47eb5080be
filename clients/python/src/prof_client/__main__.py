"""`python -m prof_client [options] script.py args...` profiles a whole program;
`python -m prof_client upload (--spool | FILE...)` sends profiles."""

import argparse
import os
import sys
from typing import Any, Dict, List, Optional

from . import _Session, profile, upload, upload_spool
from ._upload import UploadError


def _tags(values: List[str]) -> Dict[str, str]:
    tags = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not key or not sep:
            raise SystemExit("prof_client: --tag %r: expected key=value" % value)
        tags[key] = rest
    return tags


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", help="project the profile is listed under")
    parser.add_argument("--name", help="profile name (default: the script's file name)")
    parser.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--server", help="Prof server URL (default: $PROF_SERVER or http://localhost:8080)")
    parser.add_argument("--token", help="upload token (default: $PROF_TOKEN)")


def _exec_script(settings: profile, name: str, code: Any, globs: Dict[str, Any]) -> None:
    # This frame is the boundary: the script's <module> is the root of every stack.
    session = _Session.begin(settings, name, sys._getframe())
    try:
        exec(code, globs)
    finally:
        if session is not None:
            session.end()


def run(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m prof_client", description="Profile a Python program.")
    _common(parser)
    parser.add_argument("--period", type=float, help="seconds between samples")
    parser.add_argument("--no-memory", action="store_true", help="do not record the process RSS")
    parser.add_argument("script")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    path = options.script
    with open(path, "rb") as f:
        code = compile(f.read(), path, "exec")
    sys.argv = [path] + options.args
    sys.path[0] = os.path.dirname(os.path.abspath(path))
    globs = {"__name__": "__main__", "__file__": path, "__builtins__": __builtins__, "__package__": None}
    name = options.name or os.path.basename(path)
    settings = profile(
        project=options.project,
        name=name,
        tags=_tags(options.tag),
        server=options.server,
        token=options.token,
        memory=not options.no_memory,
        period=options.period,
    )
    _exec_script(settings, name, code, globs)
    return 0


def upload_command(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m prof_client upload", description="Send profiles.")
    _common(parser)
    parser.add_argument("--spool", action="store_true", help="send what the client could not send before")
    parser.add_argument("files", nargs="*")
    options = parser.parse_args(argv)
    if not options.spool and not options.files:
        parser.error("give profile files or --spool")
    status = 0
    if options.spool:
        result = upload_spool(server=options.server, token=options.token)
        for answer in result["sent"]:
            print("sent %s" % answer.get("url", answer))
        for path, message in result["failed"].items():
            print("kept %s: %s" % (path, message), file=sys.stderr)
            status = 1
    for path in options.files:
        try:
            answer = upload(
                path,
                project=options.project,
                name=options.name,
                tags=_tags(options.tag),
                server=options.server,
                token=options.token,
            )
            print("sent %s" % answer.get("url", answer))
        except UploadError as error:
            print("failed %s: %s" % (path, error), file=sys.stderr)
            status = 1
    return status


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "upload":
        return upload_command(argv[1:])
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
