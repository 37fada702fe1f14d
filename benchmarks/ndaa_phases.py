"""Run `python -m scanner ...` in-process and time its phases (the benchmark's breakdown).

    python -m benchmarks.ndaa_phases PHASES.json scan 198.18.0.0/16 -i scale0 --rate 10000 ...

Same code path as `python -m scanner` (runpy), with a timer around a few functions, each called
once per scan: the ARP sweep, the OUI database load, identification, policy, report writing and
the terminal summary. A function this scanner version does not have is left out, not an error:
the scanner is being changed while the benchmark exists. Writes one JSON object to PHASES.json:
{"phases": [{"name", "wall", "cpu", "maxrss_kib"}...], "imports": s, "total": s} and exits with
the scanner's exit code.
"""

from __future__ import annotations

import functools
import importlib
import json
import resource
import runpy
import sys
import time
from collections.abc import Callable
from typing import Any

# (module, attribute, label): where each phase is looked up at call time by its caller.
PHASES = (
    ("scanner.probes.arp", "sweep", "ARP sweep"),
    ("scanner.scan", "load_oui_database", "load OUI database"),
    ("scanner.identify", "identify", "identify"),
    ("scanner.policy", "apply", "policy"),
    ("reports", "write_report", "write report"),
    ("scanner.summary", "print_summary", "print summary"),
)


def _maxrss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _wrap(label: str, func: Callable[..., Any], log: list[dict[str, Any]]) -> Callable[..., Any]:
    @functools.wraps(func)
    def timed(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return func(*args, **kwargs)
        finally:
            log.append(
                {
                    "name": label,
                    "wall": time.perf_counter() - wall,
                    "cpu": time.thread_time() - cpu,  # each phase runs in one thread
                    "maxrss_kib": _maxrss_kib(),
                }
            )

    return timed


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out, scanner_args = argv[0], argv[1:]
    started = time.perf_counter()
    log: list[dict[str, Any]] = []
    missing = []
    for module_name, attr, label in PHASES:
        try:
            module = importlib.import_module(module_name)
            func = getattr(module, attr)
        except (ImportError, AttributeError):
            missing.append(label)
            continue
        setattr(module, attr, _wrap(label, func, log))
    imports = time.perf_counter() - started
    sys.argv = ["scanner", *scanner_args]
    code: int | str | None = 0
    try:
        runpy.run_module("scanner", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code
    finally:
        total = time.perf_counter() - started
        with open(out, "w") as fh:
            json.dump(
                {
                    "phases": log,
                    "missing": missing,
                    "imports": imports,
                    "total": total,
                    "cpu": time.process_time(),
                    "maxrss_kib": _maxrss_kib(),
                },
                fh,
            )
    return code if isinstance(code, int) else 0 if code is None else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
