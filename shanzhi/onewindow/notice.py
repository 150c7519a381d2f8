"""The one-time notice (一次性告知书) of an item: one sentence, one flow picture, one complete
list, told once so that nobody makes a second trip. The page, the PDF (pdf.py) and the SMS text
are all drawn from `build_notice`, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from shanzhi.onewindow.models import Material, MaterialForm, ServiceItem

SMS_LIMIT = 500
SMS_SIGNATURE = "【善水县政务服务】"


@dataclass(frozen=True)
class NoticeStep:
    name: str
    detail: str


@dataclass(frozen=True)
class NoticeMaterial:
    order: int
    name: str
    form: str
    copies: int
    required: bool
    condition: str
    shared: bool
    shared_source: str
    notes: str

    @property
    def requirement_text(self) -> str:
        return "必须提交" if self.required else f"视情况提交:{self.condition}"


@dataclass(frozen=True)
class Notice:
    code: str
    name: str
    sentence: str
    steps: tuple[NoticeStep, ...]
    materials: tuple[NoticeMaterial, ...]
    application_form: str
    facts: tuple[tuple[str, str], ...]  # (label, value) of the handling facts, in reading order
    sms: str

    @property
    def to_bring(self) -> tuple[NoticeMaterial, ...]:
        return tuple(m for m in self.materials if m.required and not m.shared)

    @property
    def fetched(self) -> tuple[NoticeMaterial, ...]:
        return tuple(m for m in self.materials if m.shared)

    @property
    def conditional(self) -> tuple[NoticeMaterial, ...]:
        return tuple(m for m in self.materials if not m.required and not m.shared)


def sentence_of(item: ServiceItem) -> str:
    """What the item is and who may apply, in one sentence."""
    what = item.summary.strip().rstrip("。.")
    who = item.applicants.strip().rstrip("。.")
    return f"本事项{what},{who}可以申请。"


def days_text(days: int | None) -> str:
    if days is None:
        return "法律法规未规定"
    return "即办" if days == 0 else f"{days} 个工作日"


def visits_text(visits: int) -> str:
    if visits == 0:
        return "零跑动(全程网办)"
    if visits == 1:
        return "最多跑一次"
    return f"到现场 {visits} 次"


def _facts(item: ServiceItem) -> tuple[tuple[str, str], ...]:
    promised = days_text(item.promised_days)
    if item.time_limit_note:
        promised = f"{promised}({item.time_limit_note})"
    rows = [
        ("申请对象", item.applicants),
        ("受理条件", item.conditions),
        ("承诺办结时限", promised),
        ("法定办结时限", days_text(item.statutory_days)),
        ("收费标准", item.fee_text),
        ("到现场次数", visits_text(item.visits)),
        ("办理地点", item.window or "网上办理"),
        ("办理渠道", "、".join(item.channel_labels())),
        ("实施部门", item.department.name),
        ("咨询电话", item.phone),
        ("设定依据", item.legal_basis),
        ("事项编码", f"{item.code}(基本编码 {item.basic_code})"),
    ]
    return tuple(rows)


def _material(m: Material) -> NoticeMaterial:
    return NoticeMaterial(
        order=m.order,
        name=m.name,
        form=str(MaterialForm(m.form).label) if m.form in MaterialForm.values else m.form,
        copies=m.copies,
        required=m.required,
        condition=m.condition,
        shared=m.shared,
        shared_source=m.shared_source,
        notes=m.notes,
    )


def build_notice(item: ServiceItem) -> Notice:
    """The notice of one item (its materials prefetched or not)."""
    materials = tuple(_material(m) for m in sorted(item.materials.all(), key=lambda m: m.order))
    steps = tuple(
        NoticeStep(name=str(s.get("name", "")), detail=str(s.get("detail", "")))
        for s in item.steps
        if isinstance(s, dict)
    )
    notice = Notice(
        code=item.code,
        name=item.name,
        sentence=sentence_of(item),
        steps=steps,
        materials=materials,
        application_form=item.application_form,
        facts=_facts(item),
        sms="",
    )
    return replace(notice, sms=sms_text(item=item, notice=notice))


# ---- SMS ---------------------------------------------------------------------------------------


def _copies(m: NoticeMaterial) -> str:
    return "" if m.copies == 1 else f"{m.copies}份"


def sms_text(*, item: ServiceItem, notice: Notice) -> str:
    """The notice as one plain-text SMS of at most SMS_LIMIT characters, one segment a line.

    Every material that must be handed in is always named; when the text is too long it first
    drops forms and copies, then the conditional materials' names, then the applicants line.
    """
    form_line = f"填写{notice.application_form}(窗口提供,也可网上填写)" if notice.application_form else ""
    promised = days_text(item.promised_days)
    promised = "当场办结" if item.promised_days == 0 else f"承诺{promised.replace(' ', '')}办结"
    where = item.window or "网上办理"

    def compose(level: int) -> str:
        parts = [f"{SMS_SIGNATURE}{item.name}一次性告知"]
        if level < 3:
            parts.append(f"对象:{item.applicants}")
        if notice.to_bring:
            if level == 0:
                listed = [f"{m.name}({m.form}{_copies(m)})" for m in notice.to_bring]
            else:
                listed = [m.name for m in notice.to_bring]
            parts.append("需带材料:" + ";".join(f"{n}.{t}" for n, t in enumerate(listed, start=1)))
        if notice.fetched:
            kept = [m.name for m in notice.fetched]
            parts.append("免提交(部门共享获取,无需携带):" + "、".join(kept))
        if notice.conditional:
            if level < 2:
                parts.append("视情况提交:" + ";".join(f"{m.name}({m.condition})" for m in notice.conditional))
            else:
                parts.append(f"另有{len(notice.conditional)}项材料视情况提交,详见告知书")
        if form_line:
            parts.append(form_line)
        parts.append(f"办理:{where};{promised};{item.fee_text};{visits_text(item.visits)}")
        parts.append(f"咨询:{item.phone}")
        return "\n".join(parts)

    for level in range(4):
        text = compose(level)
        if len(text) <= SMS_LIMIT:
            return text
    return text[: SMS_LIMIT - 1] + "…"


# ---- flow picture --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowBox:
    number: int
    x: float
    y: float
    w: float
    h: float
    lines: tuple[str, ...]


@dataclass(frozen=True)
class FlowLayout:
    """Boxes and connectors in a top-left coordinate system (SVG's; the PDF flips y)."""

    width: float
    height: float
    boxes: tuple[FlowBox, ...]
    connectors: tuple[tuple[tuple[float, float], ...], ...]


def _wrap(text: str, width: int, lines: int) -> tuple[str, ...]:
    chunks = [text[i : i + width] for i in range(0, len(text), width)] or [""]
    if len(chunks) > lines:
        chunks = [*chunks[: lines - 1], chunks[lines - 1][: width - 1] + "…"]
    return tuple(chunks)


def flow_layout(
    names: Sequence[str],
    *,
    per_row: int = 4,
    box_w: float = 150,
    box_h: float = 66,
    gap_x: float = 36,
    gap_y: float = 34,
    margin: float = 6,
) -> FlowLayout:
    """Steps left to right, wrapping into rows; a connector joins each step to the next."""
    boxes: list[FlowBox] = []
    for i, name in enumerate(names):
        row, col = divmod(i, per_row)
        boxes.append(
            FlowBox(
                number=i + 1,
                x=margin + col * (box_w + gap_x),
                y=margin + row * (box_h + gap_y),
                w=box_w,
                h=box_h,
                lines=(f"第{i + 1}步", *_wrap(name, 8, 2)),
            )
        )
    connectors: list[tuple[tuple[float, float], ...]] = []
    for a, b in pairwise(boxes):
        if b.y == a.y:
            mid = a.y + a.h / 2
            connectors.append(((a.x + a.w, mid), (b.x, mid)))
        else:
            turn = a.y + a.h + gap_y / 2
            connectors.append(
                (
                    (a.x + a.w / 2, a.y + a.h),
                    (a.x + a.w / 2, turn),
                    (b.x + b.w / 2, turn),
                    (b.x + b.w / 2, b.y),
                )
            )
    columns = min(len(names), per_row) or 1
    rows = (len(names) + per_row - 1) // per_row or 1
    return FlowLayout(
        width=2 * margin + columns * box_w + (columns - 1) * gap_x,
        height=2 * margin + rows * box_h + (rows - 1) * gap_y,
        boxes=tuple(boxes),
        connectors=tuple(connectors),
    )


def flow_svg(steps: Sequence[NoticeStep], *, title_id: str = "flow-title") -> SafeString:
    """The flow picture as inline SVG, with a text alternative naming every step."""
    layout = flow_layout([s.name for s in steps])
    alt = "办理流程:" + " → ".join(f"{n}.{s.name}" for n, s in enumerate(steps, start=1))
    out = [
        f'<svg class="flow" role="img" aria-labelledby="{title_id}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {layout.width:g} {layout.height:g}" width="100%" '
        f'style="max-width:{layout.width:g}px">',
        f'<title id="{title_id}">{escape(alt)}</title>',
        '<defs><marker id="flow-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0 0L10 5L0 10z" fill="#1f5c99"/></marker></defs>',
    ]
    for points in layout.connectors:
        pts = " ".join(f"{x:g},{y:g}" for x, y in points)
        out.append(
            f'<polyline points="{pts}" fill="none" stroke="#1f5c99" stroke-width="2" '
            'marker-end="url(#flow-arrow)"/>'
        )
    for box in layout.boxes:
        out.append(
            f'<rect x="{box.x:g}" y="{box.y:g}" width="{box.w:g}" height="{box.h:g}" rx="8" '
            'fill="#eef4fb" stroke="#1f5c99" stroke-width="2"/>'
        )
        first = box.y + box.h / 2 - (len(box.lines) - 1) * 10 + 5
        for k, line in enumerate(box.lines):
            weight = ' font-weight="700"' if k > 0 else ' fill="#555"'
            size = 17 if k > 0 else 13
            out.append(
                f'<text x="{box.x + box.w / 2:g}" y="{first + k * 20:g}" text-anchor="middle" '
                f'font-size="{size}"{weight}>{escape(line)}</text>'
            )
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every text node above is escaped
