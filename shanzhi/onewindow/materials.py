"""The material check of an application, and the content check of the files brought for it.

Needed = every required material, and every conditional one whose question the applicant answered
"yes". A needed material the platform can fetch from shared data (免提交) is fetched, and the
checklist records from where; in a bundle, one step's result stands in for a later step's
material, and each document is asked for once (by its key). Whatever is still missing is listed
completely, in one go: the applicant is told once and never has to come a second time.

Files are judged by their content, never by their name or declared type: JPEG, PNG and WebP
images that really decode (cases.uploads.check_photo) and PDFs with the magic `%PDF-` and a
cross-reference trailer that leads to the document's root; at most 10 MB each.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shanzhi.cases.uploads import CheckedFile, check_photo
from shanzhi.core.errors import ServiceError
from shanzhi.onewindow.models import Bundle, Material, MaterialForm, ServiceItem
from shanzhi.onewindow.models_applications import PROVIDED, ApplicationMaterial, LineStatus

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES_PER_LINE = 5


# --- questions and answers -------------------------------------------------------------------


def _ordered_unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        if v and v not in seen:
            seen[v] = None
    return list(seen)


def item_questions(item: ServiceItem) -> list[str]:
    """The item's conditional materials' questions, once each, in list order."""
    return _ordered_unique(m.condition for m in item.materials.all() if not m.required)


def bundle_questions(bundle: Bundle) -> list[str]:
    steps = sorted(bundle.steps.all(), key=lambda s: s.order)
    return _ordered_unique(m.condition for s in steps for m in s.item.materials.all() if not m.required)


_YES = {True, "true", "yes", "1", "是"}
_NO = {False, "false", "no", "0", "否"}


def clean_answers(*, questions: list[str], answers: Mapping[str, Any]) -> dict[str, bool]:
    """Every question answered yes or no; all unanswered ones are named in one refusal."""
    unknown = [q for q in answers if q not in questions]
    if unknown:
        raise ServiceError(
            "invalid_answers",
            f"以下情形不属于本事项:{'、'.join(str(q)[:40] for q in unknown[:5])}",
            details={"unknown": [str(q)[:100] for q in unknown[:20]]},
            status=422,
        )
    out: dict[str, bool] = {}
    unanswered: list[str] = []
    for q in questions:
        value = answers.get(q)
        if isinstance(value, str):
            value = value.strip().lower()
        if value in _YES:
            out[q] = True
        elif value in _NO:
            out[q] = False
        else:
            unanswered.append(q)
    if unanswered:
        raise ServiceError(
            "answers_required",
            f"请回答以下情形(是或否):{'、'.join(unanswered)}",
            details={"unanswered": unanswered},
            status=422,
        )
    return out


# --- the checklist ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LineSpec:
    """One document of a new application's checklist."""

    material: Material
    key: str
    name: str
    form: str
    copies: int
    condition: str
    status: str
    source: str


def _line(m: Material, *, status: str, source: str = "") -> LineSpec:
    return LineSpec(
        material=m,
        key=m.document,
        name=m.name,
        form=m.form,
        copies=m.copies,
        condition=m.condition,
        status=status,
        source=source[:120],
    )


def _needed(m: Material, answers: Mapping[str, bool]) -> bool:
    return m.required or bool(answers.get(m.condition))


def item_checklist(*, item: ServiceItem, answers: Mapping[str, bool]) -> list[LineSpec]:
    lines = []
    for m in item.materials.all():
        if not _needed(m, answers):
            lines.append(_line(m, status=LineStatus.NOT_NEEDED, source=f"不属于“{m.condition}”情形"))
        elif m.shared:
            lines.append(_line(m, status=LineStatus.FETCHED, source=m.shared_source))
        else:
            lines.append(_line(m, status=LineStatus.NEEDED))
    return lines


def bundle_checklist(*, bundle: Bundle, answers: Mapping[str, bool]) -> list[LineSpec]:
    """One line per document across the bundle's items (de-duplicated by key): a later step's
    material that an earlier step's result replaces waits for that result; a document any
    member item can fetch is fetched; the rest is brought once."""
    steps = sorted(bundle.steps.all(), key=lambda s: s.order)
    replaced = {s.result_material.document: s.item.name for s in steps if s.result_material is not None}
    by_key: dict[str, list[Material]] = {}
    for s in steps:
        for m in s.item.materials.all():
            by_key.setdefault(m.document, []).append(m)
    lines = []
    for key, ms in by_key.items():
        first = ms[0]
        needed = [m for m in ms if _needed(m, answers)]
        shared = next((m for m in needed if m.shared), None)
        if not needed:
            lines.append(_line(first, status=LineStatus.NOT_NEEDED, source=f"不属于“{first.condition}”情形"))
        elif key in replaced:
            lines.append(
                _line(needed[0], status=LineStatus.PENDING_RESULT, source=f"由“{replaced[key]}”办结结果替代")
            )
        elif shared is not None:
            lines.append(_line(shared, status=LineStatus.FETCHED, source=shared.shared_source))
        else:
            lines.append(_line(needed[0], status=LineStatus.NEEDED))
    return lines


