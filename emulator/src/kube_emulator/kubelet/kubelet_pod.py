"""One pod on the local kubelet: prepare its volumes and env, run init containers in order, then its
containers concurrently, report status like a kubelet, and stop it on deletion."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

from kube_emulator.kubelet import kubelet_status as ks
from kube_emulator.kubelet.kubelet_client import ApiError
from kube_emulator.kubelet.kubelet_context import NodeContext, pod_path, venv_bin
from kube_emulator.kubelet.pod_env import EnvError, expand, referenced_objects, resolve_env
from kube_emulator.kubelet.pod_process import ContainerProcess, StartError, now_utc
from kube_emulator.kubelet.pod_volumes import (
    HostVolume,
    PathMapping,
    VolumeError,
    container_dir,
    container_mappings,
    host_volumes,
    host_working_dir,
    pod_dir,
    project_volume,
    projected_source_name,
    rewrite_paths,
)
from kube_emulator.kubelet.podnet import rewrite_pod_dns

log = logging.getLogger("kube_emulator.kubelet")

CONFIG_RETRY_SECONDS = 1.0
# A status the API could not take (5xx, 429, no connection) is sent again after 0.5 s, 1 s, ... 10 s: the
# kubelet's status manager likewise resyncs every pod's status until the API has it.
STATUS_RETRY_SECONDS = 0.5
STATUS_RETRY_MAX_SECONDS = 10.0
RESTART_BACKOFF_SECONDS = (1.0, 10.0)  # first and longest back-off (a real kubelet: 10 s to 5 min)


@dataclass(frozen=True)
class PodObjects:
    """The ConfigMaps and Secrets (by name; None if missing) a pod's env and volumes refer to."""

    configmaps: Mapping[str, Any]
    secrets: Mapping[str, Any]


