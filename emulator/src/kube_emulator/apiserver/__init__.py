"""The embedded Kubernetes API server (`apiserver.EmbeddedAPI`)."""
