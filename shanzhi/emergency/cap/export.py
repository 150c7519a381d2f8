"""An `Alert` → CAP 1.2 XML, in the schema's element order, coordinates back in "lat,lon"."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from shanzhi.emergency.cap.model import NS_12, Alert, CapArea, Info, ValuePair


def cap_time(value: dt.datetime) -> str:
    """The schema's dateTime form: seconds, an explicit offset, no fraction and no "Z"."""
    if value.tzinfo is None:
        raise ValueError("CAP times must be aware")
    return value.replace(microsecond=0).isoformat()


def _num(value: float) -> str:
    """The shortest text that reads back as the same float (so export → parse is exact)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


class _Writer:
    def __init__(self) -> None:
        self.root = etree.Element(f"{{{NS_12}}}alert", nsmap={None: NS_12})

    @staticmethod
    def add(parent: etree._Element, name: str, text: str | None) -> None:
        if text:
            etree.SubElement(parent, f"{{{NS_12}}}{name}").text = text

    def pairs(self, parent: etree._Element, name: str, pairs: tuple[ValuePair, ...]) -> None:
        for pair in pairs:
            el = etree.SubElement(parent, f"{{{NS_12}}}{name}")
            etree.SubElement(el, f"{{{NS_12}}}valueName").text = pair.value_name
            etree.SubElement(el, f"{{{NS_12}}}value").text = pair.value

    def area(self, parent: etree._Element, area: CapArea) -> None:
        el = etree.SubElement(parent, f"{{{NS_12}}}area")
        etree.SubElement(el, f"{{{NS_12}}}areaDesc").text = area.description or "-"
        for polygon in area.polygons:
            self.add(el, "polygon", " ".join(f"{_num(lat)},{_num(lon)}" for lon, lat in polygon.points))
        for circle in area.circles:
            self.add(el, "circle", f"{_num(circle.lat)},{_num(circle.lon)} {_num(circle.radius_km)}")
        self.pairs(el, "geocode", area.geocodes)
        self.add(el, "altitude", area.altitude)
        self.add(el, "ceiling", area.ceiling)

    def info(self, info: Info) -> None:
        el = etree.SubElement(self.root, f"{{{NS_12}}}info")
        self.add(el, "language", info.language)
        for category in info.categories:
            self.add(el, "category", category)
        etree.SubElement(el, f"{{{NS_12}}}event").text = info.event
        for response in info.response_types:
            self.add(el, "responseType", response)
        self.add(el, "urgency", info.urgency)
        self.add(el, "severity", info.severity)
        self.add(el, "certainty", info.certainty)
        self.add(el, "audience", info.audience)
        self.pairs(el, "eventCode", info.event_codes)
        for name in ("effective", "onset", "expires"):
            value = getattr(info, name)
            self.add(el, name, cap_time(value) if value else None)
        self.add(el, "senderName", info.sender_name)
        self.add(el, "headline", info.headline)
        self.add(el, "description", info.description)
        self.add(el, "instruction", info.instruction)
        self.add(el, "web", info.web)
        self.add(el, "contact", info.contact)
        self.pairs(el, "parameter", info.parameters)
        for resource in info.resources:
            res = etree.SubElement(el, f"{{{NS_12}}}resource")
            etree.SubElement(res, f"{{{NS_12}}}resourceDesc").text = resource.description
            etree.SubElement(res, f"{{{NS_12}}}mimeType").text = resource.mime_type
            self.add(res, "size", str(resource.size) if resource.size is not None else None)
            self.add(res, "uri", resource.uri)
            self.add(res, "digest", resource.digest)
        for area in info.areas:
            self.area(el, area)


def alert_to_xml(alert: Alert) -> bytes:
    """CAP 1.2 XML (UTF-8, with declaration). A signature the source carried is not copied: it
    signed the original bytes, which this is not."""
    writer = _Writer()
    root = writer.root
    for name, value in (
        ("identifier", alert.identifier),
        ("sender", alert.sender),
        ("sent", cap_time(alert.sent)),
        ("status", alert.status),
        ("msgType", alert.msg_type),
        ("source", alert.source),
        ("scope", alert.scope),
        ("restriction", alert.restriction),
        ("addresses", alert.addresses),
    ):
        writer.add(root, name, value)
    for code in alert.codes:
        writer.add(root, "code", code)
    writer.add(root, "note", alert.note)
    writer.add(root, "references", " ".join(ref.text() for ref in alert.references))
    writer.add(root, "incidents", alert.incidents)
    for info in alert.infos:
        writer.info(info)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
