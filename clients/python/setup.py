"""Build hooks of tokenwire-client; the metadata is in pyproject.toml.

The stubs are generated before setuptools looks for packages, so `tokenwire.v1`
exists for both wheels and editable installs. An sdist carries a copy of the protos,
so a wheel built from it generates the same stubs.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.sdist import sdist

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_stubs

build_stubs.generate()


class SdistWithProtos(sdist):
    def make_release_tree(self, base_dir: str, files: list[str]) -> None:
        super().make_release_tree(base_dir, files)
        dest = Path(base_dir) / "proto"
        if not dest.exists():
            shutil.copytree(build_stubs.proto_root(), dest)


setup(cmdclass={"sdist": SdistWithProtos})
