"""Favicon hashes as the public fingerprint databases key them: MD5 of the file (recog
`favicons.xml`) and Shodan's `http.favicon.hash`, MurmurHash3 (x86, 32-bit, seed 0, signed) of
the file's base64 text with a newline every 76 characters (Nuclei, research §2.1-§2.2).

MurmurHash3 is written out here (a few lines) rather than pulling in a C extension for it.
"""

from __future__ import annotations

import base64
import hashlib

_M32 = 0xFFFFFFFF


def _rotl(value: int, shift: int) -> int:
    return ((value << shift) | (value >> (32 - shift))) & _M32


def murmur3_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3_x86_32, as a signed int like Python's `mmh3.hash`."""
    c1, c2 = 0xCC9E2D51, 0x1B873593
    h = seed & _M32
    whole = len(data) // 4 * 4
    for i in range(0, whole, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = _rotl((k * c1) & _M32, 15) * c2 & _M32
        h = (_rotl(h ^ k, 13) * 5 + 0xE6546B64) & _M32
    tail = data[whole:]
    if tail:
        k = int.from_bytes(tail, "little")
        h ^= _rotl((k * c1) & _M32, 15) * c2 & _M32
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M32
    h ^= h >> 16
    return h - (1 << 32) if h & 0x80000000 else h


def shodan_hash(data: bytes) -> int:
    """Shodan's favicon hash: mmh3 of `base64.encodebytes(data)` (MIME lines of 76 + newline)."""
    return murmur3_32(base64.encodebytes(data))


def favicon_fields(data: bytes) -> list[tuple[str, str]]:
    if not data:
        return []
    return [
        ("favicon_md5", hashlib.md5(data, usedforsecurity=False).hexdigest()),
        ("favicon_mmh3", str(shodan_hash(data))),
        ("favicon_size", str(len(data))),
    ]
