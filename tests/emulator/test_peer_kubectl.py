"""Peer clients, kubectl 1.35: its typed commands send protobuf bodies for built-in kinds (over real HTTPS
against the embedded API), and `kubectl get events` reads the timestamps kopf posts.

Each test names the command (or the kopf behaviour) it mirrors.
"""

from __future__ import annotations

import base64
import json

from api_helpers import Http
from kube_emulator.apiserver import api_protobuf

pytest_plugins = ["api_fixtures"]


def get(kubectl, *args: str) -> dict:
    return json.loads(kubectl("get", *args, "-o", "json").stdout)


def test_kopf_event_timestamps_are_stored_as_rfc3339_z_and_kubectl_get_events_works(
    kubectl, http: Http, ns: str
) -> None:
    # kopf's event poster (kopf.info/warn/event) sends Python isoformat times with +00:00 and microseconds.
    event = {
        "metadata": {"generateName": "box-"},
        "involvedObject": {"kind": "Box", "name": "b1", "namespace": ns, "apiVersion": "kopf.dev/v1"},
        "reason": "Logging",
        "message": "Handler 'create' succeeded.",
        "type": "Normal",
        "source": {"component": "kopf"},
        "firstTimestamp": "2026-07-01T10:20:30.722594+00:00",
        "lastTimestamp": "2026-07-01T12:20:30.5+02:00",
        "eventTime": "2026-07-01T10:20:30.722594+00:00",
        "reportingComponent": "kopf",
        "reportingInstance": "dev",
        "action": "Action",
    }
    created = http.post(f"/api/v1/namespaces/{ns}/events", event)
    assert created.status_code == 201, created.text
    stored = created.json()
    assert (stored["firstTimestamp"], stored["lastTimestamp"], stored["eventTime"]) == (
        "2026-07-01T10:20:30Z",
        "2026-07-01T10:20:30Z",
        "2026-07-01T10:20:30.722594Z",
    )
    header, row = kubectl("get", "events", "-n", ns).stdout.splitlines()
    assert header.split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert row.split()[1:4] == ["Normal", "Logging", "box/b1"]
    bad = http.post(f"/api/v1/namespaces/{ns}/events", {**event, "lastTimestamp": "yesterday"})
    assert bad.status_code == 400
    assert bad.json()["message"] == (
        'Event in version "v1" cannot be handled as a Event: parsing time "yesterday" as '
        '"2006-01-02T15:04:05Z07:00": cannot parse'
    )


def test_kubectl_create_namespace_configmap_and_secret(kubectl) -> None:
    # `kubectl create namespace|configmap|secret generic`: protobuf request bodies (client-go's typed client).
    assert kubectl("create", "namespace", "peer-x").stdout.strip() == "namespace/peer-x created"
    assert get(kubectl, "namespace", "peer-x")["status"] == {"phase": "Active"}
    created = kubectl(
        "create", "configmap", "settings", "-n", "peer-x", "--from-literal=mode=fast", "--from-literal=n=3"
    )
    assert created.stdout.strip() == "configmap/settings created"
    assert get(kubectl, "configmap", "settings", "-n", "peer-x")["data"] == {"mode": "fast", "n": "3"}
    kubectl("create", "secret", "generic", "token", "-n", "peer-x", "--from-literal=key=s3cr=t")
    secret = get(kubectl, "secret", "token", "-n", "peer-x")
    assert (secret["type"], secret["data"]) == ("Opaque", {"key": base64.b64encode(b"s3cr=t").decode()})
    again = kubectl("create", "namespace", "peer-x", ok=False)
    assert again.stderr.strip() == 'Error from server (AlreadyExists): namespaces "peer-x" already exists'


def test_kubectl_create_workloads_service_and_rbac(kubectl) -> None:
    # `kubectl create serviceaccount|deployment|job|service|role|rolebinding`, all protobuf.
    kubectl("create", "namespace", "peer-w")
    kubectl("create", "serviceaccount", "runner", "-n", "peer-w")
    kubectl("create", "deployment", "web", "-n", "peer-w", "--image=nginx:1", "--replicas=0", "--port=80")
    deployment = get(kubectl, "deployment", "web", "-n", "peer-w")["spec"]
    assert deployment["replicas"] == 0  # a pointer field: zero is kept, not defaulted to 1
    assert deployment["selector"] == {"matchLabels": {"app": "web"}}
    container = deployment["template"]["spec"]["containers"][0]
    assert (container["name"], container["image"], container["ports"]) == (
        "nginx",
        "nginx:1",
        [{"containerPort": 80}],
    )
    kubectl("create", "job", "once", "-n", "peer-w", "--image=busybox", "--", "echo", "hi")
    job = get(kubectl, "job", "once", "-n", "peer-w")["spec"]["template"]["spec"]
    assert (job["containers"][0]["command"], job["restartPolicy"]) == (["echo", "hi"], "Never")
    kubectl("create", "service", "clusterip", "web", "-n", "peer-w", "--tcp=80:8080")
    port = get(kubectl, "service", "web", "-n", "peer-w")["spec"]["ports"][0]
    assert (port["port"], port["targetPort"], port["protocol"]) == (80, 8080, "TCP")
    kubectl("create", "role", "reader", "-n", "peer-w", "--verb=get,list", "--resource=pods,configmaps")
    assert get(kubectl, "role", "reader", "-n", "peer-w")["rules"] == [
        {"apiGroups": [""], "resources": ["pods", "configmaps"], "verbs": ["get", "list"]}
    ]
    kubectl(
        "create", "rolebinding", "read", "-n", "peer-w", "--role=reader", "--serviceaccount=peer-w:runner"
    )
    binding = get(kubectl, "rolebinding", "read", "-n", "peer-w")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "runner", "namespace": "peer-w"}]


