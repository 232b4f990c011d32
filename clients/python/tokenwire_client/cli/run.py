"""`tokenwire run MODEL [PROMPT]`: one answer for a prompt given as arguments or piped
in, streamed as it is generated (word-wrapped on a terminal), as `ollama run` does.
The interactive session (no prompt, a terminal) is in interactive.py."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
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


def stream_answer(c: tokenwire_client.Client, args: argparse.Namespace, body: dict[str, Any]) -> Any:
    """Print an answer as it streams; returns the last chunk (with the metrics)."""
    wrap = sys.stdout.isatty() and not args.nowordwrap and not args.format
    wrapper = Wrapper(shutil.get_terminal_size((80, 24)).columns - 5) if wrap else None
    last, thinking = None, False
    for part in c.generate(**body, stream=True):
        last = part
        if part.thinking and not args.hidethinking:
            if not thinking:
                sys.stdout.write("Thinking...\n")
                thinking = True
            sys.stdout.write(part.thinking)
        text = part.response or ""
        if text and thinking:
            sys.stdout.write("\n...done thinking.\n\n")
            thinking = False
        sys.stdout.write(wrapper.feed(text) if wrapper else text)
        sys.stdout.flush()
    if wrapper:
        sys.stdout.write(wrapper.close())
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
