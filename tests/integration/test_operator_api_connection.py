"""The operator's own API connection (`k8s.Connection`) against the embedded API over HTTPS with its token.

What k8s.py once borrowed kopf's private client for, pinned: the operator's requests carry the credentials
the login handler gave kopf, a 401 (a rotated token) logs in again once and repeats the request, the
server is verified against the kubeconfig's CA, and kopf's retry rules hold (5xx, 429, 403 retried; the
answer after the last backoff raised).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator

import aiohttp
import kopf
import pytest
from aiohttp import web
from operator_fixtures import NS, Api, job_manifest

from mnft_operator.handlers import login
from mnft_operator.handlers.settings import MEMO_API, MEMO_CONFIG, OperatorConfig
from mnft_operator.k8s import ApiError, Connection, KubeClient, KubeUnavailable

LOG = logging.getLogger("test")


@pytest.fixture
def settings() -> kopf.OperatorSettings:
    settings = kopf.OperatorSettings()
    settings.networking.error_backoffs = [0, 0, 0]
    return settings


def kubeconfig_login(api: Api, settings: kopf.OperatorSettings) -> kopf.ConnectionInfo:
    return login.connection_from_kubeconfig(str(api.kubeconfig), settings)


async def test_the_login_handler_gives_the_operator_the_credentials_it_gives_kopf(
    operator_api: Api, settings: kopf.OperatorSettings
) -> None:
    connection = Connection()
    memo = {MEMO_CONFIG: OperatorConfig(kubeconfig=str(operator_api.kubeconfig)), MEMO_API: connection}
    info = login.login(memo=memo, settings=settings, logger=LOG)
    assert info is not None and connection.info is info and connection.settings is settings
    assert (info.server, info.token) == (operator_api.url, operator_api.server.token)
    operator_api.create_job(job_manifest("a", workers=1))
    try:
        client = KubeClient(connection, LOG)
        job = await client.get_job(NS, "a")
        assert job is not None and job["metadata"]["name"] == "a"
    finally:
        await connection.close()


async def test_a_rejected_token_is_replaced_once_by_the_login_functions_fresh_one(
    operator_api: Api, settings: kopf.OperatorSettings
) -> None:
    """The token rotated on disk (service-account token, rewritten kubeconfig) while we held the old one."""
    stale = dataclasses.replace(kubeconfig_login(operator_api, settings), token="expired-token")
    logins: list[kopf.ConnectionInfo] = []

    def relogin() -> kopf.ConnectionInfo:
        logins.append(kubeconfig_login(operator_api, settings))
        return logins[-1]

    operator_api.create_job(job_manifest("r", workers=1))
    connection = Connection(settings, stale, relogin)
    client = KubeClient(connection, LOG, parallelism=8)
    try:
        jobs = await client.bounded([client.get_job(NS, "r") for _ in range(8)])  # a burst of 401s
    finally:
        await connection.close()
    assert [job["metadata"]["name"] for job in jobs if job] == ["r"] * 8
    assert len(logins) == 1 and connection.relogins == 1  # one re-login for the whole burst
    assert connection.info is logins[0] and logins[0].token == operator_api.server.token
    assert client.requests == 8


@pytest.mark.parametrize("renewal", ["same", "none", "error"])
async def test_credentials_that_cannot_be_renewed_fail_with_the_401_at_once(
    operator_api: Api, settings: kopf.OperatorSettings, renewal: str
) -> None:
    stale = dataclasses.replace(kubeconfig_login(operator_api, settings), token="revoked-token")
    calls: list[str] = []

    def relogin() -> kopf.ConnectionInfo:
        calls.append(renewal)
        if renewal == "error":
            raise kopf.PermanentError("--kubeconfig gone: no such file")
        return stale

    connection = Connection(settings, stale, None if renewal == "none" else relogin)
    client = KubeClient(connection, LOG)
    try:
        with pytest.raises(KubeUnavailable, match="HTTP 401") as failure:
            await client.get_job(NS, "x")
    finally:
        await connection.close()
    cause = failure.value.__cause__
    assert isinstance(cause, ApiError) and cause.status == 401
    assert calls == ([] if renewal == "none" else [renewal])  # asked once, no loop
    assert connection.relogins == 0 and connection.info is stale


async def test_the_server_is_verified_against_the_kubeconfigs_ca(
    operator_api: Api, settings: kopf.OperatorSettings
) -> None:
    trusting = kubeconfig_login(operator_api, settings)
    assert trusting.ca_path and not trusting.insecure and trusting.server.startswith("https://")
    settings.networking.error_backoffs = []
    # The system's CAs only: the embedded API's self-signed certificate is not among them.
    connection = Connection(settings, dataclasses.replace(trusting, ca_path=None))
    try:
        with pytest.raises(KubeUnavailable) as failure:
            await KubeClient(connection, LOG).get_node("n")
        connection.use(trusting)
        assert await KubeClient(connection, LOG).get_node("n") is None  # verified: a plain 404
    finally:
        await connection.close()
    assert isinstance(failure.value.__cause__, aiohttp.ClientConnectorCertificateError)


@pytest.fixture
async def flaky_api() -> AsyncIterator[tuple[str, list[int], list[str | None]]]:
    """A plain HTTP server answering GET /api/v1/nodes/<name> with the statuses queued (then 200)."""
    statuses: list[int] = []
    seen: list[str | None] = []

    async def node(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        status = statuses.pop(0) if statuses else 200
        if status == 200:
            return web.json_response({"kind": "Node", "metadata": {"name": request.match_info["name"]}})
        body = {"kind": "Status", "code": status, "message": f"answer {status}"}
        return web.json_response(body, status=status, headers={"Retry-After": "0"})

    app = web.Application()
    app.router.add_get("/api/v1/nodes/{name}", node)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}", statuses, seen
    finally:
        await runner.cleanup()


async def test_5xx_429_and_403_are_retried_and_the_last_answer_is_raised(
    flaky_api: tuple[str, list[int], list[str | None]], settings: kopf.OperatorSettings
) -> None:
    url, statuses, seen = flaky_api
    connection = Connection(settings, kopf.ConnectionInfo(server=url, token="t0k"))
    client = KubeClient(connection, LOG)
    try:
        statuses[:] = [503, 429, 403]  # three answers to retry, three backoffs
        assert await client.get_node("n1") == {"kind": "Node", "metadata": {"name": "n1"}}
        assert seen == ["Bearer t0k"] * 4 and client.requests == 1

        seen.clear()
        statuses[:] = [500, 502, 503, 504]  # one more failure than backoffs
        with pytest.raises(KubeUnavailable, match="HTTP 504 answer 504"):
            await client.get_node("n2")
        assert len(seen) == 4

        seen.clear()
        statuses[:] = [422]  # not retried
        with pytest.raises(KubeUnavailable, match="HTTP 422"):
            await client.get_node("n3")
        assert len(seen) == 1
    finally:
        await connection.close()
