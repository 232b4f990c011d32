"""`tokenwire run MODEL [PROMPT]`: one answer for a prompt given as arguments or piped
in, streamed as it is generated (word-wrapped on a terminal), as `ollama run` does.
The interactive session (no prompt, a terminal) is in interactive.py."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from http import HTTPStatus
from pathlib import Path
from typing import Any

import tokenwire_client
from tokenwire_client.cli import format as fmt
from tokenwire_client.cli.wrap import Wrapper

IMAGE = re.compile(r"(?:^|\s)((?:~|\.{0,2}/)?[^\s'\"]+\.(?:png|jpe?g|webp))\b", re.IGNORECASE)


def images_in(prompt: str) -> tuple[str, list[bytes]]:
    """Paths to images in a prompt are read and attached, as `ollama run` does."""
    found = []
    for path in IMAGE.findall(prompt):
        p = Path(path).expanduser()
        if p.is_file():
            found.append(p.read_bytes())
            prompt = prompt.replace(path, "")
    return prompt.strip(), found


def think_value(args: argparse.Namespace) -> bool | str | None:
    if args.think is None:
        return None
    value: bool | str = {"true": True, "false": False}.get(args.think, args.think)
    return value


def request(args: argparse.Namespace, prompt: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    prompt, images = images_in(prompt)
    out: dict[str, Any] = {"model": args.model, "prompt": prompt, "options": options or {}}
    if images:
        out["images"] = images
    if args.format:
        out["format"] = args.format
    if args.keepalive:
        out["keep_alive"] = args.keepalive
    if (think := think_value(args)) is not None:
        out["think"] = think
    return out


class Printer:
    """Writes an answer as it streams: thinking between ollama's "Thinking..." and
    "...done thinking." lines (unless hidden), the text word-wrapped on a terminal."""

    def __init__(self, args: argparse.Namespace, wrap: bool):
        width = shutil.get_terminal_size((80, 24)).columns - 5
        self.wrapper = Wrapper(width) if wrap and sys.stdout.isatty() else None
        self.hide = args.hidethinking
        self.thinking = False

    def feed(self, text: str, thinking: str = "") -> None:
        if thinking and not self.hide:
            if not self.thinking:
                sys.stdout.write("Thinking...\n")
                self.thinking = True
            sys.stdout.write(thinking)
        if text and self.thinking:
            sys.stdout.write("\n...done thinking.\n\n")
            self.thinking = False
        sys.stdout.write(self.wrapper.feed(text) if self.wrapper else text)
        sys.stdout.flush()

    def close(self) -> None:
        if self.wrapper:
            sys.stdout.write(self.wrapper.close())


def refused(e: tokenwire_client.ResponseError) -> tokenwire_client.ResponseError:
    """An error before the first chunk is an HTTP status in ollama's client, printed with
    it: `Error: 400 Bad Request: "m" does not support thinking`."""
    if e.status_code >= 400:
        e.error = f"{e.status_code} {HTTPStatus(e.status_code).phrase}: {e.error}"
    return e


def stream_answer(c: tokenwire_client.Client, args: argparse.Namespace, body: dict[str, Any]) -> Any:
    """Print an answer as it streams; returns the last chunk (with the metrics)."""
    printer, last = Printer(args, wrap=not args.nowordwrap and not args.format), None
    try:
        for part in c.generate(**body, stream=True):
            last = part
            printer.feed(part.response or "", part.thinking or "")
    except tokenwire_client.ResponseError as e:
        raise (refused(e) if last is None else e) from None
    printer.close()
    sys.stdout.write("\n\n" if not args.format else "\n")
    sys.stdout.flush()
    return last


def run(c: tokenwire_client.Client, args: argparse.Namespace) -> int:
    prompt = " ".join(args.prompt)
    if not sys.stdin.isatty():
        piped = sys.stdin.read()
        prompt = f"{piped}\n{prompt}".strip() if prompt else piped.strip()
    elif not prompt:
        from tokenwire_client.cli.interactive import interactive

        return interactive(c, args)
    last = stream_answer(c, args, request(args, prompt))
    if args.verbose and last is not None:
        print(fmt.stats(json.loads(last.model_dump_json())), file=sys.stderr)
    return 0
