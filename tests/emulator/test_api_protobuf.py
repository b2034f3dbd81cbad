"""The protobuf codec (pure): wire bytes written out by hand from the published field numbers, decoded to
the JSON kubectl sees; JSON encoded back; timestamps normalised as a kube-apiserver stores them."""

from __future__ import annotations

import pytest

from kube_emulator.apiserver import api_protobuf as pb


def envelope(api_version: bytes, kind: bytes, raw: bytes, go_empties: bool = True) -> bytes:
    """`k8s\\x00` + runtime.Unknown{typeMeta{apiVersion=1, kind=2}=1, raw=2, contentEncoding=3,
    contentType=4}; Go writes the two empty strings too (0x1a 0x00 0x22 0x00)."""
    type_meta = b"\x0a" + bytes([len(api_version)]) + api_version + b"\x12" + bytes([len(kind)]) + kind
    body = b"\x0a" + bytes([len(type_meta)]) + type_meta + b"\x12" + bytes([len(raw)]) + raw
    return b"k8s\x00" + body + (b"\x1a\x00\x22\x00" if go_empties else b"")


# ConfigMap{metadata=1{name=1 "a", labels=11 {"k": "v"}}, data=2 {"x": "y"}, binaryData=3 {"b": 00 01}}
CONFIGMAP_RAW = bytes.fromhex(
    "0a0b"
    "0a0161"
    "5a06"
    "0a016b"
    "120176"  # metadata: name, labels entry (key=1, value=2)
    "1206"
    "0a0178"
    "120179"  # data entry
    "1a07"
    "0a0162"
    "12020001"  # binaryData entry: bytes
)
CONFIGMAP = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "a", "labels": {"k": "v"}},
    "data": {"x": "y"},
    "binaryData": {"b": "AAE="},
}


def test_a_configmap_as_kubectl_sends_it_decodes_to_its_json() -> None:
    # `kubectl create configmap a --from-literal=x=y --from-file=b` (client-go's protobuf serializer)
    assert pb.decode(envelope(b"v1", b"ConfigMap", CONFIGMAP_RAW)) == CONFIGMAP


def test_json_encodes_to_the_same_wire_bytes() -> None:
    assert pb.encode(CONFIGMAP) == envelope(b"v1", b"ConfigMap", CONFIGMAP_RAW, go_empties=False)


def test_go_zero_values_are_dropped_but_pointer_zeros_and_int_or_string_kept() -> None:
    # DeploymentSpec{replicas=1 (*int32) 0, minReadySeconds=5 (int32) 0, paused=7 (bool) false}, as Go
    # writes them: every non-pointer field, zero or not; metadata{name "d", generateName "" (2)}.
    raw = bytes.fromhex("0a050a016412001206080028003800")
    assert pb.decode(envelope(b"apps/v1", b"Deployment", raw)) == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {"replicas": 0},
    }
    # ServiceSpec.ports=1 [ServicePort{port=3 80, targetPort=4 IntOrString{type=1 0, intVal=2 8080,
    # strVal=3 ""}}, ServicePort{port=3 443, targetPort=4 {type 1, intVal 0, strVal "https"}}]
    ports = bytes.fromhex("0a0b18502207080010903f1a000a1018bb03220b080110001a05") + b"https"
    decoded = pb.decode(envelope(b"v1", b"Service", b"\x12" + bytes([len(ports)]) + ports))
    assert decoded["spec"] == {
        "ports": [{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": "https"}]
    }


def test_times_decode_to_rfc3339_z_and_micro_time_keeps_microseconds() -> None:
    # Event{metadata=1{name "e"}, firstTimestamp=6 Time{seconds=1 1782901230}, eventTime=10 MicroTime{
    # seconds 1782901230, nanos=2 722594000}}, lastTimestamp=7 the zero time (Go sends it as {}).
    seconds = bytes.fromhex("08eed393d206")  # 1782901230 = 2026-07-01T10:20:30Z
    raw = (
        bytes.fromhex("0a030a0165")
        + b"\x32\x06"
        + seconds
        + b"\x3a\x00"
        + b"\x52\x0c"
        + seconds
        + bytes.fromhex("10d0d1c7d802")
    )
    assert pb.decode(envelope(b"v1", b"Event", raw)) == {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "e"},
        "firstTimestamp": "2026-07-01T10:20:30Z",
        "eventTime": "2026-07-01T10:20:30.722594Z",
    }


def test_fields_this_server_does_not_know_are_refused_not_dropped() -> None:
    unknown_field = b"\x0a\x03\x0a\x01\x61" + b"\xf8\x07\x01"  # field 127, varint 1
    with pytest.raises(pb.DecodeError, match=r"ConfigMap has fields unknown to this server: \[127\]"):
        pb.decode(envelope(b"v1", b"ConfigMap", unknown_field))
    with pytest.raises(pb.DecodeError, match=r"no protobuf message is known for Widget in example\.com/v1"):
        pb.decode(envelope(b"example.com/v1", b"Widget", b""))
    with pytest.raises(pb.DecodeError, match="ConfigMap cannot be decoded"):
        pb.decode(envelope(b"v1", b"ConfigMap", b"\x0a\x7f"))  # a length past the end


def test_inline_structs_and_round_trips_of_a_pod_template() -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}, "creationTimestamp": "2026-01-02T03:04:05Z"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "volumes": [{"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}}],
                    "containers": [
                        {
                            "name": "main",
                            "image": "nginx",
                            "resources": {"limits": {"cpu": "500m"}},
                            "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5},
                            "securityContext": {"runAsNonRoot": False},
                        }
                    ],
                },
            },
        },
    }
    assert pb.decode(pb.encode(deployment) or b"") == deployment


def test_normalise_times_walks_the_kind_s_time_fields() -> None:
    event = {
        "metadata": {
            "name": "e",
            "managedFields": [{"manager": "kopf", "time": "2026-07-01T10:20:30+00:00"}],
        },
        "firstTimestamp": "2026-07-01T12:20:30.9+02:00",
        "eventTime": "2026-07-01T10:20:30.5Z",
        "series": {"lastObservedTime": "2026-07-01T10:20:30Z", "count": 2},
        "message": "2026-07-01T10:20:30+00:00",  # a string field: untouched
    }
    assert pb.normalise_times("core.v1.Event", event) == {
        "metadata": {"name": "e", "managedFields": [{"manager": "kopf", "time": "2026-07-01T10:20:30Z"}]},
        "firstTimestamp": "2026-07-01T10:20:30Z",
        "eventTime": "2026-07-01T10:20:30.500000Z",
        "series": {"lastObservedTime": "2026-07-01T10:20:30.000000Z", "count": 2},
        "message": "2026-07-01T10:20:30+00:00",
    }


@pytest.mark.parametrize(
    ("accept", "protobuf"),
    [
        ("application/vnd.kubernetes.protobuf", True),
        ("application/vnd.kubernetes.protobuf, */*", False),
        ("application/vnd.kubernetes.protobuf,application/json", False),
        ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json", False),
        ("", False),
    ],
)
def test_protobuf_answers_only_when_json_is_not_acceptable(accept: str, protobuf: bool) -> None:
    assert pb.wants_protobuf(accept) is protobuf


def test_lease_micro_times_as_client_go_leader_election_writes_them() -> None:
    lease = {"spec": {"holderIdentity": "a", "renewTime": "2026-07-01T10:20:30.5+00:00"}}
    assert pb.normalise_times(pb.message_for("coordination.k8s.io/v1", "Lease"), lease) == {
        "spec": {"holderIdentity": "a", "renewTime": "2026-07-01T10:20:30.500000Z"}
    }
