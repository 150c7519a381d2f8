"""GeoReport v2 bodies in both formats from one plain payload (dicts, lists, scalars).

XML is built element by element with xml.etree (never by string concatenation), with the spec's
element names: a list under `services` holds `<service>` items, under `service_requests`
`<request>`, under `errors` `<error>`, and so on. Nothing from clients is ever parsed as XML.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from django.http import HttpResponse

XML = "xml"
JSON = "json"
CONTENT_TYPES = {XML: "text/xml; charset=utf-8", JSON: "application/json; charset=utf-8"}

# The element name of each item of a list, by the name of the list's element.
LIST_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}

# Characters XML 1.0 cannot carry at all (a case text from another channel may hold them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list):
        item_tag = LIST_ITEMS[element.tag]
        for item in value:
            _fill(ET.SubElement(element, item_tag), item)
    else:
        element.text = _text(value)


def to_xml(*, root: str, payload: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, payload)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def to_json(*, payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def respond(*, fmt: str, root: str, payload: Any, status: int = 200) -> HttpResponse:
    """`root` names the XML document element; JSON is the payload itself (a list or an object)."""
    body = to_xml(root=root, payload=payload) if fmt == XML else to_json(payload=payload)
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def error_response(*, fmt: str, status: int, description: str) -> HttpResponse:
    """The spec's error list: [{"code": 400, "description": "..."}] / <errors><error>…"""
    return respond(
        fmt=fmt, root="errors", payload=[{"code": status, "description": description}], status=status
    )
