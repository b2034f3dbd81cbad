"""How the operator authenticates: an explicit server URL, an explicit kubeconfig, or kopf's defaults.

The login handler gives the same `kopf.ConnectionInfo` to kopf (its return value) and to the operator's
own `k8s.Connection` (kopf's operator memo), with `credentials` itself as the way to log in again after
a 401 (see k8s.py).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any

import kopf

from mnft_operator.handlers.settings import MEMO_API, MEMO_CONFIG, OperatorConfig
from mnft_operator.k8s import Connection

NO_CREDENTIALS = (
    "no credentials: not in a cluster (no service account) and no kubeconfig ($KUBECONFIG or "
    "~/.kube/config); give --kubeconfig FILE or --server URL"
)


def connection_for_server(server: str) -> kopf.ConnectionInfo:
    """A plain URL, no credentials (e.g. `kubectl proxy`); the embedded API wants its kubeconfig's token."""
    return kopf.ConnectionInfo(server=server.rstrip("/"), insecure=True)


def connection_from_kubeconfig(path: str, settings: kopf.OperatorSettings) -> kopf.ConnectionInfo:
    """Load one kubeconfig file with the kubernetes client (exec plugins, certs) and hand it to kopf."""
    import kubernetes.client
    import kubernetes.config

    config = kubernetes.client.Configuration()
    try:
        kubernetes.config.load_kube_config(config_file=path, client_configuration=config)
    except Exception as e:  # YAML, structure, exec plugin, file errors: all mean "unusable file"
        first_line = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise kopf.PermanentError(f"--kubeconfig {path}: {first_line}") from None
    header = config.get_api_key_with_prefix("BearerToken") or config.get_api_key_with_prefix("authorization")
    parts = header.split(" ", 1) if header else []
    scheme, token = (
        (None, None) if not parts else (None, parts[0]) if len(parts) == 1 else (parts[0], parts[1])
    )
    return kopf.ConnectionInfo(
        server=config.host,
        ca_path=config.ssl_ca_cert,
        insecure=not config.verify_ssl,
        username=config.username or None,
        password=config.password or None,
        scheme=scheme,
        token=token,
        certificate_path=config.cert_file,
        private_key_path=config.key_file,
        trust_env=settings.networking.trust_env,
    )


def credentials(
    config: OperatorConfig, settings: kopf.OperatorSettings, logger: logging.Logger, **kwargs: Any
) -> kopf.ConnectionInfo | None:
    """The credentials `config` names, read now (a rotated token or rewritten kubeconfig is read afresh)."""
    if config.server:
        return connection_for_server(config.server)
    if config.kubeconfig:
        return connection_from_kubeconfig(config.kubeconfig, settings)
    # In-cluster service account first, then $KUBECONFIG / ~/.kube/config, through the kubernetes client.
    # Neither existing will not change by retrying: fail at once with one line.
    try:
        info: kopf.ConnectionInfo | None = kopf.login_via_client(settings=settings, logger=logger, **kwargs)
    except kopf.LoginError:
        raise kopf.PermanentError(NO_CREDENTIALS) from None
    return info


def login(
    *, memo: Mapping[str, Any], settings: kopf.OperatorSettings, logger: logging.Logger, **kwargs: Any
) -> kopf.ConnectionInfo | None:
    config: OperatorConfig = memo[MEMO_CONFIG]
    info = credentials(config, settings, logger, **kwargs)
    connection: Connection | None = memo.get(MEMO_API)
    if connection is not None:
        connection.use(info, settings, functools.partial(credentials, config, settings, logger))
    return info
