"""Every real CAP message in cap_samples/: taken or refused, and why (the schema decides first)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shanzhi.core.errors import ServiceError
from shanzhi.emergency.cap import alert_to_xml, parse_cap, validate_cap

SAMPLES = Path(__file__).with_name("cap_samples")


def read(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


# Valid CAP 1.2, as the OASIS schema says.
@pytest.mark.parametrize(
    "name, msg_type, infos",
    [
        ("australia_bom.cap", "Alert", 1),  # prefixed namespace (cap:alert), geocodes only
        ("iceland_met_office.cap", "Alert", 2),  # two languages, a polygon each
        ("mexico.xml", "Update", 1),  # an update with one reference
        ("no_info_tag.cap", "Cancel", 0),  # a cancel without <info>, with an XML signature
        ("ph.cap", "Alert", 1),  # a typhoon with a polygon
        ("taiwan.cap", "Alert", 1),  # Chinese text, geocode only
    ],
)
def test_valid_cap12_is_taken(name, msg_type, infos):
    alert = parse_cap(read(name))
    assert alert.version == "1.2"
    assert alert.msg_type == msg_type
    assert len(alert.infos) == infos


# CAP 1.1 messages that are also valid under the 1.2 schema once renamed: taken as 1.2.
@pytest.mark.parametrize(
    "name", ["earthquake.cap", "no_optional_fields.cap", "weather.cap"]
)  # circle of radius 0; the minimal alert; an empty <polygon/> with FIPS geocodes
def test_cap11_valid_as_12_is_taken(name):
    alert = parse_cap(read(name))
    assert alert.version == "1.1"
    validate_cap(alert_to_xml(alert))


def test_invalid_cap_lacks_scope():
    """invalid.cap has no <scope>, which CAP 1.2 requires: the schema says so, with the line."""
    with pytest.raises(ServiceError) as err:
        parse_cap(read("invalid.cap"))
    assert err.value.code == "cap_schema"
    assert "第 9 行" in err.value.message and "scope" in err.value.message


def test_invalid_xmlns_is_a_wrong_namespace():
    """invalid_xmlns.cap uses urn:oasis:names:tc:emergency:alerts:1.2, which is not CAP."""
    with pytest.raises(ServiceError) as err:
        parse_cap(read("invalid_xmlns.cap"))
    assert err.value.code == "cap_namespace"
    assert "alerts:1.2" in err.value.message


def test_canada_errors_is_an_update_without_references():
    """canada_errors.cap passes the schema (references is a string there) but an Update with an
    empty <references/> names nothing to update: CAP requires the earlier message."""
    with pytest.raises(ServiceError) as err:
        parse_cap(read("canada_errors.cap"))
    assert err.value.code == "cap_invalid"
    assert "references" in err.value.message


def test_noaa_errors_has_empty_urgency_severity_certainty():
    """noaa_errors.cap (CAP 1.1) has empty <urgency>, <severity>, <certainty>: not in the
    enumerations, so not valid as 1.2 (it also has an empty references and a broken polygon)."""
    with pytest.raises(ServiceError) as err:
        parse_cap(read("noaa_errors.cap"))
    assert err.value.code == "cap_schema"
    assert "urgency" in err.value.message
    assert {e["line"] for e in err.value.details} >= {17, 18, 19}


def test_every_sample_has_a_verdict():
    tested = {
        "australia_bom.cap", "iceland_met_office.cap", "mexico.xml", "no_info_tag.cap", "ph.cap",
        "taiwan.cap", "earthquake.cap", "no_optional_fields.cap", "weather.cap", "invalid.cap",
        "invalid_xmlns.cap", "canada_errors.cap", "noaa_errors.cap",
    }  # fmt: skip
    on_disk = {p.name for p in SAMPLES.iterdir() if p.suffix in (".cap", ".xml")}
    assert on_disk == tested


@pytest.mark.parametrize(
    "name",
    [
        "australia_bom.cap", "iceland_met_office.cap", "mexico.xml", "no_info_tag.cap", "ph.cap",
        "taiwan.cap", "earthquake.cap", "no_optional_fields.cap", "weather.cap",
    ],
)  # fmt: skip
def test_export_round_trips_and_validates(name):
    alert = parse_cap(read(name))
    xml = alert_to_xml(alert)
    validate_cap(xml)
    assert parse_cap(xml) == alert


def test_polygon_is_read_as_lon_lat():
    """ph.cap: "21,120 21,130 5,130 …" is lat,lon in CAP; the values hold lon first."""
    polygon = parse_cap(read("ph.cap")).infos[0].areas[0].polygons[0]
    assert polygon.points[0] == (120.0, 21.0)
    assert polygon.points[1] == (130.0, 21.0)
    assert polygon.points[0] == polygon.points[-1]


def test_taiwan_chinese_text():
    info = parse_cap(read("taiwan.cap")).primary
    assert info is not None
    assert info.language == "zh-tw"
    assert info.headline == "明德水庫:洩洪中"
    assert info.areas[0].description == "苗栗縣頭屋鄉"
