"""mnft trainer: MindSpore's MobileNetV2 fine-tune recipe, run by every trainer pod and on a laptop."""
