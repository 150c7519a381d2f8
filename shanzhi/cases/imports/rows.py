"""One row of a hotline export → a checked record, or the reasons (in Chinese) it was refused.

The columns are found by their Chinese header, in any order; unknown columns are ignored.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field

from django.utils import timezone
from openpyxl.utils.datetime import from_excel

from shanzhi.cases.imports.reader import Cell, cell_text
from shanzhi.cases.models import Satisfaction
from shanzhi.core.errors import ServiceError

SOURCE_ID = "工单编号"
RECEIVED = "来电时间"
TEXT = "诉求内容"
ADDRESS = "地址"
LON = "经度"
LAT = "纬度"
CLOSED = "办结时间"
SATISFACTION = "满意度"
REQUIRED = (SOURCE_ID, RECEIVED, TEXT)
KNOWN = (SOURCE_ID, RECEIVED, TEXT, ADDRESS, LON, LAT, CLOSED, SATISFACTION)

MAX_SOURCE_ID = 64
MAX_TEXT = 4000  # the same limit as every other channel (cases.services.MAX_TEXT)
MAX_ADDRESS = 255
EARLIEST = dt.datetime(1990, 1, 1)
FUTURE_SLACK = dt.timedelta(minutes=10)  # clocks of the exporting system may run a little fast

# The five grades, plus the words exports use for them. "一般" is the middle of a three-grade
# scale (满意/一般/不满意), so it is 基本满意.
SATISFACTION_WORDS: dict[str, str] = {
    "非常满意": Satisfaction.VERY_SATISFIED,
    "很满意": Satisfaction.VERY_SATISFIED,
    "十分满意": Satisfaction.VERY_SATISFIED,
    "满意": Satisfaction.SATISFIED,
    "比较满意": Satisfaction.SATISFIED,
    "较满意": Satisfaction.SATISFIED,
    "基本满意": Satisfaction.BASIC,
    "一般": Satisfaction.BASIC,
    "一般满意": Satisfaction.BASIC,
    "不满意": Satisfaction.UNSATISFIED,
    "不太满意": Satisfaction.UNSATISFIED,
    "较不满意": Satisfaction.UNSATISFIED,
    "非常不满意": Satisfaction.VERY_UNSATISFIED,
    "很不满意": Satisfaction.VERY_UNSATISFIED,
    "十分不满意": Satisfaction.VERY_UNSATISFIED,
    **{value: value for value in Satisfaction.values},
}
NOT_RATED = frozenset({"", "无", "未评价", "未回访", "-", "—", "/", "无评价"})

_SPACES = re.compile(r"\s+")
_DATE_TIME = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]*(\d{1,2})\s*[:：时点]\s*(\d{1,2})\s*分?"
    r"(?:\s*[:：]?\s*(\d{1,2})(?:\.\d{1,6})?\s*秒?)?)?"
)
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?")
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")  # an Excel date serial that became text in a CSV


@dataclass(frozen=True)
class Columns:
    """Where each known column is (index into the row), from the header."""

    index: dict[str, int]

    @classmethod
    def from_header(cls, header: list[str]) -> Columns:
        index: dict[str, int] = {}
        for i, name in enumerate(header):
            if name not in KNOWN:
                continue
            if name in index:
                raise ServiceError(
                    "duplicate_column",
                    f"表头中“{name}”出现了两次(第 {index[name] + 1} 列和第 {i + 1} 列)",
                    details={"column": name},
                )
            index[name] = i
        missing = [name for name in REQUIRED if name not in index]
        if missing:
            found = [h for h in header if h]
            raise ServiceError(
                "missing_columns",
                f"缺少必需的列:{'、'.join(missing)}(表头应包含 {'、'.join(REQUIRED)};"
                f"现有:{'、'.join(found) or '无'})",
                details={"missing": missing, "found": found},
            )
        if (LON in index) != (LAT in index):
            raise ServiceError(
                "missing_columns", "经度和纬度两列必须同时提供", details={"missing": [LON, LAT]}
            )
        return cls(index)

    def get(self, cells: list[Cell], name: str) -> Cell:
        i = self.index.get(name)
        return cells[i] if i is not None and i < len(cells) else None


@dataclass
class Record:
    """A row that passed every check that needs no database."""

    row: int
    source_id: str
    received_at: dt.datetime
    text: str
    address: str
    lon: float | None
    lat: float | None
    closed_at: dt.datetime | None
    satisfaction: str
    cells: list[Cell] = field(repr=False)


@dataclass
class Refused:
    row: int
    problems: list[tuple[str, str]]  # (column, reason)
    cells: list[Cell] = field(repr=False)


class _Problems(list[tuple[str, str]]):
    def add(self, column: str, reason: str) -> None:
        self.append((column, reason))


def parse_row(
    *, row: int, cells: list[Cell], columns: Columns, epoch: dt.datetime, now: dt.datetime
) -> Record | Refused:
    problems = _Problems()
    for name in columns.index:
        value = columns.get(cells, name)
        if isinstance(value, str) and "\x00" in value:
            problems.add(name, "含有不可见的控制字符(NUL)")
    if problems:
        return Refused(row, problems, cells)

    source_id = cell_text(columns.get(cells, SOURCE_ID)).strip()
    if not source_id:
        problems.add(SOURCE_ID, "工单编号为空")
    elif len(source_id) > MAX_SOURCE_ID:
        problems.add(SOURCE_ID, f"工单编号超过 {MAX_SOURCE_ID} 个字符")

    received_at = _time(columns.get(cells, RECEIVED), RECEIVED, problems, epoch=epoch, now=now, required=True)

    text = cell_text(columns.get(cells, TEXT)).strip()
    if not text:
        problems.add(TEXT, "诉求内容为空")
    elif len(text) > MAX_TEXT:
        problems.add(TEXT, f"诉求内容超过 {MAX_TEXT} 字(当前 {len(text)} 字)")

    address = _SPACES.sub(" ", cell_text(columns.get(cells, ADDRESS))).strip()
    if len(address) > MAX_ADDRESS:
        problems.add(ADDRESS, f"地址超过 {MAX_ADDRESS} 字(当前 {len(address)} 字)")

    lon, lat = _coordinates(columns.get(cells, LON), columns.get(cells, LAT), problems)

    closed_at = _time(columns.get(cells, CLOSED), CLOSED, problems, epoch=epoch, now=now, required=False)
    if closed_at is not None and received_at is not None and closed_at < received_at:
        problems.add(CLOSED, "办结时间早于来电时间")

    satisfaction = _satisfaction(columns.get(cells, SATISFACTION), problems)
    if satisfaction and closed_at is None and not any(c == CLOSED for c, _ in problems):
        problems.add(SATISFACTION, "有满意度但没有办结时间:只有办结的诉求才能评价")

    if problems:
        return Refused(row, problems, cells)
    assert received_at is not None
    return Record(row, source_id, received_at, text, address, lon, lat, closed_at, satisfaction, cells)


def parse_time(value: Cell, *, epoch: dt.datetime) -> dt.datetime | None:
    """A naive local or aware time from a cell; None when it cannot be read."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _serial(float(value), epoch)
    text = str(value).strip()
    try:
        if m := _DATE_TIME.fullmatch(text):
            y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
            return dt.datetime(y, mo, d, h, mi, s)
        if m := _COMPACT.fullmatch(text):
            y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
            return dt.datetime(y, mo, d, h, mi, s)
        if _SERIAL.fullmatch(text):
            return _serial(float(text), epoch)
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def _serial(value: float, epoch: dt.datetime) -> dt.datetime | None:
    # 1970 … 2100 in the 1900 system: anything else is a number that is not a date.
    if not math.isfinite(value) or not 25569 <= value < 73051:
        return None
    moment = from_excel(value, epoch=epoch)
    if not isinstance(moment, dt.datetime):
        return None
    return moment.replace(microsecond=0) + dt.timedelta(seconds=round(moment.microsecond / 1e6))


