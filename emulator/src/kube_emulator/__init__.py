"""A Kubernetes emulator for tests and local runs: `apiserver` (an API server on loopback modelled on the
documented behaviour of kube-apiserver) and `kubelet` (a node that runs pods as local process groups).
It knows nothing of mnft: product-specific parts (device plugins, CRDs) are passed in by its callers."""
