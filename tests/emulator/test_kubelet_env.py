import base64

import pytest

from kube_emulator.kubelet.pod_env import EnvError, expand, referenced_objects, resolve_env

POD = {
    "metadata": {
        "name": "job-worker-1",
        "namespace": "team",
        "uid": "u-1",
        "labels": {"finetune.mindspore.io/replica-index": "1"},
        "annotations": {"a/b": "c"},
    },
    "spec": {"nodeName": "mnft-local"},
}


def test_resolve_env_every_source_in_kubernetes_order():
    container = {
        "name": "trainer",
        "resources": {"limits": {"cpu": "2"}},
        "envFrom": [{"configMapRef": {"name": "base"}}, {"secretRef": {"name": "creds"}, "prefix": "S_"}],
        "env": [
            {"name": "PLAIN", "value": "v"},
            {"name": "FROM_BASE", "value": "override"},
            {"name": "EXPANDED", "value": "$(PLAIN)-$(MISSING)-$$(PLAIN)"},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "UID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.uid"}}},
            {
                "name": "INDEX",
                "valueFrom": {
                    "fieldRef": {"fieldPath": "metadata.labels['finetune.mindspore.io/replica-index']"}
                },
            },
            {"name": "ANN", "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['a/b']"}}},
            {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "HOST", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
            {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
            {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
            {"name": "LR", "valueFrom": {"configMapKeyRef": {"name": "base", "key": "lr"}}},
            {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "pw"}}},
            {"name": "OPT", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k", "optional": True}}},
        ],
    }
    configmaps = {"base": {"data": {"FROM_BASE": "base", "lr": "0.01"}}, "nope": None}
    secrets = {"creds": {"data": {"pw": base64.b64encode(b"hunter2").decode()}}}
    assert resolve_env(container, POD, configmaps, secrets, "127.1.2.3", "127.0.0.1") == {
        "FROM_BASE": "override",
        "lr": "0.01",
        "S_pw": "hunter2",
        "PLAIN": "v",
        "EXPANDED": "v-$(MISSING)-$(PLAIN)",
        "POD": "job-worker-1",
        "NS": "team",
        "UID": "u-1",
        "INDEX": "1",
        "ANN": "c",
        "IP": "127.1.2.3",
        "HOST": "127.0.0.1",
        "NODE": "mnft-local",
        "CPU": "2",
        "LR": "0.01",
        "PW": "hunter2",
    }


def test_missing_references_name_what_is_missing():
    def env_of(var):
        return resolve_env({"env": [var]}, POD, {"cm": {"data": {}}}, {}, "ip", "host")

    with pytest.raises(EnvError, match="env X: configMap 'other' not found"):
        env_of({"name": "X", "valueFrom": {"configMapKeyRef": {"name": "other", "key": "k"}}})
    with pytest.raises(EnvError, match="env X: key 'k' not found in configMap 'cm'"):
        env_of({"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}})
    with pytest.raises(EnvError, match=r"unsupported fieldRef\.fieldPath 'spec\.bogus'"):
        env_of({"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "spec.bogus"}}})
    with pytest.raises(EnvError, match=r"envFrom\[0\]: secret 's' not found"):
        resolve_env({"envFrom": [{"secretRef": {"name": "s"}}]}, POD, {}, {}, "ip", "host")


def test_expand():
    assert expand("$(A)/$(B)/$$(A)/$(C", {"A": "1", "B": "2"}) == "1/2/$(A)/$(C"


def test_referenced_objects():
    pod = {
        "spec": {
            "initContainers": [{"envFrom": [{"configMapRef": {"name": "i"}}]}],
            "containers": [
                {"env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]},
            ],
            "volumes": [
                {"name": "v", "configMap": {"name": "vol"}},
                {"name": "t", "secret": {"secretName": "t"}},
            ],
        }
    }
    assert referenced_objects(pod) == ({"i", "vol"}, {"s", "t"})
