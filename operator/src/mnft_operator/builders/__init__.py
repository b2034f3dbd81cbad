"""Pure builders: (parsed job, observed facts) -> complete Kubernetes objects as dicts."""
