"""python -m scripts.settings_table: the README's settings rows, made from the specs.

tests/unit/test_settings.py checks that the README holds exactly these rows.
"""

from __future__ import annotations

from rest_shim.settings import SPEC as SHIM
from server.settings import SPEC as SERVER
from tokenwire_common.settings import markdown_rows


def rows() -> list[str]:
    shim = [s for s in SHIM if s.env not in {x.env for x in SERVER}]  # TOKENWIRE_GRPC_ADDR is both
    return markdown_rows(SERVER) + markdown_rows(shim)


if __name__ == "__main__":
    print("\n".join(rows()))
