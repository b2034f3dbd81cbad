"""Keeps tests/unit pure: while a unit test module is collected or a unit test runs, starting a process,
opening a network socket (or binding/connecting any socket) and importing MindSpore raise.

The enforcement is a `sys.audit` hook, so it also catches what C code and third-party libraries do. A hook
cannot be removed, so it is installed once and is active only while a unit collector or test is running
(a `pytest tests` session also runs the other folders). An AF_UNIX socketpair stays allowed: every asyncio
event loop opens one to wake itself. Tests that need any of these belong in tests/integration (real HTTP,
real tools) or tests/e2e (MindSpore, the trainer's processes).
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

UNIT = Path(__file__).resolve().parent
PROCESS_EVENTS = frozenset(
    {"subprocess.Popen", "os.fork", "os.forkpty", "os.posix_spawn", "os.exec", "os.spawn", "os.system"}
)
SOCKET_EVENTS = frozenset({"socket.bind", "socket.connect", "socket.getaddrinfo", "socket.gethostbyname"})
FORBIDDEN_MODULE = "mindspore"


class ImpureUnitTest(RuntimeError):
    """Raised inside the operation a unit test must not do."""


_active = False
_violations: list[str] = []


def _forbidden(event: str, args: tuple[Any, ...]) -> str | None:
    if event in PROCESS_EVENTS:
        return f"starts a process ({event} {args[:1]!r})"
    if event == "socket.__new__" and args[1] != socket.AF_UNIX:
        return f"opens a network socket (family {args[1]})"
    if event in SOCKET_EVENTS:
        return f"uses the network ({event} {args[1:]!r})"
    if event == "import" and (args[0] == FORBIDDEN_MODULE or args[0].startswith(FORBIDDEN_MODULE + ".")):
        return f"imports {args[0]}"
    return None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _active:
        return
    what = _forbidden(event, args)
    if what is not None:
        _violations.append(what)
        raise ImpureUnitTest(f"a unit test {what}: move it to tests/integration or tests/e2e")


sys.addaudithook(_audit)

# Libraries that probe the machine once, when first imported, are imported before any guard is on:
# numpy.testing runs `lscpu` (its SVE check), urllib3 binds an AF_INET6 socket to ::1 (HAS_IPV6).
import numpy.testing  # noqa: E402, F401
import urllib3  # noqa: E402, F401


def _in_unit(path: Path) -> bool:
    return path.resolve().is_relative_to(UNIT)


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    global _active
    if not (isinstance(collector, pytest.Module) and _in_unit(collector.path)):
        return (yield)
    _active = True
    _violations.clear()
    try:
        report = yield
    finally:
        _active = False
    if _violations and report.passed:  # the module caught what the hook raised
        report.outcome = "failed"
        report.longrepr = _message()
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    # Called for every item of the session, not only those below this conftest.
    global _active
    if not _in_unit(item.path):
        return (yield)
    _active = True
    try:
        return (yield)
    finally:
        _active = False


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Fails a setup, call or teardown that did something impure even when the code under test caught the
    ImpureUnitTest it was given."""
    report = yield
    if _in_unit(item.path):
        if _violations and report.passed:
            report.outcome = "failed"
            report.longrepr = _message()
        _violations.clear()
    return report


def _message() -> str:
    return f"a unit test must stay pure; it {'; '.join(dict.fromkeys(_violations))}"
