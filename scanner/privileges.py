"""Can this process open raw sockets? Checked up front so the user gets advice, not EPERM."""

from __future__ import annotations

import os
import sys

from scanner.errors import UserError

CAP_NET_RAW = 13


def has_cap_net_raw() -> bool:
    if os.geteuid() == 0:
        return True
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) & (1 << CAP_NET_RAW))
    except OSError:
        pass
    return False


def require_raw_sockets() -> None:
    if not has_cap_net_raw():
        python = os.path.realpath(sys.executable)
        raise UserError(
            "raw network access is needed to send ARP requests (root or CAP_NET_RAW)",
            f"run with sudo, or grant the capability once: sudo setcap cap_net_raw+ep {python}",
        )
