"""One process per device namespace that runs the device's services, each in a thread.

Started by the lab (`python -m scanner.lab.emulators …` inside the namespace); writes a ready file
once every service has bound its sockets, and stops cleanly on SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import traceback
from pathlib import Path
from types import FrameType

from scanner.lab.emulators.base import RequestLog, Service, ServiceContext, registry
from scanner.lab.personas import persona_for
from scanner.lab.topology import DEVICE_IFACE, LabDevice

READY_TIMEOUT = 10.0


def _device(state_file: Path, name: str) -> LabDevice:
    state = json.loads(state_file.read_text())
    for raw in state["devices"]:
        if raw["name"] == name:
            raw["proxy_ips"] = tuple(raw.get("proxy_ips", ()))
            raw["services"] = tuple(raw.get("services", ()))
            return LabDevice(**raw)
    raise SystemExit(f"device {name!r} is not in {state_file}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scanner.lab.emulators")
    parser.add_argument("--state", type=Path, required=True, help="the lab's state.json")
    parser.add_argument("--device", required=True)
    parser.add_argument("--log", type=Path, required=True, help="request log (JSON lines)")
    parser.add_argument("--ready-file", type=Path, required=True)
    args = parser.parse_args(argv)

    device = _device(args.state, args.device)
    errors: dict[str, str] = {}
    services = registry(errors)
    unknown = [name for name in device.services if name not in services]
    if unknown:
        # Not fatal: the device still answers ARP and its other services, and a test that needs
        # the missing one fails on what it does not see, with this line in the emulator log.
        print(f"unknown emulator(s) {unknown} for {device.name}; known: {sorted(services)}")
        for module, error in errors.items():
            print(f"  module {module} failed to import: {error}")
    log = RequestLog(args.log)
    stop = threading.Event()
    ready_count = threading.Semaphore(0)

    def on_signal(_sig: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    threads = []
    failed: list[str] = []
    for name in device.services:
        if name not in services:
            continue
        ctx = ServiceContext(
            device=device,
            persona=persona_for(device.name),
            log=log,
            interface=DEVICE_IFACE,
            ready=ready_count.release,
        )
        service = services[name](ctx)

        def run(service_name: str = name, svc: Service = service) -> None:
            try:
                svc.serve(stop)
            except Exception:
                failed.append(service_name)
                traceback.print_exc()
                ready_count.release()  # never leave the lab waiting on a dead service

        thread = threading.Thread(target=run, name=f"emu-{name}", daemon=True)
        thread.start()
        threads.append(thread)
    for _ in threads:
        if not ready_count.acquire(timeout=READY_TIMEOUT):
            print(f"{device.name}: a service did not become ready in {READY_TIMEOUT} s")
            return 1
    if failed:
        print(f"{device.name}: services failed to start: {failed}")
        return 1
    args.ready_file.write_text("ready\n")
    sys.stdout.flush()
    while not stop.is_set():
        stop.wait(0.5)
    for thread in threads:
        thread.join(timeout=2.0)
    return 0