def _time(
    value: Cell, column: str, problems: _Problems, *, epoch: dt.datetime, now: dt.datetime, required: bool
) -> dt.datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.add(column, f"{column}为空")
        return None
    moment = parse_time(value, epoch=epoch)
    if moment is None:
        problems.add(
            column,
            f"无法识别的时间“{cell_text(value)[:40]}”(应如 2025-03-04 08:15:00 或 2025/3/4 8:15)",
        )
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if moment < timezone.make_aware(EARLIEST):
        problems.add(column, f"{column}早于 1990 年,不是有效的时间")
        return None
    if moment > now + FUTURE_SLACK:
        problems.add(column, f"{column}晚于当前时间")
        return None
    return moment


def _number(value: Cell) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _coordinates(lon_cell: Cell, lat_cell: Cell, problems: _Problems) -> tuple[float | None, float | None]:
    lon_text, lat_text = cell_text(lon_cell).strip(), cell_text(lat_cell).strip()
    if not lon_text and not lat_text:
        return None, None
    if not lon_text or not lat_text:
        problems.add(LAT if lon_text else LON, "经度和纬度必须同时填写")
        return None, None
    lon, lat = _number(lon_cell), _number(lat_cell)
    bad = False
    if lon is None or not math.isfinite(lon) or not -180 <= lon <= 180:
        problems.add(LON, f"经度“{lon_text[:40]}”不是 −180~180 之间的数字")
        bad = True
    if lat is None or not math.isfinite(lat) or not -90 <= lat <= 90:
        problems.add(LAT, f"纬度“{lat_text[:40]}”不是 −90~90 之间的数字")
        bad = True
    return (None, None) if bad else (lon, lat)


def _satisfaction(value: Cell, problems: _Problems) -> str:
    text = _SPACES.sub("", cell_text(value))
    if text in NOT_RATED:
        return ""
    grade = SATISFACTION_WORDS.get(text)
    if grade is None:
        problems.add(
            SATISFACTION, f"无法识别的满意度“{text[:20]}”(应为非常满意、满意、基本满意、不满意或非常不满意)"
        )
        return ""
    return grade
