"""The lab's routed subnet: devices behind a router namespace, on no segment the scanner is on.

The scanner reaches them only through the router (198.18.0.254 on the lab bridge, 198.19.1.1 on
their own bridge), so no ARP reply of theirs ever reaches it: it must find them by TCP connect
and identify them from layer 7 alone. Plain data, like topology.py; netns.py builds it when
`up(routed=ROUTED_DEVICES)` asks for it (the standard lab stays as it was).
"""

from __future__ import annotations

from scanner.lab.personas import Persona
from scanner.lab.topology import LabDevice

ROUTED_SUBNET = "198.19.1.0/24"
ROUTED_PREFIXLEN = 24
ROUTER_LAB_IP = "198.18.0.254"  # the router's leg on the scanner's segment
ROUTER_ROUTED_IP = "198.19.1.1"  # its leg on the routed segment, the devices' gateway

ROUTED_DEVICES: tuple[LabDevice, ...] = (
    LabDevice(
        "r-hik-cam", "c0:56:e3:11:22:33", "198.19.1.11", "camera",
        "Hikvision IP camera (DS-2CD2387G2-LU) behind a router", "Hikvision", "hikvision",
        "covered", services=("http", "https", "rtsp", "tcp-ports"),
    ),
    LabDevice(
        "r-dahua-cam", "e0:50:8b:44:55:66", "198.19.1.21", "camera",
        "Dahua IP camera (IPC-HFW2831S-S-S2) behind a router", "Dahua", "dahua", "covered",
        services=("http", "rtsp", "tcp-ports"),
    ),
    LabDevice(
        "r-webs-dvr", "00:e0:4c:77:88:99", "198.19.1.66", "dvr",
        "no-name DVR with generic tells (Server: Webs, Basic realm=\"DVR\") behind a router",
        "Realtek Semiconductor Corp.", None, "clear", services=("http", "rtsp"),
    ),
)  # fmt: skip

ROUTED_PERSONAS: dict[str, Persona] = {
    "r-hik-cam": Persona(
        "hikvision", "HIKVISION", "DS-2CD2387G2-LU", "DS-2CD2387G2-LU20230105AAWRK11223344",
        "V5.7.15 build 230601", "camera",
    ),
    "r-dahua-cam": Persona(
        "dahua", "Dahua", "IPC-HFW2831S-S-S2", "7L0D5E6PAZ22222",
        "2.840.0000000.16.R, build: 2022-08-26", "camera",
    ),
    "r-webs-dvr": Persona("generic", "", "DVR", "", "", "dvr"),
}  # fmt: skip
