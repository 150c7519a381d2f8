"""Reads of ratings, rectifications, appeals and 办不成事 reports, and the monthly staff ranking.

Visibility: supervisors, leaders and administrators see their jurisdiction (the rated object's
region); a responsible body's handlers and leaders also see what is rated against their body,
wherever it is; residents see the ratings they gave. Anything else is a 404. Rankings and the
办不成事 queue are for supervisors only: to anyone else they do not exist (404).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, TypeVar

from django.db.models import BooleanField, Count, ExpressionWrapper, Model, Q, QuerySet

from shanzhi.core.errors import NotFound, ServiceError
from shanzhi.core.models import Staff
from shanzhi.core.selectors import has_role, in_jurisdiction, roles_of, staff_of
from shanzhi.core.workcal import TZ
from shanzhi.ratings.models import (
    GOOD_LEVELS,
    Appeal,
    AppealStatus,
    CannotGetDoneReport,
    Rating,
    Rectification,
    ReportStatus,
)

M = TypeVar("M", bound=Model)

SUPERVISE_ROLES = frozenset({"supervisor", "admin"})
OVERSIGHT_ROLES = frozenset({"supervisor", "leader", "admin"})
UNIT_ROLES = frozenset({"handler", "leader"})

# The ranking rule (see rankings below): at least MIN_RATED ratings in the month to be ranked;
# the lowest BOTTOM_PERCENT % (rounded up, ties at the cut included) are flagged.
MIN_RATED = 5
BOTTOM_PERCENT = 10


def _visible(
    qs: QuerySet[M], *, user: Any, handler_field: str, rater_field: str | None = None
) -> QuerySet[M]:
    roles = roles_of(user=user)
    cond = Q(pk__in=[])
    if roles & OVERSIGHT_ROLES:
        cond |= Q(pk__in=in_jurisdiction(qs.model._default_manager.all(), user=user).values("pk"))
    staff = staff_of(user=user)
    if staff is not None and staff.handler_id is not None and roles & UNIT_ROLES:
        cond |= Q(**{handler_field: staff.handler_id})
    if rater_field and "resident" in roles:
        cond |= Q(**{rater_field: user.pk})
    return qs.filter(cond)


# --- ratings ------------------------------------------------------------------------------------


def rating_list(*, user: Any) -> QuerySet[Rating]:
    qs = Rating.objects.select_related("region", "handler", "staff", "rectification", "appeal")
    return _visible(qs, user=user, handler_field="handler_id", rater_field="rater_id")


def rating_get(*, user: Any, pk: int) -> Rating:
    rating = rating_list(user=user).filter(pk=pk).first()
    if rating is None:
        raise NotFound("评价不存在或不在您的管辖范围内")
    return rating


def rating_of(*, obj_type: str, obj_id: str) -> Rating | None:
    """The rating of one object, for the rating page of someone already allowed to rate it."""
    return (
        Rating.objects.select_related("rectification").filter(object_type=obj_type, object_id=obj_id).first()
    )


# --- rectifications and appeals ------------------------------------------------------------------


def rectification_list(*, user: Any) -> QuerySet[Rectification]:
    qs = Rectification.objects.select_related(
        "rating", "rating__staff", "rating__appeal", "handler", "region", "called_back_by", "fixed_by"
    )
    return _visible(qs, user=user, handler_field="handler_id")


def rectification_get(*, user: Any, pk: int) -> Rectification:
    rectification = rectification_list(user=user).filter(pk=pk).first()
    if rectification is None:
        raise NotFound("整改任务不存在或不在您的管辖范围内")
    return rectification


def appeal_list(*, user: Any) -> QuerySet[Appeal]:
    qs = Appeal.objects.select_related("rating", "rating__handler", "rating__staff", "filed_by", "decided_by")
    return _visible(qs, user=user, handler_field="rating__handler_id")


def appeal_get(*, user: Any, pk: int) -> Appeal:
    appeal = appeal_list(user=user).filter(pk=pk).first()
    if appeal is None:
        raise NotFound("申诉不存在或不在您的管辖范围内")
    return appeal


def pending_appeals(*, user: Any) -> QuerySet[Appeal]:
    """What waits for this supervisor's decision."""
    if not has_role(user=user, roles=SUPERVISE_ROLES):
        return Appeal.objects.none()
    return in_jurisdiction(appeal_list(user=user), user=user).filter(status=AppealStatus.PENDING)


# --- 办不成事 --------------------------------------------------------------------------------------


def require_supervisor(*, user: Any) -> None:
    if not has_role(user=user, roles=SUPERVISE_ROLES):
        raise NotFound("页面不存在")


def cannot_get_done_list(*, user: Any) -> QuerySet[CannotGetDoneReport]:
    """The supervisor's queue: open first, then by the response deadline."""
    require_supervisor(user=user)
    done = ExpressionWrapper(Q(status=ReportStatus.RESOLVED), output_field=BooleanField())
    return (
        in_jurisdiction(CannotGetDoneReport.objects.select_related("region"), user=user)
        .annotate(done=done)
        .order_by("done", "respond_by", "pk")
    )


