"""mnft operator: the MobileNetFineTune custom resource, its builders, reconciler and local mode."""

GROUP = "finetune.mindspore.io"
VERSION = "v1alpha1"
KIND = "MobileNetFineTune"
PLURAL = "mobilenetfinetunes"
