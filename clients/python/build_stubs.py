"""Generate the Python stubs of proto/tokenwire/v1 into ./tokenwire (build output, git-ignored).

The one place Python stubs come from: `pip install ./clients/python` runs it through
setup.py (grpcio-tools is a build requirement, never a runtime one), and `make proto`
runs it for a development checkout. It regenerates only when the protos or the
generator changed, so every build step may call it.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "tokenwire"
STAMP = OUT / ".stamp"


def proto_root() -> Path:
    """The protos: copied beside this file in an sdist, else the repository's proto/."""
    for root in (HERE / "proto", HERE.parent.parent / "proto"):
        if (root / "tokenwire" / "v1").is_dir():
            return root
    raise FileNotFoundError("proto/tokenwire/v1 not found beside clients/python or in the repository")


def _fingerprint(root: Path, protos: list[Path]) -> str:
    import grpc_tools

    h = hashlib.sha256(grpc_tools.__file__.encode())
    h.update(_version("grpcio-tools").encode())
    for p in protos:
        h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def _version(dist: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def generate(force: bool = False) -> Path:
    """Write tokenwire/v1/*_pb2.py, *_pb2.pyi and *_pb2_grpc.py; return the output folder."""
    root = proto_root()
    protos = sorted((root / "tokenwire" / "v1").glob("*.proto"))
    stamp = _fingerprint(root, protos)
    if not force and STAMP.is_file() and STAMP.read_text() == stamp:
        return OUT
    import grpc_tools
    from grpc_tools import protoc

    tmp = HERE / ".tokenwire.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    args = [
        "protoc",
        f"-I{root}",
        f"-I{Path(grpc_tools.__file__).parent / '_proto'}",
        f"--python_out={tmp}",
        f"--pyi_out={tmp}",
        f"--grpc_python_out={tmp}",
        *(str(p.relative_to(root)) for p in protos),
    ]
    if protoc.main(args) != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError("protoc failed on " + " ".join(args[1:]))
    for pkg in (tmp / "tokenwire", tmp / "tokenwire" / "v1"):
        (pkg / "__init__.py").write_text('"""Generated from proto/tokenwire/v1; do not edit."""\n')
    (tmp / "tokenwire" / "py.typed").write_text("")
    (tmp / "tokenwire" / ".stamp").write_text(stamp)
    shutil.rmtree(OUT, ignore_errors=True)
    (tmp / "tokenwire").rename(OUT)
    shutil.rmtree(tmp, ignore_errors=True)
    return OUT


if __name__ == "__main__":
    print(generate(force="--force" in sys.argv[1:]))
