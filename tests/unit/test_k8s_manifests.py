"""deploy/k8s is checked against the kinds' schemas (scripts/validate_k8s.py), and the
check refuses a manifest with a field its kind does not have."""

from __future__ import annotations

import copy

from scripts import validate_k8s


def test_every_manifest_is_valid_and_a_typo_is_not():
    custom = validate_k8s.schemas()
    docs = validate_k8s.documents()
    kinds = {d["kind"] for _, d in docs}
    assert {"Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"} <= kinds
    assert {"InferencePool", "HTTPRoute"} <= kinds
    for _, doc in docs:
        assert validate_k8s.problem(doc, custom) is None, doc["kind"]
        bad = copy.deepcopy(doc)
        bad["spec"]["replicaz"] = 3
        assert validate_k8s.problem(bad, custom) is not None, f"{doc['kind']} took an unknown field"


def test_the_server_has_native_grpc_probes_and_a_drain():
    (deployment,) = [
        d
        for _, d in validate_k8s.documents()
        if d["kind"] == "Deployment" and d["metadata"]["name"] == "tokenwire"
    ]
    (server,) = deployment["spec"]["template"]["spec"]["containers"]
    assert server["readinessProbe"]["grpc"]["port"] == 50051 and server["livenessProbe"]["grpc"]
    assert server["lifecycle"]["preStop"]["sleep"]["seconds"] > 0
    grace = {e["name"]: e["value"] for e in server["env"]}["TOKENWIRE_SHUTDOWN_GRACE"]
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > float(grace) + 5
