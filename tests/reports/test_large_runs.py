"""Large runs: every device is still listed, and the fast paths say exactly what the plain ones do.

A /16 sweep gives 65,536 devices, so the reports take shortcuts: the JSON device list is written
straight from the model, the sort uses flat keys, and the HTML inventory rows are built in Python.
These tests hold each shortcut to the straightforward code it replaces (not to a time).
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from reports.html_report import HtmlFormat, _inventory_row, _sanitise, environment
from reports.json_report import (
    JsonFormat,
    device_dict,
    device_order,
    in_report_order,
    to_dict,
)
from scanner.model import Change, Device, ScanRun, Status, Waiver

CLEAR_DEVICES = 5_000
SCRIPT = "<script>alert(1)</script>"
RLO = "\u202e"


def reference_json(run: ScanRun) -> Any:
    """What the JSON report must say: to_dict, through the standard encoder and back."""
    text = json.dumps(to_dict(run), ensure_ascii=False, allow_nan=False)
    return json.loads(text.encode("utf-8", errors="backslashreplace"))


def section(document: str, anchor: str) -> str:
    start = document.index(f'<section id="{anchor}"')
    end = document.find("<section id=", start + 1)
    return document[start : end if end != -1 else None]


def clear_address(number: int) -> tuple[str, str]:
    ip = f"198.18.{number // 256}.{number % 256}"
    return ip, f"02:00:5e:00:{number // 256:02x}:{number % 256:02x}"


def large_run(factory: Any) -> ScanRun:
    devices = []
    for number in range(CLEAR_DEVICES):
        ip, mac = clear_address(number)
        extra: dict[str, Any] = {}
        if number % 997 == 0:  # a few with the optional columns filled in
            extra = {"hostnames": (f"host-{number}.example.test",), "notes": ("proxy-ARP",)}
            extra["other_ips"] = tuple(f"198.19.{number % 256}.{n}" for n in range(7))
        devices.append(factory.device(ip, mac, manufacturer="Axis Communications", **extra))
    devices.reverse()  # out of report order, so the sort has work to do
    devices += [factory.covered_hikvision(), factory.review_dahua()]
    run: ScanRun = factory.run(devices)
    return run


def test_html_lists_every_one_of_thousands_of_clear_devices(factory: Any) -> None:
    document = HtmlFormat().render(large_run(factory)).decode("utf-8")
    inventory = section(document, "inventory")
    rows = inventory.split("<tr class=")[1:]
    assert len(rows) == CLEAR_DEVICES + 2
    assert sum(row.startswith('"row-clear') for row in rows) == CLEAR_DEVICES
    # Each row's serial and two address cells (IP, then MAC), in report order: covered, review,
    # then the clear devices by address, every one of them.
    cells = [re.findall(r'<td class="mono">([^<]*)', row)[-2:] for row in rows]
    assert cells[:2] == [["198.18.0.10", "a4:14:37:00:00:01"], ["198.18.0.9", "3c:ef:8c:00:00:02"]]
    assert cells[2:] == [list(clear_address(number)) for number in range(CLEAR_DEVICES)]
    assert inventory.count("and 2 more") == len(range(0, CLEAR_DEVICES, 997))
    assert inventory.count("host-997.example.test") == 1
    # Only the flagged devices get an evidence section, linked from their rows.
    assert section(document, "evidence").count('<section class="device"') == 2
    assert inventory.count('href="#device-') == 2
    assert f"Inventory ({CLEAR_DEVICES + 2})" in document


def test_json_lists_every_one_of_thousands_of_clear_devices(factory: Any) -> None:
    run = large_run(factory)
    data = JsonFormat().render(run)
    assert json.loads(data) == reference_json(run)
    doc = json.loads(data)
    assert doc["summary"]["clear"] == CLEAR_DEVICES
    listed = [(d["ip"], d["mac"]) for d in doc["devices"] if d["status"] == "clear"]
    assert listed == [clear_address(number) for number in range(CLEAR_DEVICES)]


def test_json_bytes_match_the_standard_encoder(factory: Any) -> None:
    naive = datetime(2025, 6, 3, 14, 0)
    runs = [
        factory.run(),
        factory.run([]),
        factory.run([factory.clear_axis(model=b"DS-\xff".decode("utf-8", "surrogateescape"))]),
        factory.run(
            [
                factory.covered_hikvision(
                    confidence=-0.0,
                    hostnames=("a", SCRIPT),
                    other_ips=("2001:db8::1",),
                    notes=(RLO,),
                    evidence=(factory.evidence(certainty=1, observed_at=naive),),
                ),
                factory.review_dahua(confidence=1, basis=factory.hikvision_basis, ip=None),
                factory.clear_axis(basis=factory.hikvision_basis, ip="01.2.3.4"),
            ],
            started=naive,
        ),
    ]
    for run in runs:
        assert json.loads(JsonFormat().render(run)) == reference_json(run)


TEXT = st.text(st.characters(codec="utf-8"), max_size=30)
STRING = TEXT | st.sampled_from(["", "z" * 100, "x" * 2_100, SCRIPT, "A&B 'q' \"q\"", RLO])
OPTIONAL = st.none() | STRING
IP = TEXT | st.sampled_from(
    ["198.18.0.1", "198.18.0.10", "10.0.0.1", "01.2.3.4", "256.0.0.1", "::1", "2001:db8::1", ""]
)
NUMBER = st.floats(0, 1) | st.sampled_from([0.0, -0.0, 0.0005, 0.9995, 1, 0])
ZONE = st.sampled_from([None, UTC, timezone(timedelta(hours=2))])


@st.composite
def devices(draw: st.DrawFn, factory: Any) -> Device:
    status = draw(st.sampled_from(list(Status)))
    seen = datetime(2025, 6, 3, 14, 0, tzinfo=draw(ZONE)) + timedelta(
        microseconds=draw(st.integers(0, 10**9))
    )
    evidence = tuple(
        factory.evidence(
            draw(TEXT),
            draw(TEXT),
            draw(OPTIONAL),
            draw(NUMBER),
            source=draw(TEXT),
            detail=draw(OPTIONAL),
            interface=draw(TEXT),
            observed_at=seen if draw(st.booleans()) else seen + timedelta(seconds=1),
        )
        for _ in range(draw(st.integers(0, 2)))
    )
    device: Device = factory.device(
        draw(st.none() | IP),
        draw(OPTIONAL),
        status=status,
        vendor=draw(st.none() | st.sampled_from(["hikvision", "dahua"]) | TEXT),
        basis=draw(st.none() | st.just(factory.hikvision_basis)),
        confidence=draw(NUMBER),
        rationale=draw(TEXT),
        evidence=evidence,
        interface=draw(TEXT),
        hostnames=draw(st.lists(STRING, max_size=2)),
        other_ips=draw(st.lists(IP, max_size=7)),
        notes=draw(st.lists(STRING, max_size=2)),
        change=draw(st.sampled_from(list(Change))),
        manufacturer=draw(OPTIONAL | st.sampled_from(["Hikvision", "HIKVISION"])),
        brand=draw(OPTIONAL),
        model=draw(OPTIONAL),
        serial=draw(OPTIONAL),
        firmware=draw(OPTIONAL),
        device_type=draw(OPTIONAL),
    )
    last = seen if draw(st.booleans()) else seen + timedelta(seconds=5)
    waiver = draw(st.none() | st.builds(Waiver, TEXT, STRING, STRING, st.dates(), TEXT))
    return replace(
        device,
        first_seen=seen,
        last_seen=last,
        site=draw(st.just("") | STRING),
        waiver=waiver,
        waiver_expired=waiver is not None and draw(st.booleans()),
    )


IPV4 = st.sampled_from(
    ["0.0.0.0", "0.0.0.9", "0.0.0.10", "9.9.9.9", "59.154.201.255", "59.154.202.0", "198.18.0.1"]
) | st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n)))
"""Addresses whose numbers have from one to ten digits: the flat keys must pad them alike."""

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(data=st.data())
def test_any_devices_give_the_standard_json_bytes(factory: Any, data: st.DataObject) -> None:
    run = factory.run(data.draw(st.lists(devices(factory), max_size=6)))
    assert json.loads(JsonFormat().render(run)) == reference_json(run)


@SETTINGS
@given(data=st.data())
def test_report_order_is_device_order(factory: Any, data: st.DataObject) -> None:
    listed = data.draw(st.lists(devices(factory), max_size=8))
    if data.draw(st.booleans()):  # all IPv4: the flat-key path
        listed = [replace(device, ip=data.draw(IPV4)) for device in listed]
    expected = sorted(listed, key=device_order)
    assert [id(device) for device in in_report_order(listed)] == [id(d) for d in expected]


# The inventory row as the template wrote it with Jinja before rows were built in Python: the
# oracle for _inventory_row, autoescaped by the report's own environment.
ROW_TEMPLATE = """\
{%- macro badge(status) -%}
<span class="badge badge-{{ status }}">{{ status | status_label }}</span>
{%- endmacro -%}
{%- macro text(value, limit=none) -%}
{%- if value is none or value == "" -%}<span class="none">—</span>
{%- elif limit -%}{{ value | clip(limit) }}
{%- else -%}{{ value }}{%- endif -%}
{%- endmacro -%}
<tr class="{{ device.status | row_classes(device.waiver, device.change) }}">
<td>{{ badge(device.status) }}{% if device.waiver %}<span class="{{ "waiver waiver-expired" if device.waiver.expired else "waiver" }}">{{ device.waiver | waiver_note | clip }}</span>{% endif %}{% if device.change | change_label %}<span class="change change-{{ device.change }}">{{ device.change | change_label }}</span>{% endif %}
{% if device.status != "clear" %}<span class="change"><a href="#{{ device.anchor }}">evidence</a></span>{% endif %}</td>
{% if show_site %}<td>{{ text(device.site, 40) }}</td>
{% endif %}<td>{% if device.covered_vendor %}{{ device.covered_vendor | vendor_name }}{% else %}<span class="none">—</span>{% endif %}</td>
<td>{{ text(device.manufacturer, 60) }}</td>
<td>{{ text(device.brand, 60) }}</td>
<td>{{ text(device.model, 80) }}</td>
<td class="mono">{{ text(device.serial, 60) }}</td>
<td>{{ text(device.firmware, 60) }}</td>
<td class="mono">{{ text(device.ip, 45) }}{% for ip in device.other_ips[:5] %}<br>{{ ip | clip(45) }}{% endfor %}{% if device.other_ips | length > 5 %}<br><span class="small">and {{ device.other_ips | length - 5 }} more</span>{% endif %}
{% if device.hostnames %}<br><span class="small">{{ device.hostnames | join(", ") | clip(80) }}</span>{% endif %}
{% if device.interface %}<br><span class="small">on {{ text(device.interface, 30) }}</span>{% endif %}</td>
<td class="mono">{{ text(device.mac, 45) }}</td>
<td class="num">{{ device.confidence | percent }}</td>
<td>{% for note in device.notes %}{{ note | clip }}{% if not loop.last %}<br>{% endif %}{% else %}<span class="none">—</span>{% endfor %}</td>
</tr>
"""  # noqa: E501


def template_row(device: Device, anchor: str, show_site: bool = False) -> str:
    fields: dict[str, Any] = _sanitise(device_dict(device))
    fields["anchor"] = anchor
    return environment().from_string(ROW_TEMPLATE).render(device=fields, show_site=show_site)


@SETTINGS
@given(data=st.data())
def test_inventory_rows_are_what_the_template_wrote(factory: Any, data: st.DataObject) -> None:
    device = data.draw(devices(factory))
    anchor = f"device-{data.draw(st.integers(1, 70_000))}"
    show_site = data.draw(st.booleans())
    assert _inventory_row(device, anchor, show_site) == template_row(device, anchor, show_site)


def test_hostile_inventory_rows_are_what_the_template_wrote(factory: Any) -> None:
    hostile = factory.covered_hikvision(
        manufacturer=SCRIPT,
        brand='"><img src=x onerror=alert(1)>' + "b" * 70,
        model="M" * 5_000,
        ip=f"198.18.0.1{RLO}",
        mac="&amp;",
        interface="{{ 7*7 }}",
        other_ips=tuple(f"10.0.0.{n}<b>" for n in range(8)),
        hostnames=("a&b", "<i>", "x" * 100),
        notes=(SCRIPT, "\x1b[31mred\x00", "y" * 300),
        vendor="acme<b>",
    )
    row = _inventory_row(hostile, "device-1")
    assert row == template_row(hostile, "device-1")
    assert "<script" not in row and "<img" not in row and "<b>" not in row and RLO not in row
    assert not re.search(r"<[a-z][^>]*\son\w+\s*=", row, re.IGNORECASE)


def test_inventory_rows_follow_jinja_for_text_already_marked_up(factory: Any) -> None:
    # Device strings are never Markup; if one were, the row treats it as Jinja did.
    device = factory.clear_axis(
        manufacturer=Markup("<i>m</i>"), hostnames=(Markup("<b>h</b>"), "a&b")
    )
    assert _inventory_row(device, "device-9") == template_row(device, "device-9")