def test_kubectl_auth_can_i(kubectl) -> None:
    # `kubectl auth can-i` (SelfSubjectAccessReview) and `--list` (SelfSubjectRulesReview): the token's
    # holder is the cluster's administrator, allowed everything.
    assert kubectl("auth", "can-i", "create", "pods").stdout.strip() == "yes"
    assert kubectl("auth", "can-i", "delete", "nodes", "--all-namespaces").stdout.strip() == "yes"
    rules = kubectl("auth", "can-i", "--list", "-n", "default").stdout.splitlines()
    assert rules[0].split() == ["Resources", "Non-Resource", "URLs", "Resource", "Names", "Verbs"]
    assert rules[1].split() == ["*.*", "[]", "[]", "[*]"]
    # `kubectl auth whoami` (SelfSubjectReview)
    assert kubectl("auth", "whoami").stdout.split() == [
        "ATTRIBUTE",
        "VALUE",
        "Username",
        "kube-emulator:admin",
        "Groups",
        "[system:masters",
        "system:authenticated]",
    ]


def test_kubectl_apply_server_side_owns_fields_conflicts_and_removes_what_it_drops(kubectl, ns: str) -> None:
    # `kubectl create configmap` (manager kubectl-create) then `kubectl apply --server-side` (kubectl)
    kubectl("create", "configmap", "owned", "-n", ns, "--from-literal=a=1")
    manifest = (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: owned, namespace: {ns}}}\n"
        "data: {a: '2', b: '3'}\n"
    )
    clash = kubectl("apply", "--server-side", "-f", "-", stdin=manifest, ok=False)
    assert clash.returncode == 1
    assert 'conflict with "kubectl-create" using v1: .data.a' in clash.stderr
    assert get(kubectl, "configmap", "owned", "-n", ns)["data"] == {"a": "1"}
    kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", stdin=manifest)
    applied = json.loads(
        kubectl("get", "configmap", "owned", "-n", ns, "-o", "json", "--show-managed-fields").stdout
    )
    assert applied["data"] == {"a": "2", "b": "3"}
    assert [(m["manager"], m["operation"], m["fieldsV1"]) for m in applied["metadata"]["managedFields"]] == [
        ("kubectl", "Apply", {"f:data": {"f:a": {}, "f:b": {}}})
    ]
    kubectl("apply", "--server-side", "-f", "-", stdin=manifest.replace(", b: '3'", ""))
    assert get(kubectl, "configmap", "owned", "-n", ns)["data"] == {"a": "2"}


SCALABLE_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: crews.peer.test}
spec:
  group: peer.test
  scope: Namespaced
  names: {plural: crews, singular: crew, kind: Crew}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.size, statusReplicasPath: .status.size, labelSelectorPath: .status.sel}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
          status: {type: object, properties: {size: {type: integer}, sel: {type: string}}}