def cannot_get_done_get(*, user: Any, pk: int) -> CannotGetDoneReport:
    report = cannot_get_done_list(user=user).filter(pk=pk).first()
    if report is None:
        raise NotFound("反映不存在或不在您的管辖范围内")
    return report


OPEN_REPORT = (ReportStatus.OPEN, ReportStatus.RESPONDED)


# --- the monthly staff ranking --------------------------------------------------------------------

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(value: str) -> dt.date:
    match = _MONTH.match((value or "").strip())
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise ServiceError("invalid_month", "月份格式应为 YYYY-MM,如 2026-11", status=422)
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def previous_month(month: dt.date) -> dt.date:
    return (month.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[first day 00:00, next month's first day 00:00) in Asia/Shanghai."""
    start = dt.datetime(month.year, month.month, 1, tzinfo=TZ)
    nxt = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return start, dt.datetime(nxt.year, nxt.month, 1, tzinfo=TZ)


@dataclass(frozen=True)
class RankRow:
    staff_id: int
    name: str
    handler: str
    region: str
    count: int
    good: int
    satisfaction: Fraction
    ranked: bool
    position: int | None
    flag: str  # "" | "talk" (谈话培训) | "transfer" (调岗建议)

    @property
    def percent(self) -> float:
        return round(float(self.satisfaction) * 100, 1)

    @property
    def flag_label(self) -> str:
        return {"talk": "谈话培训", "transfer": "调岗建议"}.get(self.flag, "")


@dataclass(frozen=True)
class Ranking:
    month: dt.date
    rows: list[RankRow]
    ranked: int
    bottom_size: int
    min_rated: int = MIN_RATED
    bottom_percent: int = BOTTOM_PERCENT


def _month_counts(*, user: Any, month: dt.date) -> dict[int, tuple[int, int]]:
    """staff id → (ratings, good ratings) in the month, without ratings excluded on appeal."""
    start, end = month_bounds(month)
    qs = in_jurisdiction(
        Rating.objects.filter(excluded=False, staff__isnull=False, created_at__gte=start, created_at__lt=end),
        user=user,
    )
    rows = (
        qs.order_by()
        .values("staff_id")
        .annotate(n=Count("id"), good=Count("id", filter=Q(level__in=GOOD_LEVELS)))
    )
    return {row["staff_id"]: (row["n"], row["good"]) for row in rows}


def bottom_of(counts: dict[int, tuple[int, int]]) -> tuple[set[int], int]:
    """The flagged staff of one month and how many places the bottom holds.

    Among staff with at least MIN_RATED ratings, the bottom is the lowest ⌈n × 10 %⌉ places by
    satisfaction; everyone tied with the last of those places is in it too (two people with the
    same score are treated alike), and a satisfaction of 100 % is never flagged."""
    ranked = {sid: Fraction(good, n) for sid, (n, good) in counts.items() if n >= MIN_RATED}
    if not ranked:
        return set(), 0
    size = -(-len(ranked) * BOTTOM_PERCENT // 100)  # ceiling without floats
    cutoff = sorted(ranked.values())[size - 1]
    return {sid for sid, s in ranked.items() if s <= cutoff and s < 1}, size


def staff_ranking(*, user: Any, month: dt.date) -> Ranking:
    """Satisfaction per responsible staff member in a month (share of 非常满意 + 满意 + 基本满意),
    ranked; bottom → 谈话培训, bottom in this and the previous month → 调岗建议."""
    require_supervisor(user=user)
    counts = _month_counts(user=user, month=month)
    bottom, size = bottom_of(counts)
    before, _ = bottom_of(_month_counts(user=user, month=previous_month(month)))
    people = Staff.objects.select_related("handler", "region").in_bulk(list(counts))
    rows: list[RankRow] = []
    for sid, (n, good) in counts.items():
        person = people.get(sid)
        flag = ("transfer" if sid in before else "talk") if sid in bottom else ""
        rows.append(
            RankRow(
                staff_id=sid,
                name=person.name if person else str(sid),
                handler=person.handler.name if person and person.handler else "",
                region=person.region.name if person else "",
                count=n,
                good=good,
                satisfaction=Fraction(good, n),
                ranked=n >= MIN_RATED,
                position=None,
                flag=flag,
            )
        )
    rows.sort(key=lambda r: (not r.ranked, -r.satisfaction, -r.count, r.name))
    positioned: list[RankRow] = []
    for i, row in enumerate(rows):
        if not row.ranked:
            positioned.append(row)
            continue
        previous = positioned[-1] if positioned else None
        same = previous is not None and previous.ranked and previous.satisfaction == row.satisfaction
        position = previous.position if same and previous is not None else i + 1
        positioned.append(RankRow(**{**row.__dict__, "position": position}))
    ranked_count = sum(1 for r in rows if r.ranked)
    return Ranking(month=month, rows=positioned, ranked=ranked_count, bottom_size=size)
