"""The MobileNetFineTune CustomResourceDefinition as a Python dict: the single source of truth.

The Helm chart, `manifests/` and the README field reference are generated from `crd()`, and
`mnft_operator.spec` validates and defaults a resource by walking the same schema, so the cluster and the
operator agree. The `spec` schema is in `crd_spec`, the `status` schema in `crd_status`.
"""

from __future__ import annotations

from typing import Any

from mnft_operator import GROUP as GROUP
from mnft_operator import KIND as KIND
from mnft_operator import PLURAL as PLURAL
from mnft_operator import VERSION as VERSION
from mnft_operator.crd_spec import HYPERPARAMETERS as HYPERPARAMETERS
from mnft_operator.crd_spec import MAX_WORKERS as MAX_WORKERS
from mnft_operator.crd_spec import SHA256_PATTERN as SHA256_PATTERN
from mnft_operator.crd_spec import spec_schema
from mnft_operator.crd_status import status_schema
from mnft_operator.openapi import rule

SINGULAR = "mobilenetfinetune"
SHORT_NAME = "mft"
API_VERSION = f"{GROUP}/{VERSION}"

# Pod names are `<job>-worker-<i>` and double as hostnames (63 characters at most); workers <= MAX_WORKERS
# (4096) means at most 4 index digits, so 63 - len("-worker-") - 4 = 51.
MAX_NAME_LENGTH = 51
NAME_PATTERN = "^[a-z]([-a-z0-9]*[a-z0-9])?$"


def crd() -> dict[str, Any]:
    """The CustomResourceDefinition (apiextensions.k8s.io/v1) as a fresh dict."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{PLURAL}.{GROUP}",
            "labels": {"app.kubernetes.io/name": "mnft-operator", "app.kubernetes.io/part-of": "mnft"},
        },
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": KIND,
                "listKind": f"{KIND}List",
                "plural": PLURAL,
                "singular": SINGULAR,
                "shortNames": [SHORT_NAME],
                "categories": ["all", "mindspore", "training"],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [
                        {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
                        {"name": "Platform", "type": "string", "jsonPath": ".spec.platform"},
                        {"name": "Workers", "type": "string", "jsonPath": ".status.workersReady"},
                        {"name": "Restarts", "type": "integer", "jsonPath": ".status.restarts"},
                        {"name": "Epoch", "type": "integer", "jsonPath": ".status.progress.epoch"},
                        {
                            "name": "Images/s",
                            "type": "number",
                            "jsonPath": ".status.progress.imagesPerSecond",
                        },
                        {"name": "ETA(s)", "type": "integer", "jsonPath": ".status.progress.etaSeconds"},
                        {"name": "Accuracy", "type": "number", "jsonPath": ".status.result.accuracy"},
                        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                    ],
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": "A distributed MindSpore MobileNetV2 fine-tuning job.",
                            "required": ["spec"],
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "spec": spec_schema(),
                                "status": status_schema(),
                            },
                            # No fieldPath: an API server resolves fieldPath through the schema, which
                            # cannot describe metadata; the messages name the field instead.
                            "x-kubernetes-validations": [
                                rule(
                                    f"size(self.metadata.name) <= {MAX_NAME_LENGTH}",
                                    f"metadata.name must be at most {MAX_NAME_LENGTH} characters (pod "
                                    "hostnames are <name>-worker-<i>)",
                                ),
                                rule(
                                    f"self.metadata.name.matches('{NAME_PATTERN}')",
                                    "metadata.name must be a DNS-1035 label (lowercase letters, digits, '-', "
                                    "starting with a letter): it names the job's Service",
                                ),
                            ],
                        }
                    },
                }
            ],
        },
    }
