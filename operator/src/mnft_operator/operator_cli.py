"""`mnft operator`: run the kopf operator; also `run_operator` / `run_operator_in_thread` for embedding.

One active instance: by default the operator is standalone (deploy one replica, `strategy: Recreate`).
With `--peering NAME` kopf's peering is mandatory: instances see each other through the KopfPeering
(`--namespace`) or ClusterKopfPeering (all namespaces) object NAME, and only the highest `--priority`
instance handles resources; the others pause until it disappears.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from mnft_operator.handlers.settings import MEMO_API, MEMO_CONFIG, OperatorConfig
from mnft_operator.metrics import MetricsServer

log = logging.getLogger("mnft.operator")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mnft operator", description="Run the MobileNetFineTune operator (kopf)."
    )
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument(
        "--namespace",
        "-n",
        action="append",
        default=[],
        metavar="NS",
        help="watch this namespace (repeatable)",
    )
    scope.add_argument(
        "--all-namespaces", "-A", action="store_true", help="watch all namespaces (the default)"
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=8081,
        metavar="PORT",
        help="serve Prometheus metrics at http://0.0.0.0:PORT/metrics (0: off; default 8081)",
    )
    parser.add_argument(
        "--liveness", metavar="URL", help="serve kopf's liveness probe, e.g. http://0.0.0.0:8080/healthz"
    )
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument(
        "--kubeconfig", metavar="FILE", help="kubeconfig file (default: in-cluster, then $KUBECONFIG)"
    )
    auth.add_argument("--server", metavar="URL", help="API server URL, no credentials (e.g. kubectl proxy's)")
    peering = parser.add_mutually_exclusive_group()
    peering.add_argument("--peering", metavar="NAME", help="kopf peering object NAME: one active instance")
    peering.add_argument(
        "--standalone", action="store_true", help="no peering (the default): run one replica"
    )
    parser.add_argument("--priority", type=int, default=0, help="peering priority (highest active wins)")
    parser.add_argument(
        "--parallel-requests", type=int, default=16, metavar="N", help="concurrent creates/deletes"
    )
    parser.add_argument(
        "--progress-seconds", type=float, default=10.0, help="re-read rank 0's log this often"
    )
    parser.add_argument(
        "--allow-host-path",
        action="store_true",
        help="accept hostPath volume sources in job specs (off: such a job fails with InvalidSpec)",
    )
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser


def config_from_args(args: argparse.Namespace) -> OperatorConfig:
    """The OperatorConfig for parsed arguments; ValueError names a bad option."""
    if args.kubeconfig and not os.path.isfile(args.kubeconfig):
        raise ValueError(f"--kubeconfig {args.kubeconfig}: no such file")
    if args.server and not args.server.startswith(("http://", "https://")):
        raise ValueError(f"--server {args.server}: give a URL such as http://127.0.0.1:6443")
    if args.parallel_requests < 1:
        raise ValueError("--parallel-requests must be at least 1")
    if args.progress_seconds <= 0:
        raise ValueError("--progress-seconds must be positive")
    if not 0 <= args.metrics_port <= 65535:
        raise ValueError(f"--metrics-port {args.metrics_port}: give a TCP port (1-65535) or 0 for none")
    return OperatorConfig(
        server=args.server,
        kubeconfig=args.kubeconfig,
        namespaces=tuple(dict.fromkeys(args.namespace)),
        peering=args.peering,
        priority=args.priority,
        liveness=args.liveness,
        metrics_port=args.metrics_port,
        parallel_requests=args.parallel_requests,
        progress_seconds=args.progress_seconds,
        allow_host_path=args.allow_host_path,
    )


async def run_operator(config: OperatorConfig, *, stop_flag: Any = None, ready_flag: Any = None) -> None:
    """Run the operator in the current event loop until stop_flag is set (or the task is cancelled)."""
    import kopf

    from mnft_operator import main as wiring
    from mnft_operator.k8s import Connection

    asyncio.get_running_loop().set_exception_handler(quiet_watch_shutdown)
    memo = kopf.Memo()
    memo[MEMO_CONFIG] = config
    connection = memo[MEMO_API] = Connection()  # the login handler gives it kopf's credentials
    metrics_server = MetricsServer(config.metrics_port)
    try:
        await kopf.operator(
            registry=wiring.registry,
            memo=memo,
            clusterwide=not config.namespaces,
            namespaces=list(config.namespaces),
            standalone=config.peering is None,
            peering_name=config.peering,
            priority=config.priority,
            liveness_endpoint=config.liveness,
            stop_flag=stop_flag,
            ready_flag=ready_flag,
        )
    finally:
        metrics_server.close()
        await connection.close()


def quiet_watch_shutdown(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Stopping kopf while a watch stream is mid-read leaves its async generator to the loop's
    shutdown, which then reports "generator didn't stop after athrow()" with a traceback: harmless
    (the stream is closed either way), so it goes to the debug log; everything else as usual."""
    if str(context.get("message", "")).startswith(
        "an error occurred during closing of asynchronous generator"
    ):
        log.debug(f"closing a watch stream at shutdown: {context.get('exception')!r}")
        return
    loop.default_exception_handler(context)


