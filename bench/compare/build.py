"""llama-server, built once from the llama.cpp that the pinned llama-cpp-python sdist
vendors, with the CMake flags scripts/setup.sh built our wheel with: both sides run the
same kernels. The binary is cached under ~/.cache/tokenwire/bin, keyed by version and
flags; a second run finds it (about 6 minutes on 2 cores the first time)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
from pathlib import Path

from server.settings import Settings

PYPI = "https://pypi.org/simple"
# One fact: the version setup.sh pins, read from its line rather than repeated here.
SETUP = Path(__file__).resolve().parents[2] / "scripts" / "setup.sh"

# Off: the web UI (its prebuilt copy downloads from a hub), HTTPS, tests and examples.
SERVER_FLAGS = [
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DLLAMA_BUILD_TOOLS=ON",
    "-DLLAMA_BUILD_SERVER=ON",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_UI=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",
    "-DLLAMA_OPENSSL=OFF",
]


def llama_version() -> str:
    for line in SETUP.read_text().splitlines():
        if line.startswith("LLAMA_VERSION="):
            return line.split("=", 1)[1].strip()
    raise SystemExit(f"no LLAMA_VERSION= in {SETUP}")


def wheel_cmake_args(cache: Path, version: str) -> str:
    """The CMAKE_ARGS our llama-cpp-python wheel was built with (setup.sh records them)."""
    import llama_cpp

    found = [
        p.read_text().strip()
        for p in sorted((cache / "wheels").glob("llama-cpp-python-*/CMAKE_ARGS"))
        if any(p.parent.glob(f"llama_cpp_python-{version}-*.whl"))
    ]
    if not found:
        raise SystemExit("no llama-cpp-python wheel built by scripts/setup.sh: run `make setup`")
    if llama_cpp.__version__ != version:
        raise SystemExit(f"llama-cpp-python {llama_cpp.__version__} installed, setup.sh pins {version}")
    return found[-1]


def sdist(cache: Path, version: str) -> Path:
    """The sdist from PyPI's simple index (PEP 691 JSON, the API this network serves),
    checked against the sha256 listed there. Fetched by URL: `pip download --no-binary`
    prepares the package's metadata, which needs its build backend (scikit-build-core),
    not in our venv on a fresh machine."""
    where = cache / "sdist"
    name = f"llama_cpp_python-{version}.tar.gz"
    path = where / name
    if path.exists():
        return path
    accept = {"Accept": "application/vnd.pypi.simple.v1+json"}
    index = urllib.request.Request(f"{PYPI}/llama-cpp-python/", headers=accept)
    with urllib.request.urlopen(index, timeout=60) as r:
        entry = next(f for f in json.load(r)["files"] if f["filename"] == name)
    where.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    digest = hashlib.sha256()
    with urllib.request.urlopen(entry["url"], timeout=60) as r, partial.open("wb") as out:
        while chunk := r.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != entry["hashes"]["sha256"]:
        partial.unlink()
        raise SystemExit(
            f"{entry['url']}: sha256 {digest.hexdigest()}, PyPI lists {entry['hashes']['sha256']}"
        )
    partial.rename(path)
    return path


def llama_server() -> Path:
    cache = Settings.from_env().cache_dir
    version = llama_version()
    cmake_args = wheel_cmake_args(cache, version)
    key = hashlib.sha256(f"{version}|{cmake_args}|{SERVER_FLAGS}".encode()).hexdigest()[:16]
    binary = cache / "bin" / f"llama-server-{version}-{key}" / "llama-server"
    if binary.exists():
        return binary
    print(f"building llama-server from llama-cpp-python {version}'s llama.cpp with {cmake_args}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(sdist(cache, version)) as tar:
            prefix = f"llama_cpp_python-{version}/vendor/llama.cpp/"
            members = [m for m in tar.getmembers() if m.name.startswith(prefix)]
            tar.extractall(tmp, members=members, filter="data")
        src, build = Path(tmp) / prefix, Path(tmp) / "build"
        subprocess.run(["cmake", "-S", str(src), "-B", str(build), *SERVER_FLAGS, *cmake_args.split()],
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        jobs = str(os.cpu_count() or 1)
        subprocess.run(["cmake", "--build", str(build), "--target", "llama-server", "-j", jobs],
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        built = next(build.rglob("bin/llama-server"))
        staging = binary.parent.with_suffix(".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        shutil.copy2(built, staging / "llama-server")
        staging.rename(binary.parent)  # whole or not at all: an interrupted build leaves no binary
    return binary


if __name__ == "__main__":
    print(llama_server())
