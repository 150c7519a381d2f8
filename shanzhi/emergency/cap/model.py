"""A CAP 1.2 alert as typed, immutable values: what the parser yields and the exporter writes.

Coordinates are WGS-84 (lon, lat) here, whatever order the XML used ("lat,lon" in CAP).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

NS_12 = "urn:oasis:names:tc:emergency:cap:1.2"
NS_11 = "urn:oasis:names:tc:emergency:cap:1.1"

STATUSES = ("Actual", "Exercise", "System", "Test", "Draft")
MSG_TYPES = ("Alert", "Update", "Cancel", "Ack", "Error")
SCOPES = ("Public", "Restricted", "Private")
CATEGORIES = (
    "Geo",
    "Met",
    "Safety",
    "Security",
    "Rescue",
    "Fire",
    "Health",
    "Env",
    "Transport",
    "Infra",
    "CBRNE",
    "Other",
)
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")

# Chinese statistical division codes: 6 (county), 9 (township) or 12 digits (village).
DIVISION_CODE = re.compile(r"^(\d{6}|\d{9}|\d{12})$")


@dataclass(frozen=True)
class Reference:
    """One earlier message named in <references>: "sender,identifier,sent"."""

    sender: str
    identifier: str
    sent: str

    def text(self) -> str:
        return f"{self.sender},{self.identifier},{self.sent}"


@dataclass(frozen=True)
class ValuePair:
    """<eventCode>, <parameter> and <geocode>: a valueName with a value."""

    value_name: str
    value: str


@dataclass(frozen=True)
class CapPolygon:
    points: tuple[tuple[float, float], ...]  # (lon, lat), closed: first == last


@dataclass(frozen=True)
class CapCircle:
    lon: float
    lat: float
    radius_km: float


@dataclass(frozen=True)
class Resource:
    description: str
    mime_type: str
    size: int | None = None
    uri: str = ""
    digest: str = ""


@dataclass(frozen=True)
class CapArea:
    description: str
    polygons: tuple[CapPolygon, ...] = ()
    circles: tuple[CapCircle, ...] = ()
    geocodes: tuple[ValuePair, ...] = ()
    altitude: str = ""
    ceiling: str = ""

    def division_codes(self) -> tuple[str, ...]:
        """Geocode values shaped like Chinese division codes, padded to 12 digits."""
        out: list[str] = []
        for code in self.geocodes:
            value = code.value.strip()
            if DIVISION_CODE.match(value):
                out.append(value.ljust(12, "0"))
        return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class Info:
    categories: tuple[str, ...]
    event: str
    urgency: str
    severity: str
    certainty: str
    language: str = "en-US"
    response_types: tuple[str, ...] = ()
    audience: str = ""
    event_codes: tuple[ValuePair, ...] = ()
    effective: dt.datetime | None = None
    onset: dt.datetime | None = None
    expires: dt.datetime | None = None
    sender_name: str = ""
    headline: str = ""
    description: str = ""
    instruction: str = ""
    web: str = ""
    contact: str = ""
    parameters: tuple[ValuePair, ...] = ()
    resources: tuple[Resource, ...] = ()
    areas: tuple[CapArea, ...] = ()


@dataclass(frozen=True)
class Alert:
    identifier: str
    sender: str
    sent: dt.datetime
    status: str
    msg_type: str
    scope: str
    source: str = ""
    restriction: str = ""
    addresses: str = ""
    codes: tuple[str, ...] = ()
    note: str = ""
    references: tuple[Reference, ...] = ()
    incidents: str = ""
    infos: tuple[Info, ...] = ()
    # "1.2", or "1.1" for a CAP 1.1 message that is also valid as 1.2 (taken as 1.2).
    version: str = field(default="1.2", compare=False)

    @property
    def primary(self) -> Info | None:
        """The block shown to people: the first Chinese one, else the first."""
        for info in self.infos:
            if info.language.lower().startswith("zh"):
                return info
        return self.infos[0] if self.infos else None

    @property
    def areas(self) -> tuple[CapArea, ...]:
        return tuple(area for info in self.infos for area in info.areas)
