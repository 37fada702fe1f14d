"""The HTML report: complete, self-contained, and every device string rendered as inert text."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import unicodedata
from dataclasses import replace
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2 import StrictUndefined, UndefinedError

from reports.html_report import (
    HEAD_SCRIPT,
    TEMPLATE,
    HtmlFormat,
    clip,
    csp,
    environment,
    script,
    visible,
)
from reports.json_report import JsonFormat, to_dict
from reports.schema import validate
from scanner.model import ScanRun, Scope, Status

SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '"><img src=x onerror=alert(1)>'
RLO = "\u202e"
# Every element and attribute the template itself uses; device data must never add one.
TEMPLATE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "header", "footer", "nav", "section",
    "div", "p", "span", "strong", "em", "a", "br", "h1", "h2", "h3", "h4", "dl", "dt", "dd", "ol",
    "ul", "li", "table", "colgroup", "col", "thead", "tbody", "tr", "th", "td", "blockquote",
    "label", "select", "option", "input", "button", "script", "svg", "rect", "text",
}  # fmt: skip
TEMPLATE_ATTRIBUTES = {
    "lang", "charset", "http-equiv", "content", "name", "class", "id", "href", "colspan",
    "hidden", "value", "type", "placeholder", "autocomplete", "aria-live", "data-col", "data-sort",
    "role", "width", "height", "viewbox", "xmlns", "x", "y", "fill", "text-anchor",
}  # fmt: skip


class Page(HTMLParser):
    """What a browser would build: elements with their attributes, and the visible text."""

    def __init__(self, document: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.chunks: list[str] = []
        self.feed(document)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)

    @property
    def text(self) -> str:
        return "".join(self.chunks)


def render(run: ScanRun) -> str:
    return HtmlFormat().render(run).decode("utf-8")


def section(document: str, anchor: str) -> str:
    start = document.index(f'<section id="{anchor}"')
    end = document.find("<section id=", start + 1)
    return document[start : end if end != -1 else None]


def assert_inert(document: str) -> Page:
    page = Page(document)
    for tag, attrs in page.elements:
        assert tag in TEMPLATE_TAGS, tag
        assert set(attrs) <= TEMPLATE_ATTRIBUTES, (tag, attrs)
        href = attrs.get("href")
        assert href is None or href.startswith("#"), href
    # Two scripts, the page's own, exactly as shipped (the CSP allows them by their hashes): one
    # line in the head, the rest last.
    assert document.lower().count("<script") == 2
    assert f"<script>{HEAD_SCRIPT}</script>\n<title>" in document
    assert document.endswith(f"<script>{script()}</script>\n</body>\n</html>\n")
    assert not re.search(r"<[a-z][^>]*\son\w+\s*=", document, re.IGNORECASE)
    return page


def hostile_run(factory: Any) -> ScanRun:
    device = factory.covered_hikvision(
        manufacturer=SCRIPT,
        brand=BREAKOUT,
        model="M" * 100_000,
        serial=f"SN{RLO}gpj.exe",
        firmware="V5 https://evil.example/x.js",
        device_type="</td></tr></table><h1>fake</h1>",
        hostnames=(BREAKOUT,),
        notes=(SCRIPT, f"{RLO}looks reversed"),
        rationale=BREAKOUT,
        interface=f"eth0{SCRIPT}",
        evidence=(
            factory.evidence(value=SCRIPT, detail=BREAKOUT, source="&amp; {{ 7*7 }}"),
            factory.evidence(signal="http.server", value="\x1b[31mred\x00"),
        ),
    )
    run: ScanRun = factory.run(
        [device, factory.clear_axis(model=SCRIPT)],
        warnings=(SCRIPT,),
        scope=Scope(targets=(SCRIPT,), interfaces=(BREAKOUT,), excludes=(RLO,), site=SCRIPT),
    )
    return run


def test_contains_every_device(sample_run: ScanRun) -> None:
    document = render(sample_run)
    inventory = section(document, "inventory")
    for device in sample_run.devices:
        assert device.ip is not None and device.mac is not None
        assert device.ip in inventory
        assert device.mac in inventory
    flagged = [d for d in sample_run.devices if d.finding.status is not Status.CLEAR]
    evidence = section(document, "evidence")
    assert evidence.count('<section class="device"') == len(flagged) == 2
    assert "198.18.1.2" in inventory  # other IPs of the proxy-ARP router
    assert "proxy-ARP" in inventory


def test_header_names_site_scope_and_versions(sample_run: ScanRun) -> None:
    document = render(sample_run)
    header = section(document, "scan") + document.split("</header>", 1)[0]
    for expected in (
        "HQ building A",
        "2025-06-03 14:00:00 UTC+02:00",
        "2025-06-03 14:00:42 UTC+02:00",
        "198.18.0.0/24",
        "198.18.0.128/25",
        "eth0",
        "ndaa-scan 0.1.0",
        "2025.06.1",
        "IEEE MA-L (arp-scan copy) 2025.03, data of 2025-03-01",
    ):
        assert expected in header, expected


def test_summary_answers_how_many_where_why_what_next(sample_run: ScanRun) -> None:
    summary = section(render(sample_run), "summary")
    assert "1 covered device found, and 1 that needs review." in summary
    for status, count in (("covered", 1), ("review", 1), ("clear", 2)):
        assert f'card-{status}"><div class="count">{count}</div>' in summary
    assert "built-in method" not in summary  # summary.clear is dict.clear in Jinja
    assert "198.18.0.10 (eth0)" in summary  # where
    assert "Hangzhou Hikvision Digital Technology Company, Section 889 (f)(3)(B)" in summary
    assert "What to do next" in summary
    assert "Incomplete scan." in summary


def test_what_next_quotes_each_basis_reporting_duty(factory: Any) -> None:
    duty = "Tell the contracting officer before teatime (duty text 7f3a)."
    basis = replace(factory.hikvision_basis, reporting_duty=duty)
    run = factory.run([factory.covered_hikvision(basis=basis)], complete=True, warnings=())
    document = render(run)
    assert duty in section(document, "summary")
    assert "business day" not in document  # nothing hard-coded beside the basis text
    assert "Incomplete scan." not in document


def test_clear_scan_says_so_and_points_at_the_limits(factory: Any) -> None:
    run = factory.run([factory.clear_axis()], probes=(), complete=True, warnings=())
    document = render(run)
    assert "No covered equipment was found by the probes that ran." in document
    assert 'href="#evidence"' not in document
    assert "No probe ran." in document


def test_empty_run_renders(factory: Any) -> None:
    run = factory.run([], probes=(), complete=True, warnings=())
    assert "No device answered any probe." in render(run)
    validate(to_dict(run))


def test_probes_and_limits(sample_run: ScanRun) -> None:
    document = render(sample_run)
    probes = section(document, "probes")
    for cell in ('<td class="mono">wsd</td>', "FAILED", "cannot join multicast group"):
        assert cell in probes
    limits = section(document, "limits")
    assert "ARP only sees the local segment" in limits
    assert "not proof" in limits
    assert "198.18.0.128/25" in limits  # excluded ranges
    assert "Probe wsd on eth0: failed" in limits
    assert "No answers</strong> to dhip" in limits
    assert "evidence for a reasonable inquiry, not a legal determination" in limits


def test_evidence_and_basis_in_device_detail(sample_run: ScanRun) -> None:
    detail = section(render(sample_run), "evidence")
    for expected in (
        "A4:14:37",
        "IEEE MA-L (arp-scan copy) 2025-03-01",
        "OUI registered to Hangzhou Hikvision Digital Technology Co.,Ltd.",
        "2025-06-03 14:00:03 UTC+02:00",
        "52.204-24, 52.204-25, 52.204-26",
        "(f)(3)(B)",
        "physical security surveillance of critical infrastructure",
        "within one business day",
        "Section 889(f)(3)(B) names video surveillance equipment produced by Hikvision.",
        "Rule that would apply if confirmed",
    ):
        assert expected in detail, expected


def test_self_contained_with_csp(sample_run: ScanRun) -> None:
    document = render(sample_run)
    page = assert_inert(document)
    metas = [attrs for tag, attrs in page.elements if tag == "meta"]
    policy = csp()
    assert {"http-equiv": "Content-Security-Policy", "content": policy} in metas
    head, tail = (
        base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        for text in (HEAD_SCRIPT, script())
    )
    assert policy == (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{head}' 'sha256-{tail}'; base-uri 'none'; form-action 'none'"
    )
    assert document.index("Content-Security-Policy") < document.index("<style>")
    for tag, attrs in page.elements:
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            assert not value.startswith(("http:", "https:", "//")), (tag, attrs)
    assert "url(" not in document
    assert "@import" not in document
    assert "@media print" in document


def test_environment_escapes_and_is_strict() -> None:
    env = environment()
    assert env.undefined is StrictUndefined
    assert callable(env.autoescape) and env.autoescape(TEMPLATE) is True
    with pytest.raises(UndefinedError):  # a missing value fails the render, never blank text
        env.get_template(TEMPLATE).render()


def test_hostile_device_strings_render_as_text(factory: Any) -> None:
    document = render(hostile_run(factory))
    page = assert_inert(document)
    assert html.escape(SCRIPT, quote=False) in document
    assert BREAKOUT in page.text  # shown to the reader, as text
    assert "<img" not in document
    assert "<h1>fake</h1>" not in document
    assert "&amp; {{ 7*7 }}" in page.text  # shown as typed: not unescaped, not evaluated
    # Direction overrides and control characters are shown, not obeyed.
    assert RLO not in document
    assert "\x1b" not in document and "\x00" not in document
    assert "SN[U+202E]gpj.exe" in page.text
    assert "[U+001B][31mred[U+0000]" in page.text
    # The 100 kB model is clipped, and says so.
    assert len(document) < 60_000
    assert "more characters; see the JSON report]" in page.text


def test_hostile_strings_survive_in_full_in_the_json(factory: Any) -> None:
    run = hostile_run(factory)
    doc = json.loads(JsonFormat().render(run))
    validate(doc)
    device = doc["devices"][0]
    assert device["manufacturer"] == SCRIPT
    assert device["brand"] == BREAKOUT
    assert len(device["model"]) == 100_000
    assert device["serial"] == f"SN{RLO}gpj.exe"


def test_unexpected_vendor_key_still_renders(factory: Any) -> None:
    # The schema refuses it, but the page for a person must still come out, and inert.
    weird = f"acme{RLO}<b>"
    run = factory.run([factory.review_dahua(vendor=weird, basis=None)])
    page = assert_inert(render(run))
    assert "acme[U+202E]<b>" in page.text


def test_visible_and_clip() -> None:
    assert visible("plain text, tabs\tand\nnewlines") == "plain text, tabs\tand\nnewlines"
    assert visible("a\u200bb\u202ec\x7f") == "a[U+200B]b[U+202E]c[U+007F]"
    assert clip("abc", 5) == "abc"
    assert clip("abcdefgh", 5) == "abcde… [3 more characters; see the JSON report]"


TEXT = st.text(st.characters(codec="utf-8"), max_size=60)
IDENTITY_FIELDS = ("manufacturer", "brand", "model", "serial", "firmware", "device_type")


@st.composite
def device_strings(draw: st.DrawFn) -> dict[str, Any]:
    fields: dict[str, Any] = {name: draw(TEXT) for name in IDENTITY_FIELDS}
    fields["hostnames"] = tuple(draw(st.lists(TEXT, max_size=2)))
    fields["notes"] = tuple(draw(st.lists(TEXT, max_size=2)))
    fields["rationale"] = draw(TEXT)
    fields["interface"] = draw(TEXT)
    fields["evidence_text"] = (draw(TEXT), draw(TEXT), draw(TEXT))
    return fields


def random_run(factory: Any, fields: dict[str, Any], status: Status) -> ScanRun:
    value, detail, source = fields.pop("evidence_text")
    evidence = (factory.evidence(value=value, detail=detail, source=source),)
    builder = factory.covered_hikvision if status is Status.COVERED else factory.clear_axis
    run: ScanRun = factory.run(
        [builder(evidence=evidence, **fields)], warnings=(fields["rationale"],)
    )
    return run


@settings(
    max_examples=75, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(fields=device_strings(), status=st.sampled_from([Status.COVERED, Status.CLEAR]))
def test_any_device_strings_give_valid_json_and_inert_html(
    factory: Any, fields: dict[str, Any], status: Status
) -> None:
    run = random_run(factory, fields, status)
    doc = json.loads(JsonFormat().render(run))
    assert doc == to_dict(run)  # round-trips exactly
    validate(doc)
    document = render(run)
    assert_inert(document)
    hidden = [char for char in document if char not in "\n\t" and not char.isprintable()]
    assert all(unicodedata.category(char) in ("Zs", "Cn") for char in hidden), hidden


@settings(
    max_examples=75, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(before=TEXT, after=TEXT, field=st.sampled_from(IDENTITY_FIELDS))
def test_strings_with_markup_never_appear_raw(
    factory: Any, before: str, after: str, field: str
) -> None:
    # "<q" opens a tag the template never writes, so finding the string raw means it was not
    # escaped (a bare "<" or "<td>" would also match the template's own markup).
    hostile = f"{before}<q{after}"
    run = factory.run([factory.covered_hikvision(**{field: hostile})])
    document = render(run)
    assert hostile not in document
    assert "<q" not in document
    assert_inert(document)


def test_clipping_twice_counts_what_the_original_misses() -> None:
    once = clip("M" * 100_000, 2_000)
    assert once.endswith("… [98000 more characters; see the JSON report]")
    assert clip(once, 80) == "M" * 80 + "… [99920 more characters; see the JSON report]"
    # A device cannot fake the marker to misstate its length.
    fake = "x" * 100 + "… [99999 more characters; see the JSON report]"
    assert clip(fake, 80).endswith(f"[{len(fake) - 80} more characters; see the JSON report]")
