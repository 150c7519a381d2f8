"""Stream the rows of a hotline export, CSV or XLSX, without loading the file.

`inspect_file` reads the file once (SHA-256, encoding, an estimate of the row count);
`open_table` then yields its header and its rows one at a time. A file that cannot be read at all
— a broken XLSX, an unknown encoding, no header — is refused here, before any row is imported.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shanzhi.core.errors import ServiceError

CHUNK = 1 << 20
# A CSV cell longer than this stops the file (csv cannot resynchronise after an over-long field);
# anything shorter is read and, when too long for its column, refused for its row only.
MAX_CELL_BYTES = 16 << 20
HEADER_SEARCH_ROWS = 10  # a title line or two may sit above the header in real exports
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the legacy .xls format

Cell = Any  # str for CSV; str, int, float, datetime, date, time, bool or None for XLSX


@dataclass(frozen=True)
class SourceFile:
    path: Path
    digest: str  # SHA-256 of the bytes
    size: int
    file_format: str  # "csv" or "xlsx"
    encoding: str  # "utf-8-sig", "utf-8" or "gb18030" for CSV; "" for XLSX
    newlines: int  # line breaks in a CSV file: an upper bound of its rows


@dataclass
class Table:
    header: list[str]  # normalised column names
    raw_header: list[str]  # as written, for the error file
    header_row: int  # 1-based, as a spreadsheet numbers rows
    rows: Iterator[tuple[int, list[Cell]]]  # (row number, cells), after the header
    total: int | None  # data rows expected (an estimate), when known
    epoch: dt.datetime  # XLSX date epoch (1900 or 1904 system), for serial dates


def inspect_file(path: Path) -> SourceFile:
    """One streaming pass: digest, size, format and, for CSV, the encoding."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise ServiceError("file_not_found", f"找不到文件:{path}") from None
    except OSError as exc:
        raise ServiceError("file_unreadable", f"无法读取文件 {path}:{exc.strerror}") from None
    sha = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    gb = codecs.getincrementaldecoder("gb18030")()
    utf8_ok = gb_ok = True
    size = newlines = 0
    head = b""
    last = b""
    with handle:
        while chunk := handle.read(CHUNK):
            if not head:
                head = chunk[:8]
            sha.update(chunk)
            size += len(chunk)
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
            # Both decoders run in the same pass: the file is read once whatever its encoding.
            if utf8_ok:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    utf8_ok = False
            if gb_ok:
                try:
                    gb.decode(chunk)
                except UnicodeDecodeError:
                    gb_ok = False
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
    if gb_ok:
        try:
            gb.decode(b"", final=True)
        except UnicodeDecodeError:
            gb_ok = False
    if size == 0:
        raise ServiceError("file_empty", "文件是空的")
    suffix = path.suffix.lower()
    if head.startswith(OLE_MAGIC) or suffix == ".xls":
        raise ServiceError("xls_unsupported", "不支持旧版 Excel(.xls)文件,请在 Excel 中另存为 .xlsx 或 CSV")
    if head.startswith(ZIP_MAGIC) or suffix in (".xlsx", ".xlsm"):
        if not head.startswith(ZIP_MAGIC):
            raise ServiceError("xlsx_invalid", "文件扩展名是 .xlsx,但内容不是 Excel 文件(不是 zip 格式)")
        return SourceFile(path, sha.hexdigest(), size, "xlsx", "", 0)
    if head.startswith(codecs.BOM_UTF8) and utf8_ok:
        encoding = "utf-8-sig"
    elif utf8_ok:
        encoding = "utf-8"
    elif gb_ok:
        encoding = "gb18030"
    else:
        raise ServiceError("encoding_unknown", "无法识别文件编码:CSV 文件应为 UTF-8 或 GB18030(GBK)编码")
    return SourceFile(path, sha.hexdigest(), size, "csv", encoding, newlines + (last != b"\n"))


def normalise_header(value: Cell) -> str:
    """ "*工单编号 " and "工单编号" name the same column (templates star required ones)."""
    if value is None:
        return ""
    return str(value).replace("\ufeff", "").strip().strip("*＊").strip()


