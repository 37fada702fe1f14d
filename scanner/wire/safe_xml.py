"""Bounded, hostile-input XML parsing shared by the XML-speaking wire modules.

defusedxml forbids DTDs, entity declarations and external references (XML bombs, XXE); on top of
that we cap the input size, the nesting depth and the element count, and never raise: a reply we
cannot read is None, so one broken device never costs a scan anything but its own evidence.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element, TreeBuilder

from defusedxml.ElementTree import DefusedXMLParser

MAX_XML = 64 * 1024  # bytes of a document we are willing to look at
MAX_DEPTH = 32
MAX_ELEMENTS = 4096
_DECL = re.compile(r"^\s*<\?xml[^>]{0,200}\?>")


class _Limit(Exception):
    """The document is deeper or bigger than any real discovery reply."""


class _BoundedBuilder(TreeBuilder):
    def __init__(self, max_depth: int, max_elements: int) -> None:
        super().__init__()
        self._depth = 0
        self._count = 0
        self._max_depth = max_depth
        self._max_elements = max_elements

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        self._depth += 1
        self._count += 1
        if self._depth > self._max_depth or self._count > self._max_elements:
            raise _Limit
        return super().start(tag, attrs)

    def end(self, tag: str) -> Element:
        self._depth -= 1
        return super().end(tag)


def _parse_once(data: bytes | str, max_depth: int, max_elements: int) -> Element | None:
    parser = DefusedXMLParser(
        target=_BoundedBuilder(max_depth, max_elements),
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )
    try:
        parser.feed(data)
        root = parser.close()
    except Exception:  # ParseError, DefusedXmlException, _Limit, UnicodeError, ...
        return None
    return root if isinstance(root, Element) else None


def parse_xml(
    data: bytes,
    *,
    max_bytes: int = MAX_XML,
    max_depth: int = MAX_DEPTH,
    max_elements: int = MAX_ELEMENTS,
) -> Element | None:
    """The document's root element, or None (oversized, malformed, a bomb, too deep).

    Invalid UTF-8 is not fatal: real firmware sends Latin-1 names in UTF-8 documents, so a
    document that fails on its bytes is tried once more decoded with replacement characters.
    """
    if not data or len(data) > max_bytes:
        return None
    root = _parse_once(data, max_depth, max_elements)
    if root is not None:
        return root
    try:
        text = data.decode("utf-8", errors="replace")
    except Exception:
        return None
    text = _DECL.sub("", text, count=1)
    return _parse_once(text, max_depth, max_elements)


def local(tag: object) -> str:
    """`{namespace}Name` -> `Name`; prefixes vary by vendor, local names do not."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def namespace(tag: object) -> str:
    if not isinstance(tag, str) or not tag.startswith("{"):
        return ""
    return tag[1:].split("}", 1)[0]


def child(elem: Element | None, name: str) -> Element | None:
    """The first direct child with this local name."""
    if elem is None:
        return None
    for sub in elem:
        if local(sub.tag) == name:
            return sub
    return None


def text(elem: Element | None, limit: int = 1024) -> str:
    """The element's own text, stripped and bounded ("" when absent)."""
    if elem is None or elem.text is None:
        return ""
    return elem.text.strip()[:limit]
