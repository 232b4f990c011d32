"""`tokenwire run MODEL` on a terminal: ollama's interactive session. prompt_toolkit reads
the lines (history kept in ~/.tokenwire/history across sessions); the chat keeps its
messages; `/set`, `/show`, `/load`, `/save`, `/clear`, `/bye` and `\"\"\"` multi-line
input behave as in `ollama run`. Ctrl-C stops an answer and returns to the prompt."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import tokenwire_client
from tokenwire_client.cli import format as fmt
from tokenwire_client.cli import run

HELP = """Available Commands:
  /set            Set session variables
  /show           Show model information
  /load <model>   Load a session or model
  /save <model>   Save your current session
  /clear          Clear session context
  /bye            Exit
  /?, /help       Help for a command

Use \"\"\" to begin a multi-line message.
"""
SET_HELP = """Available Commands:
  /set parameter ...     Set a parameter
  /set system <string>   Set system message
  /set format json       Enable JSON mode
  /set noformat          Disable formatting
  /set verbose           Show LLM stats
  /set quiet             Disable LLM stats
  /set wordwrap          Enable wordwrap
  /set nowordwrap        Disable wordwrap
"""
SHOW_HELP = """Available Commands:
  /show info         Show details for this model
  /show license      Show model license
  /show modelfile    Show Modelfile for this model
  /show parameters   Show parameters for this model
  /show system       Show system message
  /show template     Show prompt template
"""


def _number(value: str) -> Any:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(value, value)


class Session:
    def __init__(self, c: tokenwire_client.Client, args: argparse.Namespace):
        self.c, self.args = c, args
        self.model = args.model
        self.system: str | None = None
        self.options: dict[str, Any] = {}
        self.messages: list[dict[str, str]] = []
        self.format = args.format or ""
        self.verbose = args.verbose
        self.wordwrap = not args.nowordwrap

    def chat(self, text: str) -> None:
        messages = ([{"role": "system", "content": self.system}] if self.system else []) + self.messages
        messages.append({"role": "user", "content": text})
        extra: dict[str, Any] = {"format": self.format or None, "keep_alive": self.args.keepalive or None,
                                 "think": run.think_value(self.args)}  # fmt: skip
        stream = self.c.chat(model=self.model, messages=messages, options=self.options, stream=True, **extra)
        printer = run.Printer(self.args, wrap=self.wordwrap)
        answer, last = [], None
        try:
            for part in stream:
                last, piece = part, part.message.content or ""
                answer.append(piece)
                printer.feed(piece, part.message.thinking or "")
        except KeyboardInterrupt:
            stream.close()  # cancels the RPC: the engine stops at once
            sys.stdout.write("\n")
            return
        except tokenwire_client.ResponseError as e:
            raise (run.refused(e) if last is None else e) from None
        printer.close()
        sys.stdout.write("\n\n")
        self.messages += [
            {"role": "user", "content": text},
            {"role": "assistant", "content": "".join(answer)},
        ]
        if self.verbose and last is not None:
            print(fmt.stats(json.loads(last.model_dump_json())) + "\n")

    def command(self, line: str) -> bool:
        """Run a /command; False when the session ends."""
        words = line.split()
        head = words[0]
        if head in ("/bye", "/exit"):
            return False
        if head in ("/?", "/help"):
            print(HELP)
        elif head == "/clear":
            self.messages = []
            print("Cleared session context")
        elif head == "/set":
            self._set(words[1:], line)
        elif head == "/show":
            self._show(words[1:])
        elif head == "/load" and len(words) == 2:
            self.c.show(words[1])  # an unknown model fails here, as in ollama
            self.model, self.messages = words[1], []
            print(f"Loading model '{words[1]}'")
            self.c.generate(model=self.model, prompt="")
        elif head == "/save" and len(words) == 2:
            self.c.create(
                model=words[1],
                from_=self.model,
                system=self.system,
                parameters=self.options or None,
                messages=self.messages or None,
            )
            print(f"Created new model '{words[1]}'")
        else:
            print(f"Unknown command '{head}'. Type /? for help")
        return True

    def _set(self, words: list[str], line: str) -> None:
        if not words:
            print(SET_HELP)
        elif words[0] == "parameter" and len(words) >= 3:
            name, value = words[1], " ".join(words[2:])
            self.options[name] = _number(value)
            print(f"Set parameter '{name}' to '{value}'")
        elif words[0] == "system":
            self.system = line.split("system", 1)[1].strip().strip('"')
            print("Set system message.")
        elif words == ["format", "json"]:
            self.format = "json"
            print("Set format to 'json' mode.")
        elif words == ["noformat"]:
            self.format = ""
            print("Disabled format.")
        elif words[0] in ("verbose", "quiet"):
            self.verbose = words[0] == "verbose"
            print("Set 'verbose' mode." if self.verbose else "Set 'quiet' mode.")
        elif words[0] in ("wordwrap", "nowordwrap"):
            self.wordwrap = words[0] == "wordwrap"
            print("Set 'wordwrap' mode." if self.wordwrap else "Set 'nowordwrap' mode.")
        else:
            print(SET_HELP)

    def _show(self, words: list[str]) -> None:
        if not words:
            print(SHOW_HELP)
            return
        info = self.c.show(self.model)
        what = words[0]
        if what == "info":
            from tokenwire_client.cli.commands import show_info

            print(fmt.show(show_info(self.c, self.model)))
        elif what == "parameters":
            print("Model defined parameters:")
            for line in (info.parameters or "").splitlines():
                if line.strip():
                    key, value = line.split(None, 1)
                    print(f"  {key:<30} {value.strip()}")
            if self.options:
                print("\nUser defined parameters:")
                for key, value in self.options.items():
                    print(f"  {key:<30} {value}")
            print()
        elif what in ("license", "modelfile", "template"):
            print((getattr(info, what) or "").rstrip() + "\n")
        elif what == "system":
            print((self.system or info.system or "").rstrip() + "\n")
        else:
            print(SHOW_HELP)


def _read(prompt: Any) -> str:
    """One message: a line, or the lines between triple quotes."""
    line: str = prompt.prompt(">>> ", placeholder="Send a message (/? for help)")
    if not line.startswith('"""'):
        return line
    lines, rest = [], line[3:]
    while not rest.rstrip().endswith('"""'):
        lines.append(rest)
        rest = prompt.prompt("... ")
    lines.append(rest.rstrip()[:-3])
    return "\n".join(lines).strip()


def interactive(c: tokenwire_client.Client, args: argparse.Namespace) -> int:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    history = Path.home() / ".tokenwire" / "history"
    history.parent.mkdir(parents=True, exist_ok=True)
    prompt: Any = PromptSession(history=FileHistory(str(history)))
    session = Session(c, args)
    c.generate(model=session.model, prompt="")  # load it now, as ollama does before the prompt
    while True:
        try:
            text = _read(prompt)
        except KeyboardInterrupt:
            print("Use Ctrl + d or /bye to exit.")
            continue
        except EOFError:
            return 0
        if not text.strip():
            continue
        try:
            if text.startswith("/"):
                if not session.command(text.strip()):
                    return 0
            else:
                session.chat(text)
        except tokenwire_client.ResponseError as e:
            print(f"Error: {e.error}")