@dataclass
class OperatorHandle:
    """An operator running in a background thread with its own event loop."""

    thread: threading.Thread
    stop_flag: threading.Event
    ready_flag: threading.Event
    errors: list[BaseException] = field(default_factory=list)

    def wait_ready(self, timeout: float = 30.0) -> bool:
        return self.ready_flag.wait(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """Ask kopf to stop (daemons get `stopped`), wait for the thread; raise if it crashed."""
        self.stop_flag.set()
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise TimeoutError(f"the operator did not stop within {timeout:g} s")
        if self.errors:
            raise RuntimeError(f"the operator crashed: {self.errors[0]!r}") from self.errors[0]

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()


def run_operator_in_thread(
    api_url: str | None = None,
    namespaces: Sequence[str] = (),
    *,
    ready_timeout: float = 30.0,
    **overrides: Any,
) -> OperatorHandle:
    """Start the operator against `api_url` in a daemon thread; returns once kopf is ready.

    `overrides` are OperatorConfig fields (e.g. server=URL instead of api_url, progress_seconds=1.0).
    """
    config = replace(OperatorConfig(server=api_url, namespaces=tuple(namespaces)), **overrides)
    if not config.server and not config.kubeconfig:
        raise ValueError("run_operator_in_thread: give api_url (or server=URL or kubeconfig=FILE)")
    stop_flag, ready_flag = threading.Event(), threading.Event()
    handle = OperatorHandle(thread=threading.Thread(), stop_flag=stop_flag, ready_flag=ready_flag)

    def target() -> None:
        try:
            asyncio.run(run_operator(config, stop_flag=stop_flag, ready_flag=ready_flag))
        except BaseException as e:  # reported by stop(); a thread has nobody else to tell
            handle.errors.append(e)
            ready_flag.set()

    handle.thread = threading.Thread(target=target, name="mnft-operator", daemon=True)
    handle.thread.start()
    if not ready_flag.wait(ready_timeout):
        handle.stop_flag.set()
        raise TimeoutError(f"the operator was not ready within {ready_timeout:g} s")
    if handle.errors:
        raise RuntimeError(f"the operator failed to start: {handle.errors[0]!r}") from handle.errors[0]
    return handle


def credentials_problem(config: OperatorConfig) -> str | None:
    """Why the operator could not log in (one line), checked before kopf starts; None when it can."""
    if config.server:
        return None
    import kubernetes.client
    import kubernetes.config

    from mnft_operator.handlers.login import NO_CREDENTIALS

    if config.kubeconfig:
        try:
            kubernetes.config.load_kube_config(
                config_file=config.kubeconfig, client_configuration=kubernetes.client.Configuration()
            )
        except Exception as e:  # YAML, structure, exec plugin, file errors: all mean "unusable file"
            first_line = (str(e).strip().splitlines() or [type(e).__name__])[0]
            return f"--kubeconfig {config.kubeconfig}: {first_line}"
        return None
    for load in (kubernetes.config.load_incluster_config, kubernetes.config.load_kube_config):
        try:
            load(client_configuration=kubernetes.client.Configuration())
        except Exception:  # not in a cluster / no usable default kubeconfig: try the next source
            continue
        return None
    return NO_CREDENTIALS


def main(argv: Sequence[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(list(argv))
    try:
        config = config_from_args(args)
    except ValueError as e:
        print(f"mnft operator: {e}", file=sys.stderr)
        return 2
    problem = credentials_problem(config)
    if problem:
        print(f"mnft operator: {problem}", file=sys.stderr)
        return 2
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s [%(name)s] %(message)s")
    if args.log_level != "DEBUG":
        # One INFO line per handled pod event ("Handler 'pod_event' succeeded") and per liveness probe
        # would drown everything else; the job transitions are Kubernetes Events anyway.
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    scope = ", ".join(config.namespaces) if config.namespaces else "all namespaces"
    log.info(f"watching {scope}; {'peering ' + config.peering if config.peering else 'standalone'}")
    if config.allow_host_path:
        log.warning("--allow-host-path: jobs may mount any directory of the node they run on")
    try:
        asyncio.run(run_operator(config))
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        print(f"mnft operator: stopped: {e}", file=sys.stderr)
        return 1
    return 0
