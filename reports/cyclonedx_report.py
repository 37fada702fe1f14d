"""The CycloneDX 1.6 report: the inventory as a hardware bill of materials.

Asset and supply-chain tools read CycloneDX, so each device becomes a component of type
``device`` (the manufacturer, model as name, firmware as version) and what CycloneDX has no field
for (serial, addresses, the Section 889 verdict) goes into ``ndaa-scan:`` properties, as the
specification suggests for tool-specific data. The library is imported when a report is rendered:
it costs a quarter of a second, which ``ndaa-scan --help`` must not pay.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from scanner import __version__
from scanner.model import Device, ScanRun, Status

from .base import ReportFormat
from .csv_report import _top_evidence, _waiver
from .json_report import in_report_order

if TYPE_CHECKING:
    from cyclonedx.model import Property
    from cyclonedx.model.component import Component

PREFIX = "ndaa-scan:"
NAMESPACE = uuid.UUID("3f0b2a4e-7c1d-5e8a-9b6f-0d2c4e6a8b10")
"""Seeds the BOM serial number from the run id: one run always gives the same document."""


def _properties(device: Device) -> list[Property]:
    from cyclonedx.model import Property

    identity, finding = device.identity, device.finding
    values = {
        "status": finding.status.value,
        "covered_vendor": finding.covered_vendor or "none",
        "confidence": f"{finding.confidence:.3f}",
        "serial": identity.serial,
        "model": identity.model,
        "firmware": identity.firmware,
        "brand": identity.brand,
        "device_type": identity.device_type,
        "ip": device.ip,
        "mac": device.mac,
        "interface": device.interface,
        "site": device.site,
        "change": device.change.value,
        "waiver": _waiver(device),
        "rationale": finding.rationale,
        "top_evidence": _top_evidence(device) if finding.status is not Status.CLEAR else "",
        "basis": (
            f"{finding.basis.statute} {finding.basis.prong}; {', '.join(finding.basis.far_clauses)}"
            if finding.basis is not None and finding.status is not Status.CLEAR
            else ""
        ),
        "first_seen": device.first_seen.isoformat(),
        "last_seen": device.last_seen.isoformat(),
    }
    # CycloneDX properties are name/value text; an empty value says nothing, so it is left out.
    return [Property(name=PREFIX + name, value=value) for name, value in values.items() if value]


def _component(device: Device, number: int) -> Component:
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.contact import OrganizationalEntity

    identity = device.identity
    maker = identity.manufacturer or identity.brand
    name = identity.model or maker or device.mac or device.ip or device.key
    # The key alone is not unique when two devices share a serial; the report's number is.
    return Component(
        type=ComponentType.DEVICE,
        name=name,
        version=identity.firmware,
        bom_ref=f"device-{number:06d}:{device.key}",
        manufacturer=OrganizationalEntity(name=maker) if maker else None,
        description=identity.device_type,
        properties=_properties(device),
    )


def _no_check() -> bool:
    return True


def render(run: ScanRun) -> bytes:
    from cyclonedx.model import Property
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.tool import ToolRepository
    from cyclonedx.output.json import JsonV1Dot6

    tool = Component(type=ComponentType.APPLICATION, name="ndaa-scan", version=__version__)
    scan = {
        "scan_id": run.id,
        "site": run.scope.site,
        "started": run.started.isoformat(),
        "complete": str(run.complete).lower(),
        "fingerprint_version": run.fingerprint_version,
        "oui_registry": f"{run.oui_source.name} {run.oui_source.version} ({run.oui_source.date})",
        "statement": "Evidence for a reasonable inquiry, not a legal determination.",
    }
    metadata = BomMetaData(
        tools=ToolRepository(components=[tool]),
        timestamp=run.finished,
        properties=[Property(name=PREFIX + key, value=value) for key, value in scan.items()],
    )
    devices = in_report_order(run.devices)
    bom = Bom(
        serial_number=uuid.uuid5(NAMESPACE, run.id),
        metadata=metadata,
        components=[_component(device, n) for n, device in enumerate(devices, start=1)],
    )
    # Before writing, the library's (deprecated) Bom.validate registers an empty dependency entry
    # for every component, searching the entries linearly each time: quadratic, many minutes for
    # a /16 sweep. Devices depend on nothing, so those entries say nothing; the tests check the
    # output against the CycloneDX schema with the library's validator.
    bom.validate = _no_check  # type: ignore[method-assign]
    text = JsonV1Dot6(bom).output_as_string(indent=2)
    return text.encode("utf-8", errors="backslashreplace")


class CycloneDxFormat(ReportFormat):
    """A CycloneDX 1.6 JSON BOM of the devices, for asset and supply-chain tools."""

    name = "cyclonedx"
    suffix = ".cdx.json"
    media_type = "application/vnd.cyclonedx+json; version=1.6"

    def render(self, run: ScanRun) -> bytes:
        return render(run)
