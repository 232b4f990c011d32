"""python -m scripts.validate_k8s: schema-check every manifest in deploy/k8s (`make lint`).

There is no cluster here, so each document is checked against its kind's schema:
built-in kinds with kubernetes-validate (the Kubernetes OpenAPI schemas it carries,
strict: unknown fields fail), HTTPRoute against the CRD of Gateway API v1.6.3 (from
the Go module proxy, cached by Go), InferencePool against the schema beside it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
KUBERNETES = "1.34.0"
GATEWAY_API = "sigs.k8s.io/gateway-api@v1.6.3"


def _strict(schema: dict) -> dict:
    """A CRD's schema refusing unknown fields, as `kubectl apply --validate=strict` does
    (the API server would prune them silently otherwise)."""
    if isinstance(schema, dict):
        if "properties" in schema and "additionalProperties" not in schema:
            if not schema.get("x-kubernetes-preserve-unknown-fields"):
                schema["additionalProperties"] = False
        for value in schema.values():
            if isinstance(value, dict):
                _strict(value)
            elif isinstance(value, list):
                for item in value:
                    _strict(item)
    return schema


def _crd_schema(module: str, crd_file: str, version: str) -> dict:
    out = subprocess.run(
        ["go", "mod", "download", "-json", module], capture_output=True, text=True, check=True
    )
    crd = yaml.safe_load((Path(json.loads(out.stdout)["Dir"]) / crd_file).read_text())
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    return _strict(served["schema"]["openAPIV3Schema"])


def schemas() -> dict[tuple[str, str], dict]:
    return {
        ("gateway.networking.k8s.io/v1", "HTTPRoute"): _crd_schema(
            GATEWAY_API, "config/crd/standard/gateway.networking.k8s.io_httproutes.yaml", "v1"
        ),
        ("inference.networking.k8s.io/v1", "InferencePool"): json.loads(
            (K8S / "gateway" / "inferencepool-v1.schema.json").read_text()
        ),
    }


def problem(doc: dict, custom: dict[tuple[str, str], dict]) -> str | None:
    """Why `doc` is not a valid manifest of its kind, or None."""
    schema = custom.get((doc.get("apiVersion"), doc.get("kind")))
    try:
        if schema is not None:
            jsonschema.validate(doc, schema)
        else:
            kubernetes_validate.validate(doc, KUBERNETES, strict=True)
    except (jsonschema.ValidationError, kubernetes_validate.ValidationError) as e:
        return str(getattr(e, "message", e))
    except kubernetes_validate.SchemaNotFoundError:
        return f"no schema for {doc.get('apiVersion')} {doc.get('kind')}"
    return None


def documents() -> list[tuple[Path, dict]]:
    return [(p, d) for p in sorted(K8S.rglob("*.yaml")) for d in yaml.safe_load_all(p.read_text()) if d]


def main() -> int:
    custom = schemas()
    failures = []
    docs = documents()
    for path, doc in docs:
        if (why := problem(doc, custom)) is not None:
            failures.append(
                f"{path.relative_to(ROOT)}: {doc.get('kind')}/{doc['metadata'].get('name')}: {why}"
            )
    checked = len(docs)
    for f in failures:
        print(f, file=sys.stderr)
    print(f"{checked} Kubernetes documents checked, {len(failures)} invalid")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
