"""The cockpit's figures computed the plain way: every raw row loaded and counted in Python."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from shanzhi.cases.kpis import Kpi
from shanzhi.cases.models import OPEN_STATUSES, Assignment, Case, ClockPause

SH = ZoneInfo("Asia/Shanghai")
SATISFIED = {"very_satisfied", "satisfied", "basic"}


def local(x: dt.datetime) -> dt.date:
    return x.astimezone(SH).date()


def handler_case_ids(handler_id):
    """Cases with a non-cancelled primary assignment to the handler."""
    return {
        a.case_id
        for a in Assignment.objects.all()
        if a.handler_id == handler_id and a.role == "primary" and a.status != "cancelled"
    }


def cases_in(
    start,
    end,
    *,
    township_id=None,
    village_id=None,
    grid_id=None,
    category_ids=None,
    channel="",
    handler_id=None,
):
    out = []
    mine = handler_case_ids(handler_id) if handler_id is not None else None
    for c in Case.objects.all():
        if not (start <= local(c.received_at) <= end):
            continue
        if township_id and c.township_id != township_id:
            continue
        if village_id and c.region_id != village_id:
            continue
        if category_ids is not None and c.category_id not in category_ids:
            continue
        if channel and c.channel != channel:
            continue
        if grid_id and c.grid_id != grid_id:
            continue
        if mine is not None and c.pk not in mine:
            continue
        out.append(c)
    return out


def reference_kpis(start, end, now, **scope):
    cases = cases_in(start, end, **scope)
    intake = [c for c in cases if c.status not in ("refused", "merged")]
    closed = [c for c in cases if c.status in ("closed", "evaluated")]
    secs = sum(round((c.closed_at - c.received_at).total_seconds()) for c in closed if c.closed_at)
    rated = [c for c in cases if c.satisfaction]
    satisfied = [c for c in cases if c.satisfaction in SATISFIED]
    handler_id = scope.pop("handler_id", None)
    case_ids = {c.pk for c in cases_in(dt.date(1970, 1, 1), dt.date(2999, 1, 1), **scope)}
    asg = [a for a in Assignment.objects.all() if a.case_id in case_ids]
    if handler_id is not None:
        # case figures: the handler's cases; assignment figures: the handler's assignments
        scope["handler_id"] = handler_id
        cases = cases_in(start, end, **scope)
        intake = [c for c in cases if c.status not in ("refused", "merged")]
        closed = [c for c in cases if c.status in ("closed", "evaluated")]
        secs = sum(round((c.closed_at - c.received_at).total_seconds()) for c in closed if c.closed_at)
        rated = [c for c in cases if c.satisfaction]
        satisfied = [c for c in cases if c.satisfaction in SATISFIED]
        asg = [a for a in asg if a.handler_id == handler_id]
        case_ids = {c.pk for c in cases_in(dt.date(1970, 1, 1), dt.date(2999, 1, 1), **scope)}
    paused = set(ClockPause.objects.values_list("assignment_id", flat=True))
    started = [a for a in asg if start <= local(a.started_at) <= end and a.status != "cancelled"]
    responded = [a for a in started if a.accepted_at or a.status == "returned"]
    due = [
        a
        for a in asg
        if a.role == "primary" and a.status != "cancelled" and start <= local(a.deadline) <= end
    ]
    on_time = [a for a in due if a.on_time is True and a.status in ("reported", "done")]
    suspended = [a for a in due if a.pk in paused]
    open_cases = [c for c in Case.objects.all() if c.pk in case_ids and c.status in OPEN_STATUSES]
    overdue = [
        a for a in asg if a.role == "primary" and a.status in ("pending", "accepted") and a.deadline < now
    ]
    return {
        "intake": len(intake),
        "closed": len(closed),
        "rated": len(rated),
        "satisfied": len(satisfied),
        "dispatched": len(started),
        "responded": len(responded),
        "due": len(due),
        "on_time": len(on_time),
        "suspended": len(suspended),
        "open": len(open_cases),
        "overdue": len(overdue),
        "resolution_rate": Kpi._rate(len(closed), len(intake)),
        "response_rate": Kpi._rate(len(responded), len(started)),
        "on_time_rate": Kpi._rate(len(on_time), len(due) - len(suspended)),
        "avg_disposal_hours": round(secs / len(closed) / 3600, 2) if closed else None,
    }


def reference_repeats(start, end, **scope):
    """{(place code, category code): (max in 30 days, first window end, in range)} with >= 3,
    per township × village × grid × category (docs/cockpit.md)."""
    from collections import Counter

    lead = start - dt.timedelta(days=29)
    per: dict[tuple, Counter] = {}
    names: dict[tuple, tuple[str, str]] = {}
    for c in cases_in(lead, end, **scope):
        if c.status in ("refused", "merged") or c.category is None or not (c.grid or c.region):
            continue
        key = (c.township_id, c.region_id, c.grid_id, c.category_id)
        per.setdefault(key, Counter())[local(c.received_at)] += 1
        place = c.grid.code if c.grid else c.region.code if c.region else ""
        names[key] = (place, c.category.code)
    out = {}
    for key, counts in per.items():
        best, best_end = 0, ""
        for d in sorted(counts):
            if not (start <= d <= end):
                continue
            n = sum(v for e, v in counts.items() if d - dt.timedelta(days=29) <= e <= d)
            if n > best:
                best, best_end = n, d.isoformat()
        if best >= 3:
            in_range = sum(v for e, v in counts.items() if start <= e <= end)
            out[names[key]] = (best, best_end, in_range)
    return out
