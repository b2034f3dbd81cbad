"""The local kubelet: registers a Node, binds unscheduled pods to it and runs them as local process groups.

It talks to the API only over HTTP (list+watch with resourceVersion resume, pods/binding, pods/status),
in its own event loop on a background thread, so the embedded API, kopf and sync clients can share a
process with it. Scheduling: local mode runs no other scheduler, so by default every unscheduled pod is
bound here whatever its `schedulerName` (a Volcano pod would otherwise stay Pending forever); pass
`scheduler_names` to bind only pods naming one of them. nodeSelector, affinity, taints and resource
capacity are not checked: this one node takes every pod. restartPolicy Always/OnFailure restart containers
in place with a short back-off (1 s doubling to 10 s); a restarted container's log is appended to.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import secrets
import threading
from collections.abc import Collection, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp

from kube_emulator.kubelet import kubelet_node as kn
from kube_emulator.kubelet.device_plugin import DevicePlugin, requested
from kube_emulator.kubelet.kubelet_client import ApiError, KubeletClient, list_and_watch
from kube_emulator.kubelet.kubelet_context import NodeContext, grace_seconds, pod_path
from kube_emulator.kubelet.kubelet_events import EventRecorder
from kube_emulator.kubelet.kubelet_pod import PodWorker
from kube_emulator.kubelet.kubelet_status import rfc3339
from kube_emulator.kubelet.pod_process import now_utc
from kube_emulator.kubelet.podnet import PodIPAllocator

log = logging.getLogger("kube_emulator.kubelet")

STOP_GRACE_CAP_SECONDS = 5.0  # stop(): pods get at most this long between SIGTERM and SIGKILL
START_TIMEOUT_SECONDS = 20.0
BIND_RETRY_SECONDS = 1.0
SCHEDULING_GATED = "SchedulingGated"


class LocalKubelet:
    def __init__(
        self,
        api_url: str,
        state_dir: Path | str,
        log_dir: Path | str,
        node_name: str = "mnft-local",
        mounts: Mapping[str, Path | str] | None = None,
        device_plugins: Sequence[DevicePlugin] = (),
        scheduler_names: Collection[str] | None = None,
        token: str | None = None,
        ca_pem: bytes | str | None = None,
    ) -> None:
        self.api_url = api_url
        self.state_dir = Path(state_dir)
        self.log_dir = Path(log_dir)
        self.node_name = node_name
        self.mounts = {k: Path(v) for k, v in (mounts or {}).items()}
        self.device_plugins = tuple(device_plugins)
        self.scheduler_names = None if scheduler_names is None else set(scheduler_names)
        # Its own pod network: two local clusters on one host never hand out the same pod IP.
        self._ips = PodIPAllocator(network=secrets.token_hex(8))
        self._workers: dict[str, PodWorker] = {}  # by pod uid
        self._by_name: dict[tuple[str, str], PodWorker] = {}
        self._pods: dict[str, dict[str, Any]] = {}  # every pod seen, by uid
        self._subdomain_pods: dict[str, dict[str, int]] = {}  # namespace -> subdomain -> pods using it
        self._hostnames: dict[tuple[str, str, str], str] = {}  # (namespace, subdomain, hostname) -> pod
        self._binding: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._stopping: asyncio.Event | None = None
        self._main_task: asyncio.Task[None] | None = None
        self._closing = False
        self._client = KubeletClient(api_url, token=token, ca_pem=ca_pem)
        self._events = EventRecorder(self._client, node_name)

    # -- sync API ---------------------------------------------------------------------------------------

    def start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._thread_main, name="local-kubelet", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_SECONDS) and self._failure is None:
            self.stop()
            raise RuntimeError(f"local kubelet: the API at {self.api_url} did not answer within 20 s")
        if self._failure is not None:
            self.stop()
            raise RuntimeError(f"local kubelet: cannot start against {self.api_url}: {self._failure}")

    def stop(self) -> None:
        """Terminate every pod process group this kubelet started, then stop its thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        shutdown = None
        if thread.is_alive() and self._stopping is not None:
            shutdown = self._shutdown()
            future = asyncio.run_coroutine_threadsafe(shutdown, loop)
            with contextlib.suppress(Exception):
                future.result(timeout=STOP_GRACE_CAP_SECONDS + 15)
        thread.join(timeout=2)
        if thread.is_alive() and self._main_task is not None:  # e.g. still waiting for a slow API
            loop.call_soon_threadsafe(self._main_task.cancel)
            thread.join(timeout=10)
        # The loop ended before it ran the shutdown (the thread was just finishing): close the coroutine
        # it never started, or Python warns that it was never awaited.
        if (
            shutdown is not None
            and not thread.is_alive()
            and inspect.getcoroutinestate(shutdown) == inspect.CORO_CREATED
        ):
            shutdown.close()
        self._loop = self._thread = None

    def pod_ip(self, namespace: str, name: str) -> str:
        """The loopback IP pod (namespace, name) has or will get."""
        return self._ips.ip_for(namespace, name)

    # -- event loop -------------------------------------------------------------------------------------

    def _thread_main(self) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        try:
            self._main_task = self._loop.create_task(self._main())
            self._loop.run_until_complete(self._main_task)
        except BaseException as exc:
            self._failure = exc
            self._ready.set()
        finally:
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    async def _main(self) -> None:
        self._stopping = asyncio.Event()
        await self._client.open()
        try:
            await self._register_node()
            pods_listed, cms_listed = asyncio.Event(), asyncio.Event()
            watches = [
                asyncio.create_task(
                    list_and_watch(
                        self._client, "/api/v1/pods", self._on_pod_list, self._on_pod_event, pods_listed
                    )
                ),
                asyncio.create_task(
                    list_and_watch(
                        self._client,
                        "/api/v1/configmaps",
                        self._volume_list("configMap"),
                        self._volume_event("configMap"),
                        cms_listed,
                    )
                ),
                asyncio.create_task(
                    list_and_watch(
                        self._client,
                        "/api/v1/secrets",
                        self._volume_list("secret"),
                        self._volume_event("secret"),
                    )
                ),
            ]
            await asyncio.wait_for(
                asyncio.gather(pods_listed.wait(), cms_listed.wait()), START_TIMEOUT_SECONDS
            )
            self._ready.set()
            await self._stopping.wait()
            for task in watches:
                task.cancel()
            await asyncio.gather(*watches, return_exceptions=True)
        finally:
            await self._client.close()

    async def _shutdown(self) -> None:
        self._closing = True  # no new pods from here on
        workers = list(self._workers.values())
        await asyncio.gather(
            *(w.stop(min(grace_seconds(w.pod), STOP_GRACE_CAP_SECONDS)) for w in workers),
            return_exceptions=True,
        )
        assert self._stopping is not None
        self._stopping.set()

    async def _register_node(self) -> None:
        capacity = kn.node_capacity(
            os.cpu_count() or 1, kn.memory_kib(), {p.resource: p.capacity for p in self.device_plugins}
        )
        try:
            await self._client.request("POST", "/api/v1/nodes", kn.node_object(self.node_name))
        except ApiError as exc:
            if exc.status != 409:
                raise
        await self._client.merge_patch(
            f"/api/v1/nodes/{self.node_name}/status", {"status": kn.node_status(capacity, now_utc())}
        )

    # -- pods -------------------------------------------------------------------------------------------

    def _context(self) -> NodeContext:
        return NodeContext(
            client=self._client,
            node_name=self.node_name,
            host_ip=kn.NODE_IP,
            state_dir=self.state_dir,
            log_dir=self.log_dir,
            mounts=self.mounts,
            ip_for=self._ips.ip_for,
            dns_ip=self._dns_ip,
            subdomains=self._subdomains,
            events=self._events,
        )

    def _subdomains(self, namespace: str) -> set[str]:
        return set(self._subdomain_pods.get(namespace, {}))

    def _dns_ip(self, namespace: str, hostname: str, subdomain: str) -> str:
        """`<hostname>.<subdomain>` names the pod with that spec.hostname and spec.subdomain (its name when
        no such pod is known yet: pods without spec.hostname are named by their name)."""
        name = self._hostnames.get((namespace, subdomain, hostname), hostname)
        return self._ips.ip_for(namespace, name)

    def _remember(self, uid: str, pod: dict[str, Any]) -> None:
        spec, meta = pod.get("spec") or {}, pod["metadata"]
        if uid not in self._pods and (sub := spec.get("subdomain")):
            namespace = meta.get("namespace", "default")
            counts = self._subdomain_pods.setdefault(namespace, {})
            counts[sub] = counts.get(sub, 0) + 1
            if spec.get("hostname"):
                self._hostnames[(namespace, sub, spec["hostname"])] = meta["name"]
        self._pods[uid] = pod

    def _forget(self, uid: str) -> None:
        pod = self._pods.pop(uid, None)
        if pod is not None and (sub := (pod.get("spec") or {}).get("subdomain")):
            counts = self._subdomain_pods.get(pod["metadata"].get("namespace", "default"), {})
            counts[sub] = counts.get(sub, 1) - 1
            if counts[sub] <= 0:
                del counts[sub]
            hostname = (pod.get("spec") or {}).get("hostname")
            key = (pod["metadata"].get("namespace", "default"), sub, hostname or "")
            if hostname and self._hostnames.get(key) == pod["metadata"]["name"]:
                del self._hostnames[key]

    async def _on_pod_list(self, items: list[dict[str, Any]]) -> None:
        seen = {p["metadata"].get("uid") for p in items}
        for uid in [u for u in self._pods if u not in seen]:
            await self._on_pod_event("DELETED", self._pods[uid])
        for pod in items:
            await self._on_pod_event("MODIFIED" if pod["metadata"].get("uid") in self._pods else "ADDED", pod)

    async def _on_pod_event(self, kind: str, pod: dict[str, Any]) -> None:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        uid = meta.get("uid") or f"{meta.get('namespace')}/{meta['name']}"
        worker = self._workers.get(uid)
        if kind == "DELETED":
            self._forget(uid)
            self._binding.discard(uid)
            if worker is not None:
                self._spawn(self._delete(worker, grace_seconds(pod), confirm=False))
            return
        self._remember(uid, pod)
        node = spec.get("nodeName")
        if not node:
            if spec.get("schedulingGates") and not meta.get("deletionTimestamp"):
                await self._report_gated(pod)
            if self._should_bind(pod) and uid not in self._binding:
                self._binding.add(uid)
                self._spawn(self._bind(pod))
            return
        if node != self.node_name:
            return
        if meta.get("deletionTimestamp"):
            if worker is not None:
                if not worker.deleting:
                    self._spawn(self._delete(worker, grace_seconds(pod), confirm=True))
            else:
                self._spawn(self._confirm_delete(pod))
            return
        if worker is not None:
            worker.pod = pod
            return
        phase = (pod.get("status") or {}).get("phase", "Pending")
        if phase in ("Succeeded", "Failed"):
            return
        if phase == "Running":  # a previous kubelet ran it; its processes are gone
            await self._client.merge_patch(
                pod_path(pod, "/status"),
                {
                    "status": {
                        "phase": "Failed",
                        "reason": "NodeRestarted",
                        "message": "the local kubelet restarted and the pod's processes are gone",
                    }
                },
            )
            return
        await self._start_pod(uid, pod)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _should_bind(self, pod: Mapping[str, Any]) -> bool:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        if meta.get("deletionTimestamp") or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            return False
        if spec.get("schedulingGates"):
            # Pod Scheduling Readiness: a gated pod is not scheduled until every gate is removed; the
            # watch's MODIFIED event for the removal brings it back here.
            # https://kubernetes.io/docs/concepts/scheduling-eviction/pod-scheduling-readiness/
            return False
        return (
            self.scheduler_names is None
            or spec.get("schedulerName", "default-scheduler") in self.scheduler_names
        )

    async def _report_gated(self, pod: Mapping[str, Any]) -> None:
        """What kube-scheduler reports for a gated pod: PodScheduled False, reason SchedulingGated."""
        conditions = (pod.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "PodScheduled" and c.get("reason") == SCHEDULING_GATED for c in conditions):
            return
        condition = {
            "type": "PodScheduled",
            "status": "False",
            "reason": SCHEDULING_GATED,
            "message": "Scheduling is blocked due to non-empty scheduling gates",
            "lastTransitionTime": rfc3339(now_utc()),
        }
        others = [c for c in conditions if c.get("type") != "PodScheduled"]
        with contextlib.suppress(ApiError):  # gone meanwhile: its DELETED event follows
            await self._client.merge_patch(
                pod_path(pod, "/status"), {"status": {"conditions": [*others, condition]}}
            )

    async def _bind(self, pod: Mapping[str, Any]) -> None:
        name = pod["metadata"]["name"]
        body = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": name, "namespace": pod["metadata"].get("namespace", "default")},
            "target": {"apiVersion": "v1", "kind": "Node", "name": self.node_name},
        }
        uid = pod["metadata"].get("uid", "")
        namespace = pod["metadata"].get("namespace", "default")
        while uid in self._pods and not (self._pods[uid].get("spec") or {}).get("nodeName"):
            try:
                await self._client.request("POST", pod_path(pod, "/binding"), body)
                message = f"Successfully assigned {namespace}/{name} to {self.node_name}"
                self._events.record(pod, "Scheduled", message, component="default-scheduler")
                return
            except ApiError as exc:
                if exc.status in (404, 409):  # gone, or bound by someone else
                    return
                log.warning("bind %s/%s: %s; retrying", namespace, name, exc)
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                log.debug("bind %s/%s: %s; retrying", namespace, name, exc)
            await asyncio.sleep(BIND_RETRY_SECONDS)

    async def _start_pod(self, uid: str, pod: dict[str, Any]) -> None:
        if self._closing:
            return
        key = (pod["metadata"].get("namespace", "default"), pod["metadata"]["name"])
        await self._allocate_devices(pod)
        worker = PodWorker(self._context(), pod, before=self._by_name.get(key))
        self._workers[uid] = worker
        self._by_name[key] = worker
        worker.start()

    async def _allocate_devices(self, pod: dict[str, Any]) -> None:
        annotations: dict[str, str] = {}
        for plugin in self.device_plugins:
            count = requested(pod, plugin.resource)
            if count > 0:
                annotations.update(plugin.allocate(pod, count, kn.NODE_IP))
        if not annotations:
            return
        patched = await self._client.merge_patch(pod_path(pod), {"metadata": {"annotations": annotations}})
        if patched is not None:
            pod["metadata"] = patched.get("metadata", pod["metadata"])

    async def _delete(self, worker: PodWorker, grace: float, confirm: bool) -> None:
        await worker.delete(grace, confirm)
        self._workers.pop(worker.uid, None)
        key = (worker.namespace, worker.name)
        if self._by_name.get(key) is worker:
            del self._by_name[key]
            self._ips.release(*key)

    async def _confirm_delete(self, pod: Mapping[str, Any]) -> None:
        body: dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0}
        if pod["metadata"].get("uid"):
            body["preconditions"] = {"uid": pod["metadata"]["uid"]}
        with contextlib.suppress(ApiError):
            await self._client.request("DELETE", pod_path(pod), body)

    # -- ConfigMap / Secret volumes ----------------------------------------------------------------------

    def _volume_list(self, kind: str) -> Any:
        async def on_list(items: list[dict[str, Any]]) -> None:
            for obj in items:
                await self._volume_event(kind)("MODIFIED", obj)

        return on_list

    def _volume_event(self, kind: str) -> Any:
        async def on_event(event: str, obj: dict[str, Any]) -> None:
            meta = obj.get("metadata") or {}
            ns, name = meta.get("namespace", "default"), meta.get("name", "")
            if event == "DELETED":  # like the kubelet, keep the last content
                return
            for worker in list(self._workers.values()):
                if worker.namespace == ns:
                    worker.refresh_volume(kind, obj, name)

        return on_event