@dataclass(frozen=True)
class MaterialCheck:
    missing: list[ApplicationMaterial]
    fetched: list[ApplicationMaterial]
    provided: list[ApplicationMaterial]

    @property
    def complete(self) -> bool:
        return not self.missing

    def missing_list(self) -> list[dict[str, Any]]:
        """The complete list as told to the applicant (and kept on the application)."""
        return [
            {
                "key": line.key,
                "name": line.name,
                "form": str(MaterialForm(line.form).label) if line.form in MaterialForm.values else line.form,
                "copies": line.copies,
                "condition": line.condition,
            }
            for line in self.missing
        ]

    def message(self) -> str:
        names = "、".join(f"{m['name']}({m['form']} {m['copies']} 份)" for m in self.missing_list())
        return f"还缺 {len(self.missing)} 项材料:{names}"


def check_lines(lines: Iterable[ApplicationMaterial]) -> MaterialCheck:
    rows = list(lines)
    return MaterialCheck(
        missing=[line for line in rows if line.status == LineStatus.NEEDED],
        fetched=[line for line in rows if line.status == LineStatus.FETCHED],
        provided=[line for line in rows if line.status in PROVIDED],
    )


# --- file content -----------------------------------------------------------------------------

_PDF_HEADER = re.compile(rb"^%PDF-[12]\.\d")
_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_TRAILER_ROOT = re.compile(rb"trailer\s*<<.*?/Root\s+(\d+)\s+(\d+)\s+R", re.S)
_XREF_STREAM = re.compile(rb"^\s*(\d+)\s+(\d+)\s+obj\s*<<(.*?)>>", re.S)
_ROOT_REF = re.compile(rb"/Root\s+(\d+)\s+(\d+)\s+R")
_TAIL = 2048


def check_pdf(content: bytes, *, label: str) -> None:
    """`%PDF-` and a trailer whose startxref points at a cross-reference table (or stream) that
    names the document's root, and that root object exists. A renamed text file, an HTML page or a
    truncated download fails here."""
    if not _PDF_HEADER.match(content[:16]):
        raise ServiceError("file_type", f"{label}不是 PDF 文件", status=422)
    tail = content[-_TAIL:].rstrip(b"\x00")
    match = _STARTXREF.search(tail)  # anchored at the end: the last cross-reference section
    if match is None:
        raise ServiceError("file_corrupt", f"{label}不完整(缺少文件尾),请重新导出或扫描", status=422)
    offset = int(match.group(1))
    if not 0 < offset < len(content):
        raise ServiceError("file_corrupt", f"{label}的交叉引用位置不正确", status=422)
    section = content[offset : offset + 64 * 1024]
    root = None
    if section.startswith(b"xref"):
        found = _TRAILER_ROOT.search(section)
        root = found.groups() if found else None
    else:
        stream = _XREF_STREAM.match(section)
        if stream is not None and re.search(rb"/Type\s*/XRef", stream.group(3)):
            found = _ROOT_REF.search(stream.group(3))
            root = found.groups() if found else None
    if root is None:
        raise ServiceError("file_corrupt", f"{label}的文件尾无法解析", status=422)
    if re.search(rb"(?<!\d)" + root[0] + rb"\s+" + root[1] + rb"\s+obj\b", content) is None:
        raise ServiceError("file_corrupt", f"{label}缺少文档根对象", status=422)


def _safe_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isalnum() or ch in "._-()()")
    return cleaned[-80:] or "file"


def check_upload(*, name: str, content: bytes, label: str = "文件") -> CheckedFile:
    """A PDF or an image of at most 10 MB, judged by its bytes."""
    if not content:
        raise ServiceError("file_empty", f"{label}是空文件", status=422)
    if len(content) > MAX_FILE_BYTES:
        raise ServiceError("file_too_large", f"{label}超过 10 MB,请压缩后再上传", status=422)
    if content.startswith(b"%PDF-"):
        check_pdf(content, label=label)
        return CheckedFile(
            name=_safe_name(name),
            content=content,
            content_type="application/pdf",
            sha256=hashlib.sha256(content).hexdigest(),
        )
    try:
        checked = check_photo(name=_safe_name(name), content=content)
    except ServiceError as exc:
        code = {"photo_type": "file_type", "photo_corrupt": "file_corrupt"}.get(exc.code, "file_type")
        if exc.code == "photo_type":
            message = f"{label}不是 PDF、JPEG、PNG 或 WebP 文件"
        else:
            message = f"{label}已损坏或无法识别"
        raise ServiceError(code, message, status=422) from exc
    return CheckedFile(
        name=_safe_name(name), content=content, content_type=checked.content_type, sha256=checked.sha256
    )