"""


def test_kubectl_scale_deployment_and_custom_resource(kubectl, http: Http, ns: str) -> None:
    # `kubectl scale deployment/web --replicas=3` and `kubectl scale crew/c1 --replicas=4` (scale subresource)
    kubectl("create", "deployment", "web", "-n", ns, "--image=nginx", "--replicas=1")
    assert kubectl("scale", "deployment/web", "-n", ns, "--replicas=3").stdout.strip() == (
        "deployment.apps/web scaled"
    )
    assert get(kubectl, "deployment", "web", "-n", ns)["spec"]["replicas"] == 3
    scale = http.get(f"/apis/apps/v1/namespaces/{ns}/deployments/web/scale").json()
    assert (scale["kind"], scale["apiVersion"], scale["spec"], scale["status"]) == (
        "Scale",
        "autoscaling/v1",
        {"replicas": 3},
        {"replicas": 0, "selector": "app=web"},
    )
    stale = {**scale, "metadata": {**scale["metadata"], "resourceVersion": "1"}, "spec": {"replicas": 5}}
    assert http.put(f"/apis/apps/v1/namespaces/{ns}/deployments/web/scale", stale).status_code == 409
    negative = http.patch(f"/apis/apps/v1/namespaces/{ns}/deployments/web/scale", {"spec": {"replicas": -1}})
    assert negative.status_code == 422
    kubectl("apply", "-f", "-", stdin=SCALABLE_CRD)
    kubectl("wait", "--for=condition=Established", "crd/crews.peer.test", "--timeout=20s")
    crew = (
        f"apiVersion: peer.test/v1\nkind: Crew\nmetadata: {{name: c1, namespace: {ns}}}\nspec: {{size: 1}}\n"
    )
    kubectl("apply", "-f", "-", stdin=crew)
    http.patch(
        f"/apis/peer.test/v1/namespaces/{ns}/crews/c1/status", {"status": {"size": 1, "sel": "crew=c1"}}
    )
    kubectl("scale", "crew/c1", "-n", ns, "--replicas=4")
    assert get(kubectl, "crew", "c1", "-n", ns)["spec"] == {"size": 4}
    crew_scale = http.get(f"/apis/peer.test/v1/namespaces/{ns}/crews/c1/scale").json()
    assert (crew_scale["spec"], crew_scale["status"]) == (
        {"replicas": 4},
        {"replicas": 1, "selector": "crew=c1"},
    )


def test_answers_in_protobuf_when_the_client_accepts_nothing_else(http: Http, ns: str) -> None:
    # client-go with AcceptContentTypes "application/vnd.kubernetes.protobuf" (the control plane's own
    # clients): objects, lists and error Statuses come back as k8s\x00 envelopes; JSON when JSON is
    # acceptable.
    http.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "pb"}, "data": {"k": "v"}})
    only = {"Accept": "application/vnd.kubernetes.protobuf"}
    url = f"{http.url}/api/v1/namespaces/{ns}/configmaps"
    one = http.session.get(f"{url}/pb", headers=only, timeout=10)
    assert one.headers["Content-Type"] == "application/vnd.kubernetes.protobuf"
    decoded = api_protobuf.decode(one.content)
    assert (decoded["kind"], decoded["metadata"]["name"], decoded["data"]) == ("ConfigMap", "pb", {"k": "v"})
    listed = api_protobuf.decode(http.session.get(url, headers=only, timeout=10).content)
    assert listed["kind"] == "ConfigMapList" and [i["metadata"]["name"] for i in listed["items"]] == ["pb"]
    missing = http.session.get(f"{url}/nope", headers=only, timeout=10)
    status = api_protobuf.decode(missing.content)
    assert (missing.status_code, status["kind"], status["reason"], status["code"]) == (
        404,
        "Status",
        "NotFound",
        404,
    )
    both = {"Accept": "application/vnd.kubernetes.protobuf, application/json"}
    assert http.session.get(f"{url}/pb", headers=both, timeout=10).json()["data"] == {"k": "v"}


def test_a_protobuf_only_watch_streams_length_delimited_watch_events(http: Http, ns: str) -> None:
    # client-go informers of protobuf-only clients: `application/vnd.kubernetes.protobuf;stream=watch`, each
    # frame a 4-byte big-endian length and a raw metav1.WatchEvent{type=1, object=2 RawExtension{raw=1}}
    # whose raw is the k8s\x00-enveloped object.
    http.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "w"}, "data": {"k": "v"}})
    response = http.session.get(
        f"{http.url}/api/v1/namespaces/{ns}/configmaps",
        params={
            "watch": "true",
            "timeoutSeconds": "1",
            "allowWatchBookmarks": "true",
            "sendInitialEvents": "true",
        },
        headers={"Accept": "application/vnd.kubernetes.protobuf"},
        timeout=15,
    )
    assert response.headers["Content-Type"] == "application/vnd.kubernetes.protobuf;stream=watch"
    data, events = response.content, []
    while data:
        length = int.from_bytes(data[:4], "big")
        frame, data = data[4 : 4 + length], data[4 + length :]
        assert len(frame) == length
        type_length = frame[1]
        assert frame[0] == 0x0A and frame[2 + type_length] == 0x12  # field 1 (type), then field 2 (object)
        event = api_protobuf.message_class("meta.v1.WatchEvent").FromString(frame)
        event_type, raw = event.type, event.object.raw
        assert frame[2 : 2 + type_length].decode() == event_type
        assert raw.startswith(b"k8s\x00")
        events.append((event_type, api_protobuf.decode(raw)))
    assert [(t, o["kind"], o["metadata"].get("name")) for t, o in events] == [
        ("ADDED", "ConfigMap", "w"),
        ("BOOKMARK", "ConfigMap", None),
    ]
    assert events[0][1]["data"] == {"k": "v"}
    assert events[1][1]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
