"""CAP 1.2 (Common Alerting Protocol): safe parsing, schema validation, typed values, export, and
the area an alert covers. Nothing here writes to the database."""

from shanzhi.emergency.cap.export import alert_to_xml, cap_time
from shanzhi.emergency.cap.model import Alert, CapArea, CapCircle, CapPolygon, Info, Reference, ValuePair
from shanzhi.emergency.cap.parse import MAX_BYTES, parse_cap, validate_cap

__all__ = [
    "MAX_BYTES",
    "Alert",
    "CapArea",
    "CapCircle",
    "CapPolygon",
    "Info",
    "Reference",
    "ValuePair",
    "alert_to_xml",
    "cap_time",
    "parse_cap",
    "validate_cap",
]
