"""Resident ID, mobile and division-code validation, and masking of personal data."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from shanzhi.core.errors import ServiceError
from shanzhi.core.masking import MaskPersonalDataFilter, mask_id_number, mask_phone, mask_text
from shanzhi.core.validators import validate_division_code, validate_id_number, validate_mobile


def check_char(first17: str) -> str:
    """GB 11643-1999, written out from the standard rather than from our module: position i
    (counted from the right, the check character being i = 1) has weight 2^(i-1) mod 11, and
    the check value is (12 - sum mod 11) mod 11, with 10 written as X."""
    total = sum(int(d) * pow(2, 17 - k, 11) for k, d in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def make_id(address: str, birth: str, seq: str) -> str:
    first17 = address + birth + seq
    return first17 + check_char(first17)


def wrong_check(number: str) -> str:
    other = "0" if number[-1] != "0" else "1"
    return number[:-1] + other


# --- resident ID numbers --------------------------------------------------------------------------


def test_the_well_known_sample_is_valid():
    assert check_char("11010519491231002") == "X"
    assert validate_id_number("11010519491231002X") == "11010519491231002X"


@pytest.mark.parametrize(
    ("address", "birth", "seq"),
    [
        ("331199", "19900307", "123"),
        ("110101", "20000229", "001"),
        ("820000", "19991220", "45"),
        ("650102", "19000101", "999"),
    ],
)
def test_computed_ids_are_valid(address, birth, seq):
    number = make_id(address, birth, seq.ljust(3, "0"))
    assert validate_id_number(number) == number


def test_check_digit_x_cases_and_lowercase_x():
    # Find sequence numbers whose check character is X, so lower-case 'x' is really exercised.
    number = next(
        make_id("331199", "19850615", f"{n:03d}")
        for n in range(1000)
        if check_char(f"33119919850615{n:03d}") == "X"
    )
    assert validate_id_number(number.lower()) == number
    assert validate_id_number(f"  {number.lower()} ") == number


def test_wrong_check_digit():
    number = make_id("331199", "19900307", "123")
    with pytest.raises(ServiceError) as err:
        validate_id_number(wrong_check(number))
    assert err.value.code == "invalid_id_number"
    assert "校验码" in err.value.message


def test_february_30_is_not_a_birth_date():
    with pytest.raises(ServiceError) as err:
        validate_id_number(make_id("331199", "19900230", "123"))
    assert "出生日期不存在" in err.value.message
    with pytest.raises(ServiceError):
        validate_id_number(make_id("331199", "19010229", "123"))  # 1901 is not a leap year


def test_future_birth_date_is_refused():
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    with pytest.raises(ServiceError) as err:
        validate_id_number(make_id("331199", tomorrow.strftime("%Y%m%d"), "123"))
    assert "不合理" in err.value.message
    today = dt.date.today().strftime("%Y%m%d")
    assert validate_id_number(make_id("331199", today, "123"))  # a newborn's ID is fine
    with pytest.raises(ServiceError):
        validate_id_number(make_id("331199", "18991231", "123"))


@pytest.mark.parametrize(
    "bad",
    [
        "110105491231002",  # the old 15-digit format
        "11010519491231002",  # 17 digits
        "11010519491231002X1",  # 19
        "11010519491231002A",
        "1101051949123100AX",
        "ABCDEF19491231002X",
        "",
        "1101 0519 4912 3100 2X",
    ],
)
def test_malformed_ids(bad):
    with pytest.raises(ServiceError) as err:
        validate_id_number(bad)
    assert err.value.code == "invalid_id_number"


def test_unknown_province_or_zero_address():
    for address in ("000000", "990101", "100101"):
        with pytest.raises(ServiceError) as err:
            validate_id_number(make_id(address, "19900307", "123"))
        assert "地址码" in err.value.message


# --- mobile numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["13812345678", "+86 138 1234 5678", "+8613812345678", "8613812345678", "138-1234-5678", " 13812345678 "],
)
def test_mobiles_are_normalized(raw):
    assert validate_mobile(raw) == "13812345678"


def test_every_mobile_prefix_13_to_19():
    for second in "3456789":
        assert validate_mobile(f"1{second}012345678") == f"1{second}012345678"


@pytest.mark.parametrize(
    "bad",
    [
        "138123456789",
        "1381234567",
        "12812345678",
        "10012345678",
        "23812345678",
        "1381234567a",
        "",
        "+85213812345678",
    ],
)
def test_bad_mobiles(bad):
    with pytest.raises(ServiceError) as err:
        validate_mobile(bad)
    assert err.value.code == "invalid_mobile"


# --- division codes -------------------------------------------------------------------------------


def test_division_codes():
    assert validate_division_code("331199101201") == "331199101201"
    assert validate_division_code(" 110101001000 ") == "110101001000"
    for bad in ("33119910120", "3311991012011", "33119910120a", "991199101201", ""):
        with pytest.raises(ServiceError) as err:
            validate_division_code(bad)
        assert err.value.code == "invalid_division_code"


# --- masking --------------------------------------------------------------------------------------


def test_mask_id_number():
    assert mask_id_number("110101199003071234") == "110101********1234"
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_id_number("") == ""
    assert mask_id_number("12345") == "*****"  # not an ID: reveal nothing


def test_mask_phone():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("057112345") == "*****2345"
    assert mask_phone("") == ""


def test_mask_text_in_free_text():
    text = "张三,身份证110101199003071234,电话13812345678;李四 11010519491231002x 手机 139 0000 0000。"
    masked = mask_text(text)
    assert "110101********1234" in masked
    assert "138****5678" in masked
    assert "110105********002x" in masked
    assert "139****0000" in masked  # spaced the way people type it
    for secret in ("199003071234", "12345678", "19491231"):
        assert secret not in masked
    # Not personal data: left alone.
    assert (
        mask_text("工单 2026031300123 已派遣,金额 1234.56 元") == "工单 2026031300123 已派遣,金额 1234.56 元"
    )


def test_mask_text_with_country_code():
    masked = mask_text("来电 +8613812345678 反映噪声")
    assert "13812345678" not in masked
    assert "138****5678" in masked


def test_logging_filter_masks_a_record(caplog):
    logger = logging.getLogger("shanzhi.tests.masking")
    logger.addFilter(MaskPersonalDataFilter())
    try:
        with caplog.at_level(logging.INFO, logger="shanzhi.tests.masking"):
            logger.info("resident %s phone %s", "110101199003071234", "13812345678")
            logger.info("plain message 42")
    finally:
        logger.filters.clear()
    assert caplog.records[0].getMessage() == "resident 110101********1234 phone 138****5678"
    assert "110101199003071234" not in caplog.text
    assert "13812345678" not in caplog.text
    assert caplog.records[1].getMessage() == "plain message 42"


def test_the_configured_console_handler_masks(capsys):
    # settings.LOGGING attaches the filter to the root console handler: what reaches it is masked.
    root = logging.getLogger()
    handlers = [h for h in root.handlers if any(isinstance(f, MaskPersonalDataFilter) for f in h.filters)]
    assert handlers, "settings.LOGGING must attach MaskPersonalDataFilter to the console handler"
    record = logging.LogRecord(
        "shanzhi.x", logging.WARNING, __file__, 1, "call from %s", ("13812345678",), None
    )
    for handler in handlers:
        handler.filter(record)
    assert record.getMessage() == "call from 138****5678"
