"""Catalogue specs (what a service writes) and their validation, shared by the services, the
back office forms and the demo data.

Codes (house format, after GB/T 39554.1's structure):
- 基本编码 (basic code), 10 characters: the item type's two letters (XK 许可, QR 确认, JF 给付,
  JL 奖励, CJ 裁决, QT 其他行政权力, GG 公共服务), a 5-digit main item and a 3-character sub-item,
  e.g. ``QR00201000``.
- 实施编码 (implementation code): the county's 6-digit division code, the basic code and a
  2-digit business item, joined by hyphens, e.g. ``331199-QR00201000-01``. It names the item in
  URLs, the API and applications.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from shanzhi.onewindow.models import Channel, ItemType, MaterialForm, Theme

TYPE_LETTERS: dict[str, str] = {
    ItemType.LICENSING: "XK",
    ItemType.CONFIRMATION: "QR",
    ItemType.PAYMENT: "JF",
    ItemType.REWARD: "JL",
    ItemType.ADJUDICATION: "CJ",
    ItemType.OTHER_POWER: "QT",
    ItemType.PUBLIC_SERVICE: "GG",
}
BASIC_CODE_RE = re.compile(r"^(XK|QR|JF|JL|CJ|QT|GG)\d{5}[0-9A-Z]{3}$", re.ASCII)
CODE_RE = re.compile(r"^\d{6}-(XK|QR|JF|JL|CJ|QT|GG)\d{5}[0-9A-Z]{3}-\d{2}$", re.ASCII)
BUNDLE_CODE_RE = re.compile(r"^[a-z][a-z0-9-]{1,39}$", re.ASCII)
FIELD_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$", re.ASCII)
PHONE_RE = re.compile(r"^[0-9][0-9-]{3,19}$", re.ASCII)
FORM_FIELD_KINDS = {
    "text": "文字",
    "date": "日期",
    "id_number": "身份证号",
    "phone": "手机号",
    "choice": "选择",
    "number": "数字",
}
MAX_STEPS, MAX_MATERIALS, MAX_KEYWORDS, MAX_BUNDLE_STEPS = 12, 30, 20, 12


@dataclass(frozen=True)
class StepSpec:
    """A process step of one item, as drawn in the flow picture."""

    name: str
    detail: str = ""


@dataclass(frozen=True)
class MaterialSpec:
    name: str
    form: str = MaterialForm.ORIGINAL
    copies: int = 1
    condition: str = ""  # non-empty: submitted only when the answer to this question is yes
    shared_source: str = ""  # non-empty: 免提交, fetched from this shared source
    notes: str = ""
    key: str = ""  # the same document across items; defaults to the name

    @property
    def conditional(self) -> bool:
        return bool(self.condition)

    @property
    def shared(self) -> bool:
        return bool(self.shared_source)

    @property
    def material_key(self) -> str:
        return self.key or self.name


@dataclass(frozen=True)
class ItemSpec:
    code: str
    basic_code: str
    name: str
    item_type: str
    theme: str
    summary: str
    applicants: str
    legal_basis: str
    conditions: str
    steps: tuple[StepSpec, ...]
    promised_days: int
    statutory_days: int | None
    department: str  # a county department's Handler code
    window: str
    channels: tuple[str, ...]
    phone: str
    materials: tuple[MaterialSpec, ...]
    visits: int = 1
    fee_text: str = "不收费"
    fee_amount: Decimal = Decimal(0)
    time_limit_note: str = ""
    keywords: tuple[str, ...] = ()
    application_form: str = ""
    active: bool = True


@dataclass(frozen=True)
class FormFieldSpec:
    key: str
    label: str
    kind: str = "text"
    required: bool = True


@dataclass(frozen=True)
class BundleStepSpec:
    item_code: str
    depends_on: tuple[str, ...] = ()  # item codes of earlier steps whose results this step needs
    result_for: tuple[str, str] | None = None  # (later item code, material name) this result replaces


@dataclass(frozen=True)
class BundleSpec:
    code: str
    name: str
    description: str
    window: str
    steps: tuple[BundleStepSpec, ...]
    form_fields: tuple[FormFieldSpec, ...] = field(default_factory=tuple)
    visits: int = 1
    sort_order: int = 0
    active: bool = True


FieldError = tuple[str, str]  # (field, Chinese message)


def _text(
    errors: list[FieldError], name: str, label: str, value: str, limit: int, *, blank: bool = False
) -> None:
    if not value.strip() and not blank:
        errors.append((name, f"{label}不能为空"))
    elif len(value) > limit:
        errors.append((name, f"{label}不超过 {limit} 个字"))


def material_errors(materials: Iterable[MaterialSpec]) -> list[FieldError]:
    errors: list[FieldError] = []
    seen: set[str] = set()
    items = list(materials)
    if not items:
        errors.append(("materials", "至少列出一项申请材料"))
    if len(items) > MAX_MATERIALS:
        errors.append(("materials", f"申请材料不超过 {MAX_MATERIALS} 项"))
    for n, m in enumerate(items, start=1):
        where = f"materials[{n}]"
        _text(errors, where, f"第 {n} 项材料名称", m.name, 100)
        if m.name in seen:
            errors.append((where, f"材料“{m.name}”重复列出"))
        seen.add(m.name)
        if m.form not in MaterialForm.values:
            errors.append((where, f"材料“{m.name}”的形式应为原件、复印件、原件及复印件或电子件"))
        if not 1 <= m.copies <= 10:
            errors.append((where, f"材料“{m.name}”的份数应在 1–10 之间"))
        _text(errors, where, f"材料“{m.name}”的提交条件", m.condition, 100, blank=True)
        _text(errors, where, f"材料“{m.name}”的共享来源", m.shared_source, 100, blank=True)
        _text(errors, where, f"材料“{m.name}”的备注", m.notes, 200, blank=True)
        _text(errors, where, f"材料“{m.name}”的标识", m.key, 100, blank=True)
    return errors


def item_errors(spec: ItemSpec) -> list[FieldError]:
    """Everything wrong with an item and its materials, in Chinese; empty when it can be saved."""
    return item_field_errors(spec) + material_errors(spec.materials)


def item_field_errors(spec: ItemSpec) -> list[FieldError]:
    """Everything wrong with an item's own fields (the back office checks materials row by row)."""
    errors: list[FieldError] = []
    if spec.item_type not in ItemType.values:
        errors.append(("item_type", "事项类型不正确"))
    if spec.theme not in Theme.values:
        errors.append(("theme", "主题分类不正确"))
    if not BASIC_CODE_RE.match(spec.basic_code):
        errors.append(("basic_code", "基本编码应为 2 位类型字母 + 5 位主项 + 3 位子项,如 QR00201000"))
    elif spec.item_type in TYPE_LETTERS and spec.basic_code[:2] != TYPE_LETTERS[spec.item_type]:
        errors.append(("basic_code", f"基本编码应以事项类型字母 {TYPE_LETTERS[spec.item_type]} 开头"))
    if not CODE_RE.match(spec.code):
        errors.append(("code", "实施编码应为 区划代码-基本编码-业务项,如 331199-QR00201000-01"))
    elif spec.code.split("-")[1] != spec.basic_code:
        errors.append(("code", "实施编码中的基本编码与事项基本编码不一致"))
    _text(errors, "name", "事项名称", spec.name, 100)
    _text(errors, "summary", "事项说明", spec.summary, 200)
    _text(errors, "applicants", "申请对象", spec.applicants, 200)
    _text(errors, "legal_basis", "设定依据", spec.legal_basis, 2000)
    _text(errors, "conditions", "受理条件", spec.conditions, 2000)
    _text(errors, "window", "办理窗口", spec.window, 100, blank=True)
    _text(errors, "time_limit_note", "时限说明", spec.time_limit_note, 200, blank=True)
    _text(errors, "application_form", "申请表", spec.application_form, 100, blank=True)
    if not 2 <= len(spec.steps) <= MAX_STEPS:
        errors.append(("steps", f"办理流程应有 2–{MAX_STEPS} 个环节"))
    for n, step in enumerate(spec.steps, start=1):
        _text(errors, "steps", f"第 {n} 个环节名称", step.name, 12)
        _text(errors, "steps", f"第 {n} 个环节说明", step.detail, 100, blank=True)
    if not 0 <= spec.promised_days <= 365:
        errors.append(("promised_days", "承诺办结时限应在 0–365 个工作日之间"))
    if spec.statutory_days is not None:
        if not 1 <= spec.statutory_days <= 365:
            errors.append(("statutory_days", "法定办结时限应在 1–365 个工作日之间"))
        elif spec.promised_days > spec.statutory_days:
            errors.append(("promised_days", "承诺办结时限不能超过法定办结时限"))
    if not 0 <= spec.visits <= 5:
        errors.append(("visits", "到现场次数应在 0–5 之间"))
    channels = list(spec.channels)
    if not channels or len(set(channels)) != len(channels) or set(channels) - set(Channel.values):
        errors.append(("channels", "办理渠道应从窗口办理、网上办理、自助终端、帮办代办中选择,且不重复"))
    if spec.visits == 0 and Channel.ONLINE not in channels and Channel.KIOSK not in channels:
        errors.append(("visits", "零跑动的事项必须可以网上办理或自助终端办理"))
    if Channel.WINDOW in channels and not spec.window.strip():
        errors.append(("window", "可以窗口办理的事项须写明办理窗口"))
    if not PHONE_RE.match(spec.phone):
        errors.append(("phone", "咨询电话格式不正确"))
    if spec.fee_amount < 0 or spec.fee_amount >= Decimal("100000000"):
        errors.append(("fee_amount", "收费金额不正确"))
    _text(errors, "fee_text", "收费标准", spec.fee_text, 100)
    if spec.fee_amount > 0 and "不收费" in spec.fee_text:
        errors.append(("fee_text", "收费金额大于 0 时收费标准不能写“不收费”"))
    if len(spec.keywords) > MAX_KEYWORDS or any(not k.strip() or len(k) > 20 for k in spec.keywords):
        errors.append(("keywords", f"关键词最多 {MAX_KEYWORDS} 个,每个 1–20 个字"))
    if not spec.department:
        errors.append(("department", "请选择实施部门"))
    return errors


