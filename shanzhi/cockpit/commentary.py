"""The monthly report's commentary: plain Chinese sentences computed from the month's figures.

Pure functions over small typed inputs (built from the panels' dicts by `report.py`), so a test
can construct a month where it knows what rose and read the sentences back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# Below this many dispatched cases a handler's on-time rate says little; it is left out of "lowest".
MIN_DISPATCHED_FOR_RATE = 5
TOP = 3


@dataclass(frozen=True)
class Grid:
    name: str
    place: str  # village / township, for a reader who does not know grid names
    intake: int
    overdue: int = 0


@dataclass(frozen=True)
class HandlerLine:
    name: str
    dispatched: int
    overdue: int
    on_time_rate: float | None


@dataclass(frozen=True)
class Repeat:
    place: str
    category: str
    count: int


@dataclass
class MonthFigures:
    """What the commentary needs about one month, and the month before it for comparison."""

    label: str  # e.g. "2025年7月"
    total: int
    previous_total: int
    groups: Mapping[str, int] = field(default_factory=dict)
    previous_groups: Mapping[str, int] = field(default_factory=dict)
    townships: Mapping[str, int] = field(default_factory=dict)
    previous_townships: Mapping[str, int] = field(default_factory=dict)
    grids: Sequence[Grid] = ()
    handlers: Sequence[HandlerLine] = ()
    repeats: Sequence[Repeat] = ()
    overdue: int = 0
    on_time_rate: float | None = None
    satisfaction_rate: float | None = None


@dataclass(frozen=True)
class Section:
    title: str
    sentences: list[str]


def _pct(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def _change(now: int, before: int) -> str:
    """ "增加 12 件(+25.0%)" / "减少 3 件(-10.0%)" / "持平"; a rise from zero has no percentage."""
    diff = now - before
    if diff == 0:
        return "持平"
    word = "增加" if diff > 0 else "减少"
    if before == 0:
        return f"{word} {abs(diff)} 件"
    return f"{word} {abs(diff)} 件({diff / before * 100:+.1f}%)"


@dataclass(frozen=True)
class Move:
    name: str
    now: int
    before: int

    @property
    def diff(self) -> int:
        return self.now - self.before

    def text(self) -> str:
        return f"{self.name}({self.before}→{self.now} 件,{'+' if self.diff > 0 else ''}{self.diff})"


def moves(now: Mapping[str, int], before: Mapping[str, int]) -> tuple[list[Move], list[Move]]:
    """(rises, falls), biggest first; ties by name so the text is stable."""
    names = set(now) | set(before)
    all_moves = [Move(n, int(now.get(n, 0)), int(before.get(n, 0))) for n in names]
    rises = sorted((m for m in all_moves if m.diff > 0), key=lambda m: (-m.diff, m.name))
    falls = sorted((m for m in all_moves if m.diff < 0), key=lambda m: (m.diff, m.name))
    return rises, falls


def _rise_fall(subject: str, now: Mapping[str, int], before: Mapping[str, int]) -> list[str]:
    rises, falls = moves(now, before)
    out = []
    if rises:
        out.append(f"按{subject},上升的有:" + "、".join(m.text() for m in rises[:TOP]) + "。")
    if falls:
        out.append(f"按{subject},下降的有:" + "、".join(m.text() for m in falls[:TOP]) + "。")
    if not rises and not falls and (now or before):
        out.append(f"各{subject}诉求量与上月持平。")
    return out


def overview(m: MonthFigures) -> Section:
    sentences = [f"{m.label}共受理诉求 {m.total} 件,较上月{_change(m.total, m.previous_total)}。"]
    extra = []
    if m.on_time_rate is not None:
        extra.append(f"按期结案率 {_pct(m.on_time_rate)}")
    if m.satisfaction_rate is not None:
        extra.append(f"满意率 {_pct(m.satisfaction_rate)}")
    if m.overdue:
        extra.append(f"目前仍有 {m.overdue} 件超期未办结")
    if extra:
        sentences.append(",".join(extra) + "。")
    return Section("总体情况", sentences)


def rise_and_fall(m: MonthFigures) -> Section:
    sentences = _rise_fall("诉求大类", m.groups, m.previous_groups)
    sentences += _rise_fall("乡镇(街道)", m.townships, m.previous_townships)
    if not sentences:
        sentences = ["本月与上月均无诉求,无升降可比。"]
    return Section("升降变化", sentences)


def hotspots(m: MonthFigures) -> Section:
    busy = sorted((g for g in m.grids if g.intake > 0), key=lambda g: (-g.intake, g.name))[:TOP]
    if not busy:
        return Section("热点区域", ["本月没有落到网格的诉求。"])
    parts = [f"{g.name}({g.place},{g.intake} 件)" for g in busy]
    sentences = ["诉求最集中的网格是:" + "、".join(parts) + "。"]
    late = sorted((g for g in m.grids if g.overdue > 0), key=lambda g: (-g.overdue, g.name))[:TOP]
    if late:
        sentences.append("超期件最多的网格是:" + "、".join(f"{g.name}({g.overdue} 件)" for g in late) + "。")
    return Section("热点区域", sentences)


def late_handlers(m: MonthFigures) -> Section:
    sentences = []
    most = sorted((h for h in m.handlers if h.overdue > 0), key=lambda h: (-h.overdue, h.name))[:TOP]
    if most:
        sentences.append(
            "超期件最多的承办单位:" + "、".join(f"{h.name}({h.overdue} 件)" for h in most) + "。"
        )
    rated = [
        h
        for h in m.handlers
        if h.on_time_rate is not None and h.dispatched >= MIN_DISPATCHED_FOR_RATE and h.on_time_rate < 1
    ]
    lowest = sorted(rated, key=lambda h: (h.on_time_rate or 0.0, h.name))[:TOP]
    if lowest:
        sentences.append(
            "按期办结率最低的承办单位:"
            + "、".join(f"{h.name}({_pct(h.on_time_rate or 0.0)},派遣 {h.dispatched} 件)" for h in lowest)
            + "。"
        )
    if not sentences:
        sentences.append("本月各承办单位均按期办理,没有超期件。")
    return Section("办理迟缓的单位", sentences)


def repeats(m: MonthFigures) -> Section:
    if not m.repeats:
        return Section("重复诉求", ["没有同一地点同类诉求 30 天内反复出现 3 次及以上的情况。"])
    top = sorted(m.repeats, key=lambda r: (-r.count, r.place, r.category))[:TOP]
    return Section(
        "重复诉求",
        [
            f"同一地点同类诉求 30 天内反复出现 3 次及以上的共 {len(m.repeats)} 处,最多的是:"
            + "、".join(f"{r.place}的{r.category}({r.count} 次)" for r in top)
            + ",建议督办根治。"
        ],
    )


def commentary(m: MonthFigures) -> list[Section]:
    return [overview(m), rise_and_fall(m), hotspots(m), late_handlers(m), repeats(m)]
