"""The local kubelet (`kubelet.LocalKubelet`): pods as local process groups."""
