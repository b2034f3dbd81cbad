"""mnft on the Kubernetes emulator: `mnft local` and `mnft api`, the glue between kube_emulator and the
operator."""