def cell_text(value: Cell) -> str:
    """A cell as text: what the error file writes and what text columns read."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value)


def is_blank(cells: list[Cell]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _find_header(rows: Iterator[tuple[int, list[Cell]]], *, marker: str) -> tuple[int, list[Cell]] | None:
    """The first row naming `marker` among the first few non-blank rows, else the first one.

    In the second case the rows read past it are dropped: `marker` is a required column, so a
    header without it is refused and no row is read anyway."""
    first: tuple[int, list[Cell]] | None = None
    seen = 0
    for number, cells in rows:
        if is_blank(cells):
            continue
        if first is None:
            first = (number, cells)
        if any(normalise_header(c) == marker for c in cells):
            return number, cells
        seen += 1
        if seen >= HEADER_SEARCH_ROWS:
            break
    return first


@contextmanager
def open_table(source: SourceFile, *, marker: str, sheet: str | None = None) -> Iterator[Table]:
    """The header and a row iterator; the file stays open while the caller iterates."""
    if source.file_format == "xlsx":
        with _open_xlsx(source, marker=marker, sheet=sheet) as table:
            yield table
    else:
        with _open_csv(source, marker=marker) as table:
            yield table


def _table(
    numbered: Iterator[tuple[int, list[Cell]]], *, marker: str, total_rows: int | None, epoch: dt.datetime
) -> Table:
    found = _find_header(numbered, marker=marker)
    if found is None:
        raise ServiceError("no_header", "文件中没有表头行(第一行应为列名,如 工单编号、来电时间、诉求内容)")
    header_row, cells = found
    total = max(total_rows - header_row, 0) if total_rows is not None else None
    return Table(
        header=[normalise_header(c) for c in cells],
        raw_header=[cell_text(c) for c in cells],
        header_row=header_row,
        rows=numbered,
        total=total,
        epoch=epoch,
    )


@contextmanager
def _open_csv(source: SourceFile, *, marker: str) -> Iterator[Table]:
    if csv.field_size_limit() < MAX_CELL_BYTES:
        csv.field_size_limit(MAX_CELL_BYTES)  # process-wide; only ever raised, so harmless to others
    with source.path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding=source.encoding, newline="")
        reader = csv.reader(text)

        def numbered() -> Iterator[tuple[int, list[Cell]]]:
            number = 0
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise ServiceError(
                        "csv_malformed",
                        f"第 {number + 1} 行附近的 CSV 格式无法解析(单元格过长或引号不配对):{exc}",
                        details={"row": number + 1},
                    ) from None
                number += 1
                yield number, list(cells)

        yield _table(numbered(), marker=marker, total_rows=source.newlines, epoch=_EPOCH_1900)


_EPOCH_1900 = dt.datetime(1899, 12, 30)


def _xlsx_broken(detail: str) -> ServiceError:
    return ServiceError("xlsx_corrupt", f"Excel 文件已损坏或格式不正确,无法读取:{detail}")


@contextmanager
def _open_xlsx(source: SourceFile, *, marker: str, sheet: str | None) -> Iterator[Table]:
    import openpyxl

    # Check every member's CRC first, so a damaged file is refused before any row is imported
    # rather than failing half-way through.
    try:
        with zipfile.ZipFile(source.path) as archive:
            bad = archive.testzip()
            names = set(archive.namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise _xlsx_broken(str(exc) or type(exc).__name__) from None
    if bad is not None:
        raise _xlsx_broken(f"{bad} 校验失败")
    if "xl/workbook.xml" not in names:
        raise _xlsx_broken("缺少 xl/workbook.xml,不是 Excel 工作簿")
    try:
        workbook = openpyxl.load_workbook(source.path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for malformed parts
        raise _xlsx_broken(str(exc) or type(exc).__name__) from None
    try:
        worksheet: Any
        if sheet is not None:
            if sheet not in workbook.sheetnames:
                raise ServiceError(
                    "sheet_not_found",
                    f"工作簿中没有名为“{sheet}”的工作表(现有:{'、'.join(workbook.sheetnames)})",
                )
            worksheet = workbook[sheet]
        else:
            worksheet = workbook.worksheets[0]
        # The <dimension> tag gives a row count for the progress line, but openpyxl would also cut
        # every row and column beyond it, and some exporting tools write it wrong ("A1"): read
        # the rows that are there instead.
        max_row = getattr(worksheet, "max_row", None)
        if hasattr(worksheet, "reset_dimensions"):
            worksheet.reset_dimensions()

        def numbered() -> Iterator[tuple[int, list[Cell]]]:
            number = 0
            try:
                for values in worksheet.iter_rows(values_only=True):
                    number += 1
                    yield number, list(values)
            except ServiceError:
                raise
            except Exception as exc:
                raise _xlsx_broken(f"第 {number + 1} 行:{exc or type(exc).__name__}") from None

        yield _table(
            numbered(),
            marker=marker,
            total_rows=max_row if isinstance(max_row, int) else None,
            epoch=workbook.epoch,
        )
    finally:
        workbook.close()
