"""A classic BPF program that lets only ARP replies addressed to our MAC reach the socket.

Without it every ARP broadcast on a busy segment (and, at sweep rates, our own echoes) would wake
Python; with it the kernel drops them before they are copied to user space.
"""

from __future__ import annotations

import ctypes
import socket
import struct

SO_ATTACH_FILTER = 26

# opcodes (linux/filter.h)
_LD_H_ABS = 0x28
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_RET_K = 0x06

Insn = tuple[int, int, int, int]


def arp_reply_filter(our_mac: bytes) -> list[Insn]:
    """Accept ethertype 0x0806, op 2, target hardware address == our_mac; drop everything else."""
    if len(our_mac) != 6:
        raise ValueError("MAC must be 6 bytes")
    mac_hi = struct.unpack("!I", our_mac[:4])[0]
    mac_lo = struct.unpack("!H", our_mac[4:])[0]
    return [
        (_LD_H_ABS, 0, 0, 12),  # ethertype
        (_JEQ_K, 0, 7, 0x0806),
        (_LD_H_ABS, 0, 0, 20),  # ARP op
        (_JEQ_K, 0, 5, 2),
        (_LD_W_ABS, 0, 0, 32),  # target hardware address, first 4 bytes
        (_JEQ_K, 0, 3, mac_hi),
        (_LD_H_ABS, 0, 0, 36),  # ... last 2 bytes
        (_JEQ_K, 0, 1, mac_lo),
        (_RET_K, 0, 0, 0x40000),  # accept the whole frame
        (_RET_K, 0, 0, 0),  # drop
    ]


def run_filter(program: list[Insn], frame: bytes) -> bool:
    """Interpret the program over a frame the way the kernel would; lets tests check the bytecode
    itself, not just a Python twin of its logic."""
    acc = 0
    pc = 0
    while pc < len(program):
        code, jt, jf, k = program[pc]
        if code == _LD_H_ABS:
            if k + 2 > len(frame):
                return False
            acc = int.from_bytes(frame[k : k + 2], "big")
        elif code == _LD_W_ABS:
            if k + 4 > len(frame):
                return False
            acc = int.from_bytes(frame[k : k + 4], "big")
        elif code == _JEQ_K:
            pc += jt if acc == k else jf
        elif code == _RET_K:
            return k != 0
        else:
            raise ValueError(f"unsupported BPF opcode {code:#x}")
        pc += 1
    return False


class _SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    ]


class _SockFprog(ctypes.Structure):
    _fields_ = [
        ("len", ctypes.c_uint16),
        ("filter", ctypes.POINTER(_SockFilter)),
    ]


def attach(sock: socket.socket, program: list[Insn]) -> None:
    insns = (_SockFilter * len(program))(*[_SockFilter(*i) for i in program])
    prog = _SockFprog(len(program), insns)
    # setsockopt copies the program into the kernel, so the ctypes buffers may go away afterwards.
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, bytes(prog))