class PodWorker:
    def __init__(self, ctx: NodeContext, pod: Mapping[str, Any], before: PodWorker | None = None) -> None:
        self.ctx = ctx
        self.pod: Mapping[str, Any] = pod
        meta = pod["metadata"]
        self.namespace, self.name, self.uid = (
            meta.get("namespace", "default"),
            meta["name"],
            meta.get("uid", ""),
        )
        spec = pod.get("spec") or {}
        self.init_specs = list(spec.get("initContainers") or [])
        self.main_specs = list(spec.get("containers") or [])
        self.init = [ks.ContainerRecord(c["name"], c.get("image", "")) for c in self.init_specs]
        self.main = [ks.ContainerRecord(c["name"], c.get("image", "")) for c in self.main_specs]
        self.pod_ip = ctx.host_ip if spec.get("hostNetwork") else ctx.ip_for(self.namespace, self.name)
        self.start_time = now_utc()
        self.deleting = False
        self.processes: dict[str, ContainerProcess] = {}
        self.volumes: dict[str, HostVolume] = {}
        self._conditions: list[dict[str, Any]] = []
        self._phase_override: tuple[str, str, str] | None = None
        self._status_lock = asyncio.Lock()
        self._status_retry: asyncio.Task[None] | None = None
        self._before = before
        self.task: asyncio.Task[None] | None = None
        self.gone = asyncio.Event()  # set once deleted and its directories removed
        # Once the API object is gone no status is sent: a new pod of the same name must not get ours.
        self.object_gone = False
        self._last_config_error = ""

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(
            self._run(), name=f"pod {self.namespace}/{self.name}"
        )

    async def _run(self) -> None:
        if self._before is not None:  # a deleted pod of the same name: its directories go first
            await self._before.gone.wait()
            self._before = None
        try:
            await self._lifecycle()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # one pod's failure must not take the kubelet down
            log.exception("pod %s/%s", self.namespace, self.name)
            self._phase_override = ("Failed", "KubeletError", f"local kubelet: {exc}")
            with contextlib.suppress(Exception):
                await self.report()

    async def _lifecycle(self) -> None:
        for c in self.main_specs + self.init_specs:
            self._log_path(c["name"]).unlink(missing_ok=True)
        waiting_reason = "PodInitializing" if self.init_specs else "ContainerCreating"
        self.init = [r.with_state(ks.waiting("PodInitializing")) for r in self.init]
        self.main = [r.with_state(ks.waiting(waiting_reason)) for r in self.main]
        await self.report()
        objects = await self._prepare()
        if objects is None or self.deleting:
            return
        for i, spec in enumerate(self.init_specs):
            if self.deleting:
                return
            await self._run_container(spec, i, init=True, objects=objects)
            done = self.init[i].terminated
            if done is None or done["exitCode"] != 0:
                await self.report()
                return
        if self.init_specs:
            self.main = [r.with_state(ks.waiting("ContainerCreating")) for r in self.main]
        await asyncio.gather(
            *(
                self._run_container(spec, i, init=False, objects=objects)
                for i, spec in enumerate(self.main_specs)
            )
        )

    async def _prepare(self) -> PodObjects | None:
        """Volumes and the objects env needs; on a config error report it and retry, as a kubelet does."""
        while not self.deleting:
            try:
                self.volumes = host_volumes(self.pod, self.ctx.state_dir, self.ctx.mounts)
                cm_names, secret_names = referenced_objects(self.pod)
                configmaps = {n: await self._get("configmaps", n) for n in cm_names}
                secrets = {n: await self._get("secrets", n) for n in secret_names}
                for volume in self.volumes.values():
                    if not volume.host_path.exists():  # a hostPath may be a file (type File)
                        volume.host_path.mkdir(parents=True)
                    if volume.kind in ("configMap", "secret"):
                        named = configmaps if volume.kind == "configMap" else secrets
                        ref = projected_source_name(volume.kind, volume.source) or ""
                        project_volume(volume, named.get(ref))
                for spec in self.init_specs + self.main_specs:  # env errors surface before anything starts
                    resolve_env(spec, self.pod, configmaps, secrets, self.pod_ip, self.ctx.host_ip)
                return PodObjects(configmaps, secrets)
            except (EnvError, VolumeError) as exc:
                message = str(exc)
                if message != self._last_config_error:
                    self._last_config_error = message
                    self.event("Failed", f"Error: {message}", warning=True)
                self.main = [
                    r.with_state(ks.waiting("CreateContainerConfigError", message)) for r in self.main
                ]
                await self.report()
                await asyncio.sleep(CONFIG_RETRY_SECONDS)
            except (ApiError, aiohttp.ClientError, asyncio.TimeoutError) as exc:  # the API hiccuped: retry
                log.warning("pod %s/%s: reading its ConfigMaps/Secrets: %s", self.namespace, self.name, exc)
                await asyncio.sleep(CONFIG_RETRY_SECONDS)
        return None

    async def _get(self, resource: str, name: str) -> dict[str, Any] | None:
        return await self.ctx.client.get_or_none(f"/api/v1/namespaces/{self.namespace}/{resource}/{name}")

    # -- one container --------------------------------------------------------------------------------

    def _log_path(self, container: str) -> Path:
        return self.ctx.log_dir / self.namespace / self.name / f"{container}.log"

    def _set(self, init: bool, index: int, record: ks.ContainerRecord) -> None:
        (self.init if init else self.main)[index] = record

    def command_line(
        self, spec: Mapping[str, Any], env: Mapping[str, str], mappings: list[PathMapping]
    ) -> list[str]:
        words = [expand(str(w), env) for w in list(spec.get("command") or []) + list(spec.get("args") or [])]
        return [self.rewrite(w, mappings) for w in words]

    def rewrite(self, text: str, mappings: list[PathMapping]) -> str:
        subdomains = self.ctx.subdomains(self.namespace)
        own = (self.pod.get("spec") or {}).get("subdomain")
        if own:
            subdomains = subdomains | {own}
        return rewrite_paths(rewrite_pod_dns(text, self.namespace, subdomains, self.ctx.dns_ip), mappings)

    def process_env(
        self, spec: Mapping[str, Any], pod_env: Mapping[str, str], mappings: list[PathMapping]
    ) -> dict[str, str]:
        env = dict(os.environ)
        env["HOSTNAME"] = self.name
        env.update({k: self.rewrite(v, mappings) for k, v in pod_env.items()})
        env["PATH"] = venv_bin() + os.pathsep + env.get("PATH", os.defpath)
        env["KUBE_EMULATOR_IMAGE"] = str(spec.get("image", ""))  # what a container would have run
        return env

    async def _run_container(
        self,
        spec: Mapping[str, Any],
        index: int,
        *,
        init: bool,
        objects: PodObjects,
    ) -> None:
        """Run the container, restarting it as restartPolicy says (init containers only on failure)."""
        policy = (self.pod.get("spec") or {}).get("restartPolicy") or "Always"
        name = spec["name"]
        backoff = RESTART_BACKOFF_SECONDS[0]
        while True:
            state = await self._run_once(spec, index, init=init, objects=objects)
            code = state["terminated"]["exitCode"]
            records = self.init if init else self.main
            if self.deleting or not ks.should_restart(policy, init, code):
                self._set(init, index, records[index].with_state(state))
                await self.report()
                return
            message = f"back-off {backoff:g}s restarting failed container={spec['name']} pod={self.name}"
            record = replace(
                records[index].with_state(ks.waiting("CrashLoopBackOff", message)),
                last_state=state,
                restart_count=records[index].restart_count + 1,
            )
            self._set(init, index, record)
            self.event("BackOff", "Back-off restarting failed container", warning=True, container=name)
            await self.report()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, RESTART_BACKOFF_SECONDS[1])
            if self.deleting:
                return

    async def _run_once(
        self,
        spec: Mapping[str, Any],
        index: int,
        *,
        init: bool,
        objects: PodObjects,
    ) -> dict[str, Any]:
        """Start the container once, report it running, and return its terminated state."""
        name = spec["name"]
        records = self.init if init else self.main
        cdir = container_dir(self.ctx.state_dir, self.namespace, self.name, name)
        cdir.mkdir(parents=True, exist_ok=True)
        term_file = cdir / "termination-log"
        term_file.write_bytes(b"")
        log_path = self._log_path(name)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        started = now_utc()
        try:
            mappings = container_mappings(spec, self.volumes, term_file)
            pod_env = resolve_env(
                spec, self.pod, objects.configmaps, objects.secrets, self.pod_ip, self.ctx.host_ip
            )
            for mapping in mappings:  # a subPath may name a file (a ConfigMap key): leave what exists
                if mapping.host_path != term_file and not mapping.host_path.exists():
                    mapping.host_path.mkdir(parents=True)
            env = self.process_env(spec, pod_env, mappings)
            argv = self.command_line(spec, pod_env, mappings)
            cwd = host_working_dir(spec.get("workingDir") or "/", mappings, cdir / "rootfs")
            process = ContainerProcess()
            self.processes[name] = process
            pid = await process.start(argv, env, cwd, log_path)
        except (StartError, EnvError, VolumeError, OSError) as exc:
            code = exc.exit_code if isinstance(exc, StartError) else 128
            message = exc.message if isinstance(exc, StartError) else str(exc)
            with open(log_path, "a") as log_file:
                log_file.write(f"mnft kubelet: cannot start container {name!r}: {message}\n")
            self.event("Failed", f"Error: {message}", warning=True, container=name)
            return ks.terminated(code, started, now_utc(), message=message, reason="StartError")
        container_id = f"mnft://{pid}"
        self.event("Started", f"Started container {name}", container=name)
        self._set(init, index, records[index].with_state(ks.running(process.started_at), container_id))
        await self.report()
        result = await process.wait()
        content = b""
        with contextlib.suppress(OSError):
            content = term_file.read_bytes()
        tail = b""
        if spec.get("terminationMessagePolicy") == "FallbackToLogsOnError" and result.exit_code != 0:
            with contextlib.suppress(OSError), open(log_path, "rb") as log_file:
                log_file.seek(max(0, log_path.stat().st_size - 64 * 1024))
                tail = log_file.read()
        message = ks.termination_message(
            content, spec.get("terminationMessagePolicy", "File"), result.exit_code, tail
        )
        return ks.terminated(
            result.exit_code,
            result.started_at,
            result.finished_at,
            message=message,
            signal=result.signal,
            oom_killed=result.oom_killed,
            container_id=container_id,
        )

    def event(self, reason: str, message: str, *, warning: bool = False, container: str = "") -> None:
        self.ctx.events.record(self.pod, reason, message, warning=warning, container=container)

    # -- status -----------------------------------------------------------------------------------------

    def status(self, now: datetime) -> dict[str, Any]:
        phase, reason, message = self._phase_override or (None, None, None)
        status = ks.pod_status(
            self.init,
            self.main,
            pod_ip=self.pod_ip,
            host_ip=self.ctx.host_ip,
            start_time=self.start_time,
            now=now,
            previous_conditions=self._conditions,
            phase=phase,
            reason=reason,
            message=message,
            qos=ks.qos_class(self.pod),
        )
        self._conditions = status["conditions"]
        return status

    @property
    def phase(self) -> str:
        return self._phase_override[0] if self._phase_override else ks.pod_phase(self.init, self.main)

    async def report(self) -> None:
        """Send the pod's status now; if the API cannot take it, keep resending the latest status with
        backoff until it does, as the kubelet's status manager does."""
        retrying = self._status_retry is not None and not self._status_retry.done()
        if not await self._send_status() and not retrying:
            self._status_retry = asyncio.get_running_loop().create_task(self._resend_status())

    async def _send_status(self) -> bool:
        """Patch the status (with the pod's uid, so a new pod of the same name is never patched: the API
        answers 409); False when the API could not take it and a retry may succeed."""
        async with self._status_lock:
            if self.object_gone:
                return True
            body: dict[str, Any] = {"status": self.status(now_utc())}
            if self.uid:
                body["metadata"] = {"uid": self.uid}
            try:
                await self.ctx.client.merge_patch(pod_path(self.pod, "/status"), body)
            except ApiError as exc:
                if exc.status == 429 or exc.status >= 500:
                    log.info("pod %s/%s: status patch failed, will retry: %s", self.namespace, self.name, exc)
                    return False
                log.warning("pod %s/%s: status patch refused: %s", self.namespace, self.name, exc)
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                log.info("pod %s/%s: status patch not sent, will retry: %s", self.namespace, self.name, exc)
                return False
            return True

    async def _resend_status(self) -> None:
        delay = STATUS_RETRY_SECONDS
        while True:
            await asyncio.sleep(delay)
            if await self._send_status():
                return
            delay = min(2 * delay, STATUS_RETRY_MAX_SECONDS)

    # -- volumes kept in sync ---------------------------------------------------------------------------

    def refresh_volume(self, kind: str, obj: Mapping[str, Any] | None, name: str) -> None:
        for volume in self.volumes.values():
            if volume.kind != kind or projected_source_name(kind, volume.source) != name:
                continue
            with contextlib.suppress(VolumeError, OSError):
                project_volume(volume, obj)

    # -- deletion ---------------------------------------------------------------------------------------

    async def stop(self, grace: float) -> None:
        """SIGTERM every container, SIGKILL after `grace`; wait for the pod's task to finish."""
        self.deleting = True
        for name, process in self.processes.items():
            if process.running:
                self.event("Killing", f"Stopping container {name}", container=name)
        await asyncio.gather(*(p.stop(grace) for p in list(self.processes.values())))
        if self.task is not None and not self.task.done():
            try:
                await asyncio.wait_for(asyncio.shield(self.task), timeout=5)
            except asyncio.TimeoutError:
                self.task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self.task

    async def delete(self, grace: float, confirm: bool) -> None:
        """Stop the pod; with `confirm`, remove the API object the way a kubelet does (grace 0)."""
        if not confirm:
            self.object_gone = True
        await self.stop(grace)
        if confirm:
            body = {"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0}
            if self.uid:
                body["preconditions"] = {"uid": self.uid}
            async with self._status_lock:
                self.object_gone = True
                with contextlib.suppress(ApiError, aiohttp.ClientError, asyncio.TimeoutError):
                    await self.ctx.client.request("DELETE", pod_path(self.pod), body)
        shutil.rmtree(pod_dir(self.ctx.state_dir, self.namespace, self.name), ignore_errors=True)
        self.gone.set()
