"""The published JSON Schema: strict, in step with the model, and it rejects broken reports."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from reports.json_report import COVERED_VENDORS, to_dict
from reports.schema import errors, load_schema, schema_text, validate
from scanner.model import Change, ProbeStatus, ScanRun, Status

Mutation = Callable[[dict[str, Any]], None]


def objects(node: Any, path: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if node.get("type") == "object":
            yield path, node
        for key, value in node.items():
            yield from objects(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from objects(value, f"{path}/{index}")


def test_schema_is_valid_draft_2020_12() -> None:
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_load_schema_returns_a_private_copy() -> None:
    load_schema()["properties"].clear()
    assert "devices" in load_schema()["properties"]
    assert schema_text().startswith("{")


def test_every_object_is_closed() -> None:
    for path, node in objects(load_schema()):
        if path.endswith(("/effective", "/by_vendor")):
            # Open maps keyed by data, each value constrained instead.
            assert isinstance(node["additionalProperties"], dict), path
            continue
        assert node.get("additionalProperties") is False, path
        assert set(node["required"]) == set(node["properties"]), path


def test_enums_match_the_model() -> None:
    defs = load_schema()["$defs"]
    assert defs["device"]["properties"]["status"]["enum"] == [s.value for s in Status]
    assert defs["device"]["properties"]["change"]["enum"] == [c.value for c in Change]
    assert defs["probe"]["properties"]["status"]["enum"] == [p.value for p in ProbeStatus]
    assert defs["covered_vendor"]["enum"] == list(COVERED_VENDORS)


def _device(doc: dict[str, Any], status: str) -> dict[str, Any]:
    return next(d for d in doc["devices"] if d["status"] == status)


BROKEN: dict[str, Mutation] = {
    "missing device field": lambda doc: doc["devices"][0].pop("mac"),
    "missing scan field": lambda doc: doc["scan"].pop("fingerprint_version"),
    "missing summary": lambda doc: doc.pop("summary"),
    "bad status": lambda doc: doc["devices"][0].update(status="banned"),
    "confidence 1.5": lambda doc: doc["devices"][0].update(confidence=1.5),
    "negative certainty": lambda doc: doc["devices"][0]["evidence"][0].update(certainty=-0.1),
    "confidence as text": lambda doc: doc["devices"][0].update(confidence="0.9"),
    "bad change": lambda doc: doc["devices"][0].update(change="moved"),
    "bad probe status": lambda doc: doc["scan"]["probes"][0].update(status="maybe"),
    "negative sent": lambda doc: doc["scan"]["probes"][0].update(sent=-1),
    "look-alike vendor": lambda doc: doc["devices"][0].update(covered_vendor="uniview"),
    "unknown top-level field": lambda doc: doc.update(extra=1),
    "unknown device field": lambda doc: doc["devices"][0].update(password="hunter2"),
    "unknown evidence field": lambda doc: doc["devices"][0]["evidence"][0].update(raw="x"),
    "unknown basis field": lambda doc: doc["devices"][0]["basis"].update(verdict="guilty"),
    "wrong schema version": lambda doc: doc.update(schema="ndaa-scan/2"),
    "timestamp without zone": lambda doc: doc["scan"].update(started="2025-06-03T14:00:00"),
    "registry date not ISO": lambda doc: doc["scan"]["oui_registry"].update(date="March 2025"),
    "bad ip": lambda doc: doc["devices"][0].update(ip="999.18.0.1"),
    "bad other ip": lambda doc: doc["devices"][0].update(other_ips=["not-an-ip"]),
    "bad mac": lambda doc: doc["devices"][0].update(mac="a4-14-37-00-00-01"),
    "bad key": lambda doc: doc["devices"][0].update(key="DS-2CD"),
    "clear device with a basis": lambda doc: _device(doc, "clear").update(
        basis=copy.deepcopy(doc["devices"][0]["basis"])
    ),
    "covered device without basis": lambda doc: doc["devices"][0].update(basis=None),
    "covered device without vendor": lambda doc: doc["devices"][0].update(covered_vendor=None),
    "by_vendor look-alike": lambda doc: doc["summary"]["by_vendor"].update(hikeen=1),
}


@pytest.mark.parametrize("mutate", BROKEN.values(), ids=BROKEN.keys())
def test_schema_rejects_a_broken_report(sample_run: ScanRun, mutate: Mutation) -> None:
    doc = to_dict(sample_run)
    validate(doc)
    mutate(doc)
    with pytest.raises(jsonschema.ValidationError):
        validate(doc)
    assert errors(doc)


def test_errors_name_the_path(sample_run: ScanRun) -> None:
    doc = to_dict(sample_run)
    doc["devices"][0]["confidence"] = 1.5
    assert errors(doc) == ["$.devices[0].confidence: 1.5 is greater than the maximum of 1"]
