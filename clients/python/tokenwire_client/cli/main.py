"""`tokenwire`: ollama's commands, flags, output and exit codes, over gRPC.

    tokenwire run MODEL [PROMPT]     tokenwire list | ps | show MODEL | status
    tokenwire pull | push MODEL      tokenwire create NAME -f Modelfile
    tokenwire cp SRC DST | rm MODEL... | stop MODEL | serve | --version

It talks to TOKENWIRE_GRPC_ADDR (default 127.0.0.1:50051) with the client's TLS and
credential settings (tokenwire_client/cli/connect.py). Errors print as ollama's do,
`Error: model 'x' not found`, and exit 1.
"""

from __future__ import annotations

import argparse
import sys

import grpc

import tokenwire_client
from tokenwire_client._errors import from_rpc_error
from tokenwire_client.cli import commands, connect


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tokenwire", description="Large language models over tokenwire's gRPC API"
    )
    p.add_argument("-v", "--version", action="store_true", help="show the server's and the client's versions")
    sub = p.add_subparsers(dest="command", metavar="command")

    def cmd(name: str, help: str, *aliases: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, aliases=list(aliases))

    cmd("serve", "start the server with its REST API (as `make serve`)", "start")
    r = cmd("run", "run a model")
    r.add_argument("model")
    r.add_argument("prompt", nargs="*")
    r.add_argument("--verbose", action="store_true", help="show timings for the response")
    r.add_argument("--nowordwrap", action="store_true", help="don't wrap words to the next line")
    r.add_argument("--format", default="", help='response format (e.g. "json")')
    r.add_argument("--keepalive", default="", help='how long the model stays loaded (e.g. "5m")')
    r.add_argument("--think", default=None, help="enable thinking: true, false, or high, medium, low")
    r.add_argument("--hidethinking", action="store_true", help="hide the thinking output")
    for name, help in (("pull", "pull a model from a registry"), ("push", "push a model to a registry")):
        t = cmd(name, help)
        t.add_argument("model")
        t.add_argument("--insecure", action="store_true", help="use an insecure registry")
    c = cmd("create", "create a model from a Modelfile")
    c.add_argument("model")
    c.add_argument("-f", "--file", default="Modelfile", help="name of the Modelfile")
    c.add_argument("-q", "--quantize", default="", help="quantize the model to this level (e.g. q4_K_M)")
    s = cmd("show", "show information for a model")
    s.add_argument("model")
    for flag in ("modelfile", "parameters", "template", "system", "license"):
        s.add_argument(f"--{flag}", action="store_true", help=f"show the model's {flag}")
    s.add_argument("-v", "--verbose", action="store_true", help="show the metadata and tensors too")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    for name, help, aliases in (("list", "list models", ("ls",)), ("ps", "list running models", ())):
        cmd(name, help, *aliases).add_argument("--json", action="store_true", help="machine-readable output")
    cp = cmd("cp", "copy a model")
    cp.add_argument("source")
    cp.add_argument("destination")
    cmd("rm", "remove models").add_argument("models", nargs="+")
    cmd("stop", "stop a running model").add_argument("model")
    cmd("status", "slots, queue and KV cache of each loaded model").add_argument(
        "--json", action="store_true"
    )
    return p


def serve() -> int:
    """The server with its REST API, as `make serve` runs it (server/supervisor.py)."""
    try:
        import rest_shim  # noqa: F401
        from server import supervisor
    except ImportError:
        print("Error: `tokenwire serve` needs tokenwire-server and tokenwire-shim installed", file=sys.stderr)
        return 1
    return supervisor.main()


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    # `--think` takes a value only as `--think=high` (cobra's NoOptDefVal): a bare one is
    # true, and the word after it is the prompt's.
    argv = ["--think=true" if a == "--think" else a for a in (sys.argv[1:] if argv is None else argv)]
    # Flags may come after the prompt's words, as cobra allows `ollama run m hi --verbose`.
    args, rest = parser.parse_known_args(argv)
    if rest and args.command == "run" and not any(r.startswith("-") for r in rest):
        args.prompt += rest
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command in ("serve", "start"):
        return serve()
    try:
        client = connect.client()
    except OSError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    from tokenwire_client.cli import run, transfer

    handlers = {
        "run": run.run, "pull": transfer.pull, "push": transfer.push, "create": transfer.create,
        "show": commands.show, "list": commands.list_models, "ls": commands.list_models, "ps": commands.ps,
        "cp": commands.copy, "rm": commands.remove, "stop": commands.stop, "status": commands.status,
    }  # fmt: skip
    try:
        if args.version:
            return commands.version(client)
        if args.command is None:
            parser.print_help()
            return 0
        try:
            return handlers[args.command](client, args)
        except grpc.RpcError as e:  # a raw stub's error: the client's own types, as its methods raise
            raise from_rpc_error(e) from None
    except tokenwire_client.UnavailableError:
        where = connect.address()
        print(f"Error: could not connect to tokenwire at {where}, is it running?", file=sys.stderr)
        return 1
    except (tokenwire_client.ResponseError, tokenwire_client.RequestError) as e:
        print(f"Error: {e.error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
