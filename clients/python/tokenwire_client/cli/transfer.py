"""`tokenwire pull`, `push` and `create -f`: the server's progress as `ollama` shows it,
a bar per layer (rich) on a terminal, plain status lines otherwise."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import grpc

import tokenwire_client
from tokenwire.v1 import models_pb2, models_pb2_grpc
from tokenwire_client._errors import from_rpc_error
from tokenwire_client.cli import format as fmt


class Progress:
    """Status lines and per-digest bars. Without a TTY (or with NO_COLOR's plain
    console) rich prints no bars, so each status is printed once, as a log would."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, TextColumn, TransferSpeedColumn
        from rich.progress import Progress as Bars

        self.console = Console(stderr=False, highlight=False)
        self.live = self.console.is_terminal
        columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(binary_units=False))
        self.bars = Bars(*columns, TransferSpeedColumn(), console=self.console, disable=not self.live)
        self.tasks: dict[str, Any] = {}  # digest -> rich TaskID
        self.last = ""

    def __enter__(self) -> Progress:
        self.bars.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bars.__exit__(None, None, None)

    def update(self, status: str, digest: str = "", total: int = 0, completed: int = 0) -> None:
        if digest and total:
            short = digest.removeprefix("sha256:")[:12]
            # The server words pulls and pushes as ollama does ("pulling 941f309b54ca");
            # an upload is ours: "copying file sha256:...".
            label = status if short in status else f"{status} {digest}"
            if digest not in self.tasks:
                self.tasks[digest] = self.bars.add_task(label, total=total)
                if not self.live:
                    print(f"{label}: {fmt.human_bytes(total)}", flush=True)
            self.bars.update(self.tasks[digest], completed=completed, total=total)
            return
        if status != self.last:
            self.last = status
            (self.bars.console.print if self.live else print)(status)


def _follow(stream: Iterable[Any], progress: Progress) -> None:
    try:
        for p in stream:
            progress.update(p.status or "", p.digest or "", p.total or 0, p.completed or 0)
    except grpc.RpcError as e:
        raise from_rpc_error(e) from None


def pull(c: tokenwire_client.Client, args: argparse.Namespace) -> int:
    with Progress() as progress:
        _follow(c.pull(args.model, insecure=args.insecure, stream=True), progress)
    return 0


def push(c: tokenwire_client.Client, args: argparse.Namespace) -> int:
    with Progress() as progress:
        _follow(c.push(args.model, insecure=args.insecure, stream=True), progress)
    return 0


FROM = re.compile(r"^(\s*FROM\s+)(.+?)\s*$", re.IGNORECASE | re.MULTILINE)


def create(c: tokenwire_client.Client, args: argparse.Namespace) -> int:
    """`ollama create NAME -f Modelfile`: a FROM that names a local file (a GGUF, relative
    to the Modelfile) is uploaded first, once, and named by its digest; the server
    parses the rest of the Modelfile."""
    modelfile = Path(args.file)
    try:
        text = modelfile.read_text()
    except OSError as e:
        print(f"Error: {e.strerror}: {args.file}", file=sys.stderr)
        return 1
    match = FROM.search(text)
    if match is None:  # ollama's CLI parses the Modelfile first, and says so
        print("Error: no FROM line", file=sys.stderr)
        return 1
    stub = models_pb2_grpc.ModelServiceStub(c.channel)
    try:
        with Progress() as progress:
            local = (modelfile.parent / Path(match.group(2).strip('"')).expanduser()).resolve()
            if local.is_file():
                progress.update("gathering model components")
                size = local.stat().st_size
                copied = lambda d, n: progress.update("copying file", d, size, n)  # noqa: E731
                digest = c.create_blob(local, progress=copied)
                text = text[: match.start(2)] + "@" + digest + text[match.end(2) :]
            request = models_pb2.CreateModelRequest(
                model=args.model, modelfile=text, quantize=args.quantize or "", stream=True
            )
            _follow(stub.CreateModel(request), progress)
    except grpc.RpcError as e:
        raise from_rpc_error(e) from None
    return 0
