"""Masking of personal data for roles that do not need the full value, and for every log line."""

from __future__ import annotations

import logging
import re

_ID_IN_TEXT = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
_MOBILE_IN_TEXT = re.compile(r"(?:(?<=86)|(?<!\d))(1[3-9]\d)[ -]?\d{4}[ -]?(\d{4})(?!\d)")


def mask_id_number(value: str) -> str:
    """110101199003071234 → 110101********1234."""
    if not value:
        return ""
    if len(value) != 18:
        return "*" * len(value)
    return f"{value[:6]}{'*' * 8}{value[14:]}"


def mask_phone(value: str) -> str:
    """13812345678 → 138****5678; other lengths keep only the last four digits."""
    if not value:
        return ""
    if len(value) == 11:
        return f"{value[:3]}****{value[7:]}"
    return "*" * max(len(value) - 4, 0) + value[-4:]


def mask_text(text: str) -> str:
    """Mask every ID number and mobile number that appears inside free text."""
    text = _ID_IN_TEXT.sub(lambda m: f"{m.group(1)}{'*' * 8}{m.group(2)}", text)
    return _MOBILE_IN_TEXT.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)


class MaskPersonalDataFilter(logging.Filter):
    """Rewrites each record's message so no ID or phone number reaches a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix here
            return True
        if record.exc_info and not record.exc_text:
            # Tracebacks quote argument values; mask them too.
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
