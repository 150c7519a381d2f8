"""Validation of Chinese identifiers: resident ID (GB 11643), mobile numbers, division codes;
and NUL in typed text, refused the same way in every app.

Each returns the normalized value or raises ServiceError with a Chinese message.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from shanzhi.core.errors import ServiceError

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$", re.ASCII)
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
_DIVISION_RE = re.compile(r"^\d{12}$", re.ASCII)


def refuse_nul(value: Any, *, label: str, field: str | None = None) -> str:
    """The text as typed, or 422 `invalid_character` when it holds a NUL. PostgreSQL cannot store
    one (a 500) and SQLite would keep it; removing it quietly changed what the person typed. The
    one helper for every app's typed text (一窗通办, 好差评); `field` names the form field."""
    text = str(value or "")
    if "\x00" in text:
        message = f"{label}含有空字符(NUL),请删除后重试"
        details = [{"field": field, "message": message}] if field else None
        raise ServiceError("invalid_character", message, details=details, status=422)
    return text


def _ascii(value: str | None) -> str:
    """Full-width digits and letters (from phone keyboards, pasted text) become ASCII."""
    return unicodedata.normalize("NFKC", value or "")


def id_check_digit(first17: str) -> str:
    """GB 11643-1999 ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def validate_id_number(value: str) -> str:
    """An 18-digit resident ID with a valid birth date and check digit; 'x' is upper-cased."""
    number = _ascii(value).strip().upper()
    if not _ID_RE.match(number):
        raise ServiceError("invalid_id_number", "身份证号应为 18 位,前 17 位为数字,最后一位为数字或 X")
    if number[:6] == "000000" or number[:2] not in _PROVINCES:
        raise ServiceError("invalid_id_number", "身份证号的地址码不正确")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise ServiceError("invalid_id_number", "身份证号中的出生日期不存在") from exc
    if birth < dt.date(1900, 1, 1) or birth > dt.date.today():
        raise ServiceError("invalid_id_number", "身份证号中的出生日期不合理")
    if id_check_digit(number[:17]) != number[17]:
        raise ServiceError("invalid_id_number", "身份证号校验码不正确,请核对后重新输入")
    return number


def validate_mobile(value: str) -> str:
    """A mainland mobile number: 11 digits starting 13–19; "+86"/"86" and spaces are dropped."""
    phone = re.sub(r"[\s-]", "", _ascii(value))
    if phone.startswith("+86"):
        phone = phone[3:]
    elif phone.startswith("86") and len(phone) == 13:
        phone = phone[2:]
    if not _MOBILE_RE.match(phone):
        raise ServiceError("invalid_mobile", "手机号应为 11 位数字,以 13–19 开头")
    return phone


def validate_division_code(value: str) -> str:
    """A 12-digit statistical division code (省2 市2 县2 乡3 村3) with a real province."""
    code = _ascii(value).strip()
    if not _DIVISION_RE.match(code):
        raise ServiceError("invalid_division_code", "统计用区划代码应为 12 位数字")
    if code[:2] not in _PROVINCES:
        raise ServiceError("invalid_division_code", "区划代码的省级代码不存在")
    return code


# The provincial-level codes of GB/T 2260 (mainland plus 71 Taiwan, 81 Hong Kong, 82 Macao).
_PROVINCES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)