def form_field_errors(fields: Iterable[FormFieldSpec]) -> list[FieldError]:
    errors: list[FieldError] = []
    keys: set[str] = set()
    for n, f in enumerate(fields, start=1):
        if not FIELD_KEY_RE.match(f.key):
            errors.append(("form_fields", f"第 {n} 个表单字段的标识应为小写字母开头的字母、数字或下划线"))
        if f.key in keys:
            errors.append(("form_fields", f"表单字段标识 {f.key} 重复"))
        keys.add(f.key)
        _text(errors, "form_fields", f"第 {n} 个表单字段名称", f.label, 40)
        if f.kind not in FORM_FIELD_KINDS:
            errors.append(("form_fields", f"表单字段“{f.label}”的类型不正确"))
    return errors


def bundle_errors(spec: BundleSpec, *, materials_of: Mapping[str, Iterable[str]]) -> list[FieldError]:
    """Everything wrong with a bundle. `materials_of` maps each known item code to its material
    names. A step may depend only on earlier steps, which keeps the graph acyclic; a step's
    result may only stand in for a material of a step that (transitively) waits for it."""
    errors: list[FieldError] = []
    if not BUNDLE_CODE_RE.match(spec.code):
        errors.append(("code", "一件事代码应为小写字母开头的字母、数字或连字符,2–40 位"))
    _text(errors, "name", "名称", spec.name, 100)
    _text(errors, "description", "说明", spec.description, 2000)
    _text(errors, "window", "办理窗口", spec.window, 100)
    if not 0 <= spec.visits <= 3:
        errors.append(("visits", "到现场次数应在 0–3 之间"))
    if not 2 <= len(spec.steps) <= MAX_BUNDLE_STEPS:
        errors.append(("steps", f"一件事应包含 2–{MAX_BUNDLE_STEPS} 个事项"))
    errors.extend(form_field_errors(spec.form_fields))
    position: dict[str, int] = {}
    requires: dict[str, set[str]] = {}  # item code -> item codes it waits for, transitively
    for n, step in enumerate(spec.steps, start=1):
        code = step.item_code
        if code not in materials_of:
            errors.append(("steps", f"第 {n} 步的事项 {code} 不存在或未启用"))
        if code in position:
            errors.append(("steps", f"事项 {code} 在一件事中重复出现"))
        waits: set[str] = set()
        for dep in step.depends_on:
            if dep not in position:
                errors.append(("steps", f"第 {n} 步只能依赖它之前的环节(事项 {dep} 不在其前)"))
                continue
            waits |= {dep} | requires[dep]
        position.setdefault(code, n)
        requires.setdefault(code, waits)
    for n, step in enumerate(spec.steps, start=1):
        if step.result_for is None:
            continue
        later, material = step.result_for
        if step.item_code not in requires.get(later, set()):
            errors.append(("steps", f"第 {n} 步的结果只能替代依赖它的后续事项的材料"))
        elif material not in set(materials_of.get(later, ())):
            errors.append(("steps", f"事项 {later} 的材料清单中没有“{material}”"))
    return errors


def errors_message(errors: list[FieldError]) -> str:
    """One Chinese sentence listing every problem, for the API and the pages."""
    return ";".join(dict.fromkeys(msg for _field, msg in errors))
