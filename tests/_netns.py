"""Network namespaces for the tests, shared by the probe and the emulator tests: one the test
makes for itself with the lab addresses it needs on `lo`, and a way to run code inside a
namespace (setns is per thread; threads started there stay there, and sockets they create stay in
the namespace whichever thread uses them afterwards). Keeps the tests' traffic off the root
namespace and inside 198.18.0.0/15. The veth pair the emulator tests use is in
tests/scanner/lab/emulators/_netns_pair.py."""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest

CLONE_NEWNET = 0x40000000
T = TypeVar("T")

needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None,
    reason="needs root and iproute2 (the test makes its own network namespace)",
)


@contextmanager
def namespace(addresses: tuple[str, ...]) -> Iterator[str]:
    name = f"ndaa-u{uuid.uuid4().hex[:6]}"
    subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        for address in addresses:
            subprocess.run(
                ["ip", "-n", name, "addr", "add", f"{address}/32", "dev", "lo"], check=True
            )
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)


def run_in(ns: str, fn: Callable[[], T]) -> T:
    """fn() in a fresh thread that entered network namespace `ns`; sockets it creates stay in
    `ns` whichever thread uses them afterwards."""
    box: dict[str, Any] = {}

    def body() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns failed")
        finally:
            os.close(fd)
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]
