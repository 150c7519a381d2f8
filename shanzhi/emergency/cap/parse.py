"""Bytes → a validated CAP 1.2 `Alert`, or a ServiceError that says why not.

Four gates, cheapest first: size; defusedxml (no DTD, no entities, no external references, so
billion-laughs bombs and XXE never reach a parser that would expand them); the OASIS CAP 1.2
schema (lxml, with network and DTD loading off); then what the schema cannot say (references
on updates, closed polygons of four or more points, circles with a radius that is not negative).

A CAP 1.1 message is taken when it is also valid under the 1.2 schema once its namespace is
renamed (1.2 only tightened 1.1); any other namespace is refused.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from pathlib import Path
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from lxml import etree

from shanzhi.core.errors import ServiceError
from shanzhi.emergency.cap.model import (
    NS_11,
    NS_12,
    Alert,
    CapArea,
    CapCircle,
    CapPolygon,
    Info,
    Reference,
    Resource,
    ValuePair,
)

MAX_BYTES = 1_000_000
MAX_ID = 255
SCHEMA_PATH = Path(__file__).with_name("data") / "CAP-v1.2.xsd"
NS = {"c": NS_12}
# lxml schema objects must not be shared between threads; each thread builds its own once.
_local = threading.local()


def _schema() -> etree.XMLSchema:
    schema = getattr(_local, "schema", None)
    if schema is None:
        parser = etree.XMLParser(no_network=True, resolve_entities=False)
        schema = etree.XMLSchema(etree.parse(str(SCHEMA_PATH), parser))
        _local.schema = schema
    return schema


def _refuse(code: str, message: str, *, details: object = None, status: int = 422) -> ServiceError:
    return ServiceError(code, message, details=details, status=status)


# --- the gates ----------------------------------------------------------------------------------


def _check_safe(xml: bytes) -> None:
    """defusedxml over the whole document: refuses any DTD, entity or external reference."""
    try:
        SafeET.fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise _refuse(
            "cap_forbidden_xml",
            "预警 XML 含有 DTD、实体声明或外部引用,出于安全原因拒收(CAP 消息不需要这些)",
            details={"reason": type(exc).__name__},
        ) from exc
    except ParseError as exc:
        raise _refuse("cap_malformed", f"预警不是格式正确的 XML:{exc}") from exc


def _lxml_tree(xml: bytes) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_pis=True
    )
    try:
        return etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise _refuse("cap_malformed", f"预警不是格式正确的 XML:{exc}") from exc


def _namespace(root: etree._Element) -> str:
    tag = root.tag if isinstance(root.tag, str) else ""
    qname = etree.QName(tag) if tag else None
    if qname is None or qname.localname != "alert":
        raise _refuse("cap_namespace", f"根元素应为 CAP 的 <alert>,收到的是 <{tag or '?'}>")
    namespace = qname.namespace or ""
    if namespace == NS_12:
        return "1.2"
    if namespace == NS_11:
        for el in root.iter():
            if isinstance(el.tag, str) and el.tag.startswith("{" + NS_11 + "}"):
                el.tag = "{" + NS_12 + "}" + etree.QName(el).localname
        etree.cleanup_namespaces(root)
        return "1.1"
    raise _refuse(
        "cap_namespace",
        f"命名空间“{namespace or '(无)'}”不是 CAP 1.2(应为 {NS_12})",
        details={"namespace": namespace},
    )


def _validate_schema(root: etree._Element, *, version: str) -> None:
    schema = _schema()
    if schema.validate(root):
        return
    errors = [{"line": e.line, "message": e.message} for e in list(schema.error_log)[:10]]
    first = errors[0] if errors else {"line": 0, "message": ""}
    prefix = "CAP 1.1 消息按 CAP 1.2 校验不通过" if version == "1.1" else "不符合 CAP 1.2 规范"
    raise _refuse("cap_schema", f"{prefix}:第 {first['line']} 行:{first['message']}", details=errors)


# --- reading the validated tree -----------------------------------------------------------------


def _text(el: etree._Element, name: str) -> str:
    return (el.findtext(f"c:{name}", default="", namespaces=NS) or "").strip()


def _texts(el: etree._Element, name: str) -> tuple[str, ...]:
    return tuple((child.text or "").strip() for child in el.findall(f"c:{name}", NS))


def _time(el: etree._Element, name: str) -> dt.datetime | None:
    text = _text(el, name)
    return dt.datetime.fromisoformat(text) if text else None  # the schema fixed its shape


def _pairs(el: etree._Element, name: str) -> tuple[ValuePair, ...]:
    return tuple(
        ValuePair(value_name=_text(child, "valueName"), value=_text(child, "value"))
        for child in el.findall(f"c:{name}", NS)
    )


def _point(pair: str, *, where: str) -> tuple[float, float]:
    """CAP "lat,lon" → (lon, lat)."""
    parts = pair.split(",")
    try:
        if len(parts) != 2:
            raise ValueError(pair)
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError as exc:
        raise _refuse("cap_area_invalid", f"{where}的坐标“{pair}”应为“纬度,经度”") from exc
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise _refuse("cap_area_invalid", f"{where}的坐标“{pair}”超出经纬度范围")
    return lon, lat


def _polygon(text: str, *, where: str) -> CapPolygon:
    points = tuple(_point(pair, where=where) for pair in text.split())
    if len(points) < 4:
        raise _refuse("cap_area_invalid", f"{where}只有 {len(points)} 个点;多边形至少要 4 个点(首尾相同)")
    if points[0] != points[-1]:
        raise _refuse("cap_area_invalid", f"{where}没有闭合:第一个点和最后一个点必须相同")
    return CapPolygon(points=points)


def _circle(text: str, *, where: str) -> CapCircle:
    parts = text.split()
    if len(parts) != 2:
        raise _refuse("cap_area_invalid", f"{where}应为“纬度,经度 半径(千米)”,收到“{text}”")
    lon, lat = _point(parts[0], where=where)
    try:
        radius = float(parts[1])
    except ValueError as exc:
        raise _refuse("cap_area_invalid", f"{where}的半径“{parts[1]}”不是数字") from exc
    if not math.isfinite(radius) or radius < 0:
        raise _refuse("cap_area_invalid", f"{where}的半径 {parts[1]} 千米无效:半径不能为负数")
    return CapCircle(lon=lon, lat=lat, radius_km=radius)


def _area(el: etree._Element, *, label: str) -> CapArea:
    # An empty <polygon/> or <circle/> carries no shape (some real feeds send one): it is skipped.
    polygons = tuple(
        _polygon(text, where=f"{label}第 {i + 1} 个多边形")
        for i, text in enumerate(_texts(el, "polygon"))
        if text
    )
    circles = tuple(
        _circle(text, where=f"{label}第 {i + 1} 个圆") for i, text in enumerate(_texts(el, "circle")) if text
    )
    return CapArea(
        description=_text(el, "areaDesc"),
        polygons=polygons,
        circles=circles,
        geocodes=_pairs(el, "geocode"),
        altitude=_text(el, "altitude"),
        ceiling=_text(el, "ceiling"),
    )


def _resource(el: etree._Element) -> Resource:
    size = _text(el, "size")
    return Resource(
        description=_text(el, "resourceDesc"),
        mime_type=_text(el, "mimeType"),
        size=int(size) if size else None,
        uri=_text(el, "uri"),
        digest=_text(el, "digest"),
    )


def _info(el: etree._Element, *, number: int) -> Info:
    return Info(
        language=_text(el, "language") or "en-US",
        categories=_texts(el, "category"),
        event=_text(el, "event"),
        response_types=_texts(el, "responseType"),
        urgency=_text(el, "urgency"),
        severity=_text(el, "severity"),
        certainty=_text(el, "certainty"),
        audience=_text(el, "audience"),
        event_codes=_pairs(el, "eventCode"),
        effective=_time(el, "effective"),
        onset=_time(el, "onset"),
        expires=_time(el, "expires"),
        sender_name=_text(el, "senderName"),
        headline=_text(el, "headline"),
        description=_text(el, "description"),
        instruction=_text(el, "instruction"),
        web=_text(el, "web"),
        contact=_text(el, "contact"),
        parameters=_pairs(el, "parameter"),
        resources=tuple(_resource(r) for r in el.findall("c:resource", NS)),
        areas=tuple(
            _area(a, label=f"第 {number} 个 info 第 {i + 1} 个 area ")
            for i, a in enumerate(el.findall("c:area", NS))
        ),
    )


def _references(text: str) -> tuple[Reference, ...]:
    out = []
    for item in text.split():
        parts = item.split(",")
        if len(parts) != 3 or not all(parts):
            raise _refuse(
                "cap_invalid",
                f"references 中的“{item}”应为“发送方,编号,发送时间”",
                details={"reference": item},
            )
        out.append(Reference(sender=parts[0], identifier=parts[1], sent=parts[2]))
    return tuple(out)


def _token(value: str, *, label: str) -> str:
    if not value or len(value) > MAX_ID or any(ch.isspace() or ch in ",<&" for ch in value):
        raise _refuse(
            "cap_invalid", f"{label}“{value[:80]}”无效:不能为空、不能超过 {MAX_ID} 字符、不能含空格或逗号"
        )
    return value


def _alert(root: etree._Element, *, version: str) -> Alert:
    msg_type = _text(root, "msgType")
    references = _references(_text(root, "references"))
    if msg_type in ("Update", "Cancel", "Ack", "Error") and not references:
        raise _refuse(
            "cap_invalid",
            f"msgType 为 {msg_type} 的消息必须在 <references> 中指明所针对的预警,但 references 为空",
        )
    sent = _time(root, "sent")
    assert sent is not None  # required by the schema
    return Alert(
        identifier=_token(_text(root, "identifier"), label="identifier"),
        sender=_token(_text(root, "sender"), label="sender"),
        sent=sent,
        status=_text(root, "status"),
        msg_type=msg_type,
        scope=_text(root, "scope"),
        source=_text(root, "source"),
        restriction=_text(root, "restriction"),
        addresses=_text(root, "addresses"),
        codes=_texts(root, "code"),
        note=_text(root, "note"),
        references=references,
        incidents=_text(root, "incidents"),
        infos=tuple(_info(el, number=i + 1) for i, el in enumerate(root.findall("c:info", NS))),
        version=version,
    )


def parse_cap(xml: bytes) -> Alert:
    """A CAP 1.2 (or 1.2-valid 1.1) alert from its bytes; ServiceError with the reason otherwise."""
    if not isinstance(xml, bytes | bytearray):
        raise TypeError("parse_cap takes bytes")
    if len(xml) > MAX_BYTES:
        raise _refuse("cap_too_large", f"预警消息过大({len(xml)} 字节),上限为 {MAX_BYTES} 字节", status=413)
    if not bytes(xml).strip():
        raise _refuse("cap_empty", "预警内容为空")
    _check_safe(bytes(xml))
    root = _lxml_tree(bytes(xml))
    version = _namespace(root)
    _validate_schema(root, version=version)
    return _alert(root, version=version)


def validate_cap(xml: bytes) -> None:
    """Schema check only (for exported XML and tests): ServiceError when not valid CAP 1.2."""
    _check_safe(xml)
    root = _lxml_tree(xml)
    if _namespace(root) != "1.2":
        raise _refuse("cap_namespace", "导出的消息必须是 CAP 1.2")
    _validate_schema(root, version="1.2")
