"""Shared fixtures: the shipped OUI tables, and the generator script loaded as a module.

The generator lives in scripts/ (not an importable package) because it is a maintainer's tool,
not part of the scanner; the tests load it by path so they exercise exactly the file a maintainer
runs.
"""

from __future__ import annotations

import gzip
import importlib.util
import sys
import tomllib
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from fingerprints.oui import OuiDatabase, load_oui_database

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "fingerprints" / "data"
GEN_SCRIPT = REPO / "scripts" / "gen_oui.py"


@cache
def load_gen_oui() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_oui", GEN_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_oui"] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@cache
def shipped_registry() -> dict[str, tuple[int, str]]:
    """hex prefix -> (bits, registrant), read independently of fingerprints.oui."""
    rows: dict[str, tuple[int, str]] = {}
    text = gzip.decompress((DATA / "oui_registry.tsv.gz").read_bytes()).decode("utf-8")
    for line in text.splitlines():
        prefix, bits, name = line.split("\t")
        rows[prefix] = (int(bits), name)
    return rows


@cache
def entities_toml() -> dict[str, Any]:
    with (DATA / "covered_entities.toml").open("rb") as fh:
        return tomllib.load(fh)


@pytest.fixture(scope="session")
def gen_oui() -> ModuleType:
    return load_gen_oui()


@pytest.fixture(scope="session")
def db() -> OuiDatabase:
    return load_oui_database()


@pytest.fixture(scope="session")
def registry() -> dict[str, tuple[int, str]]:
    return shipped_registry()


@pytest.fixture(scope="session")
def entities() -> dict[str, Any]:
    return entities_toml()
