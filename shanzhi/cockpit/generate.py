"""`shanzhi demo generate`: years of realistic case history for the demo county, at scale.

What the history looks like is the tables in `generate_profile.py`; this module samples it with
numpy, a chunk of consecutive days at a time, and writes the rows with `generate_copy` (COPY on
PostgreSQL, executemany on SQLite) in ONE transaction: a failed run leaves nothing behind.

* Volume per day: yearly growth × season × weekday/holiday (per channel) × a little noise; the
  total is exactly the number asked for (one multinomial draw over the days).
* Each case: channel given the day, hour given the channel, category given the month, grid given
  the category (hotspot grids carry several times the average; a point inside the grid's polygon),
  handlers from the category's handler types and the place, exactly as triage routes them.
* Clocks: the category's time limit on the working-time calendar (`generate_clock`), so every
  assignment's warn_at / deadline / county_at equal what `cases.clocks.set_thresholds` gives.
  Handlers differ in speed; what is not finished by now is open, some of it overdue.
* Numbers: "G" + a two-digit run number + the day + a seven-digit sequence (e.g.
  G00202406010000042); the real services number "SZ…" (cases) and "SQ…" (applications), and
  generated applications are "GA…", so no generated number can collide with a real one.

Deterministic: the same seed, count, years and end day on an empty history give the same rows.
A generated history is demo data, not a governed change: it is recorded by ONE audit entry with
the counts, seed and range, not an entry per case.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from shanzhi.audit.services import audit_append
from shanzhi.cases.models import Assignment, Case, Category, ClockUnit
from shanzhi.cockpit import generate_profile as profile
from shanzhi.cockpit.generate_clock import DAY, WorkClock, day_start
from shanzhi.cockpit.generate_copy import (
    TableWriter,
    booleans,
    checks_off,
    choose,
    float_text,
    indexes_create,
    indexes_drop,
    is_postgres,
    numbers,
    tables_analyze,
    tables_vacuum,
    timestamps,
)
from shanzhi.core.errors import ServiceError
from shanzhi.core.models import Estate, Handler, Region, RegionLevel
from shanzhi.core.selectors import region_county

CHUNK = 200_000  # cases sampled and written at a time
# From this many cases on (and at least a quarter of the rows already there), the secondary
# indexes are dropped for the load and built once at the end: sorting beats random inserts.
BIG_LOAD = 200_000
POINTS_PER_GRID = 64
MAX_CASES = 100_000_000
MAX_YEARS = 20
PREFIX = "G"
APP_PREFIX = "GA"
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蒋蔡余杜叶程魏苏吕丁任沈姚"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国海燕志斌文辉林波春梅晓东雪琴慧"
CONFIDENCE = [b"%.3f" % (0.55 + i / 1000) for i in range(440)]
SLA_TEXT = [b"%d.0" % h for h in range(1000)]
CHANNEL_PREFIX = {
    "hotline": "市民来电反映:",
    "app": "",
    "grid": "网格员巡查上报:",
    "sensor": "物联感知告警:",
    "superior": "上级交办:",
    "open311": "",
}


@dataclass
class GenerationSummary:
    cases: int
    assignments: int
    applications: int
    seed: int
    start: dt.date
    end: dt.date
    run: int
    hotspot_grids: list[str] = field(default_factory=list)
    seconds: float = 0.0
    by_status: dict[str, int] = field(default_factory=dict)

    def as_state(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "assignments": self.assignments,
            "applications": self.applications,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "run": self.run,
            "by_status": self.by_status,
        }


# --- the county as the generator needs it -----------------------------------------------------


@dataclass
class World:
    cat_pk: np.ndarray
    cat_codes: list[str]
    cat_sla: np.ndarray  # hours
    cat_natural: np.ndarray  # bool: natural-hours clock
    cat_primary: list[str]  # handler type code
    cat_co: list[tuple[str, ...]]
    phrases: list[list[str]]
    village_pk: np.ndarray
    village_names: list[str]
    village_address: list[str]
    village_township: np.ndarray  # township pk
    village_community: np.ndarray  # bool: a community (社区)
    village_estates: list[list[int]]  # estate pks
    township_handler: np.ndarray  # per village: the township body's pk
    community_handler: np.ndarray  # per village: the village/community committee's pk
    estate_company: dict[int, int]  # estate pk → property company handler pk
    estate_name: dict[int, str]
    dept_handler: dict[str, int]  # handler code → pk (county departments)
    grid_pk: np.ndarray
    grid_codes: list[str]
    grid_village: np.ndarray  # index into the village arrays
    grid_points: np.ndarray  # (grids, POINTS_PER_GRID, 2) lon/lat inside the polygon
    grid_point_text: np.ndarray  # the same as text
    handler_pks: np.ndarray  # every handler pk, sorted (for the per-handler speed table)
    items: list[tuple[int, int, int]] = field(default_factory=list)  # (item pk, department pk, days)


def _phrases(scope: str, name: str) -> list[str]:
    text = re.sub(r"[((][^))]*[))]", "", scope)
    text = re.sub(r";.*$", "", text)
    parts = [p.strip() for p in re.split(r"[、,,]", text) if p.strip()]
    return parts or [name]


def _points_in(geometry: dict[str, Any], rng: np.random.Generator, count: int) -> np.ndarray:
    """`count` points inside the polygon by rejection from its bounding box."""
    shape = shapely.geometry.shape(geometry)
    min_x, min_y, max_x, max_y = shape.bounds
    out: list[np.ndarray] = []
    have = 0
    for _ in range(200):
        xs = rng.uniform(min_x, max_x, count * 2)
        ys = rng.uniform(min_y, max_y, count * 2)
        inside = shapely.contains_xy(shape, xs, ys)
        pts = np.column_stack([xs[inside], ys[inside]])
        out.append(pts)
        have += len(pts)
        if have >= count:
            break
    if have < count:
        centroid = shape.representative_point()
        out.append(np.array([[centroid.x, centroid.y]] * (count - have)))
    return np.concatenate(out)[:count]


def world_load(*, seed: int) -> World:
    """Read the demo county; a clear error when `shanzhi demo load` has not made it yet."""
    from shanzhi.grid.models import Grid
    from shanzhi.onewindow.models import ServiceItem

    county = region_county()
    categories = list(
        Category.objects.filter(active=True).select_related("primary_handler").prefetch_related("co_handlers")
    )
    if county is None or not categories:
        raise ServiceError("demo_missing", "尚无演示县或诉求类别,请先运行 shanzhi demo load")
    villages = list(
        Region.objects.filter(level=RegionLevel.VILLAGE, path__startswith=county.path)
        .select_related("parent")
        .order_by("code")
    )
    grids = list(Grid.objects.filter(active=True, village__in=villages).order_by("code"))
    if not grids:
        raise ServiceError("demo_missing", "尚无网格,请先运行 shanzhi demo load")
    handlers = {h.code: h for h in Handler.objects.filter(active=True)}
    v_index = {v.pk: i for i, v in enumerate(villages)}

    def body(code: str) -> int:
        h = handlers.get(code)
        if h is None:
            raise ServiceError("demo_missing", f"缺少承办单位 {code},请先运行 shanzhi demo load")
        return h.pk

    estates: list[list[int]] = [[] for _ in villages]
    company: dict[int, int] = {}
    estate_name: dict[int, str] = {}
    for e in Estate.objects.filter(region__in=villages, property_company__active=True).order_by("pk"):
        assert e.property_company_id is not None
        estates[v_index[e.region_id]].append(e.pk)
        company[e.pk] = e.property_company_id
        estate_name[e.pk] = e.name
    departments = {
        t for c in categories for t in (c.primary_handler.code, *(h.code for h in c.co_handlers.all()))
    } - {"township", "community", "property"}
    rng = np.random.default_rng([seed, 11])
    points = np.stack([_points_in(g.geometry, rng, POINTS_PER_GRID) for g in grids])
    items = [
        (i.pk, i.department_id, i.promised_days)
        for i in ServiceItem.objects.filter(active=True).order_by("code")
    ]
    return World(
        cat_pk=np.array([c.pk for c in categories]),
        cat_codes=[c.code for c in categories],
        cat_sla=np.array([float(c.sla_hours) for c in categories]),
        cat_natural=np.array([c.clock_unit == ClockUnit.NATURAL_HOURS for c in categories]),
        cat_primary=[c.primary_handler.code for c in categories],
        cat_co=[
            tuple(t for t in (h.code for h in c.co_handlers.all()) if t != c.primary_handler.code)
            for c in categories
        ],
        phrases=[_phrases(c.scope, c.name) for c in categories],
        village_pk=np.array([v.pk for v in villages]),
        village_names=[v.name for v in villages],
        village_address=[f"{v.parent.name if v.parent else ''}{v.name}" for v in villages],
        village_township=np.array([v.parent_id or 0 for v in villages]),
        village_community=np.array([v.kind == "社区" for v in villages]),
        village_estates=estates,
        township_handler=np.array([body(f"township-{v.parent.code}") if v.parent else 0 for v in villages]),
        community_handler=np.array([body(f"community-{v.code}") for v in villages]),
        estate_company=company,
        estate_name=estate_name,
        dept_handler={code: body(code) for code in sorted(departments)},
        grid_pk=np.array([g.pk for g in grids]),
        grid_codes=[g.code for g in grids],
        grid_village=np.array([v_index[g.village_id] for g in grids]),
        grid_points=points,
        grid_point_text=float_text(points),
        handler_pks=np.array(sorted(h.pk for h in handlers.values())),
        items=items,
    )


# --- the plan: days, places, handlers --------------------------------------------------------


@dataclass
class Plan:
    world: World
    seed: int
    start: dt.date
    end: dt.date
    now: int  # epoch seconds: nothing is received after it; what is unfinished then is open
    run: int
    clock: WorkClock
    channels: list[str]
    day_counts: np.ndarray  # cases per day
    day_working: np.ndarray
    day_month: np.ndarray  # 0..11
    channel_cdf_work: np.ndarray
    channel_cdf_off: np.ndarray
    hour_cdf: np.ndarray  # (channels, 24)
    category_cdf: np.ndarray  # (12, categories)
    grid_cdf: np.ndarray  # (categories, grids)
    hotspots: np.ndarray  # grid indices
    handler_mu: np.ndarray  # per handler_pks entry
    text_table: np.ndarray  # bytes: channel × village × category × phrase
    address_table: np.ndarray  # bytes: each village's address, then each estate's
    estate_slot: dict[int, int]  # estate pk → its row in address_table
    phrase_counts: np.ndarray
    max_phrases: int


def _cdf(weights: np.ndarray) -> np.ndarray:
    c = np.cumsum(weights, axis=-1, dtype=float)
    return c / c[..., -1:]


def _pick(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)


def plan_make(*, world: World, cases: int, years: int, seed: int, end: dt.date, now: int, run: int) -> Plan:
    rng = np.random.default_rng([seed, 1])
    start = dt.date(end.year - years, end.month, 1 if (end.month, end.day) == (2, 29) else end.day)
    start += dt.timedelta(days=1)
    days = (end - start).days + 1
    # The calendar covers the history and the clocks of work still open (up to ~2 years on).
    clock = WorkClock(first=start - dt.timedelta(days=1), days=days + 800)
    day_list = [start + dt.timedelta(days=i) for i in range(days)]
    working = clock.working[1 : days + 1]
    month = np.array([d.month - 1 for d in day_list])
    age_years = np.array([(d - start).days / 365.25 for d in day_list])
    channels = list(profile.CHANNELS)
    share = np.array([profile.CHANNELS[c][0] for c in channels])
    off = np.array([profile.CHANNELS[c][1] for c in channels])
    weekday_weight = np.where(working, share.sum(), (share * off).sum())
    codes = world.cat_codes
    base = np.array([profile.CATEGORY_SHARE.get(c, 1.0) for c in codes])
    season = np.array([profile.SEASON.get(c, (1.0,) * 12) for c in codes]).T  # (12, C)
    by_month = season * base  # (12, C)
    month_weight = by_month.sum(axis=1) / base.sum()
    weights = (
        weekday_weight
        * month_weight[month]
        * profile.YEARLY_GROWTH**age_years
        * rng.lognormal(0.0, 0.12, size=days)
    )
    today_share = 1.0
    if day_start(end) <= now < day_start(end) + DAY:
        today_share = max((now - day_start(end)) / DAY, 0.01)
    weights[-1] *= today_share
    day_counts = rng.multinomial(cases, weights / weights.sum())
    # places
    g = len(world.grid_pk)
    community = world.village_community[world.grid_village]
    has_estate = np.array([bool(world.village_estates[v]) for v in world.grid_village])
    grid_w = np.where(community, profile.COMMUNITY_WEIGHT, 1.0) * rng.lognormal(0.0, 0.35, size=g)
    hot = rng.choice(g, size=max(1, round(g * profile.HOTSPOT_SHARE)), replace=False)
    grid_w[hot] *= profile.HOTSPOT_FACTOR
    rows = []
    for code in codes:
        w = grid_w.copy()
        if code in profile.ESTATE_CATEGORIES and has_estate.any():
            w = np.where(has_estate, w, 0.0)
        elif code in profile.RURAL_CATEGORIES and (~community).any():
            w = np.where(community, 0.0, w)
        rows.append(w)
    handler_mu = rng.normal(profile.SPEED_MU, profile.SPEED_SPREAD, size=len(world.handler_pks))
    # texts: one table lookup per case instead of a format per row
    max_phrases = max(len(p) for p in world.phrases)
    table = [
        f"{CHANNEL_PREFIX[ch]}{vname}{phrases[pi % len(phrases)]}。".encode()
        for ch in channels
        for vname in world.village_names
        for phrases in world.phrases
        for pi in range(max_phrases)
    ]
    estate_villages = {e: vi for vi, es in enumerate(world.village_estates) for e in es}
    estates = sorted(world.estate_name)
    addresses = [a.encode() for a in world.village_address] + [
        (world.village_address[estate_villages[e]] + world.estate_name[e]).encode() for e in estates
    ]
    return Plan(
        world=world,
        seed=seed,
        start=start,
        end=end,
        now=now,
        run=run,
        clock=clock,
        channels=channels,
        day_counts=day_counts,
        day_working=working,
        day_month=month,
        channel_cdf_work=_cdf(share),
        channel_cdf_off=_cdf(share * off),
        hour_cdf=_cdf(np.array([profile.HOURS[c] for c in channels])),
        category_cdf=_cdf(by_month),
        grid_cdf=_cdf(np.array(rows)),
        hotspots=np.sort(hot),
        handler_mu=handler_mu,
        text_table=np.array(table),
        address_table=np.array(addresses),
        estate_slot={e: len(world.village_address) + i for i, e in enumerate(estates)},
        phrase_counts=np.array([len(p) for p in world.phrases]),
        max_phrases=max_phrases,
    )


def _chunks(counts: np.ndarray, size: int) -> list[tuple[int, int]]:
    """Consecutive day ranges [a, b) holding about `size` cases each."""
    out, a, acc = [], 0, 0
    for i, n in enumerate(counts):
        acc += int(n)
        if acc >= size:
            out.append((a, i + 1))
            a, acc = i + 1, 0
    if a < len(counts):
        out.append((a, len(counts)))
    return out


# --- one chunk of cases ----------------------------------------------------------------------


@dataclass
class Sequence:
    """Running ids and per-day numbers across chunks."""

    case_id: int
    assignment_id: int
    application_id: int
    per_day: dict[int, int] = field(default_factory=dict)


def _day_numbers(prefix: str, run: int, days: np.ndarray, plan: Plan, width: int) -> np.ndarray:
    """prefix + run + YYYYMMDD + sequence within the day; `days` are sorted day indices."""
    n = len(days)
    first = np.searchsorted(days, days, side="left")
    seq = np.arange(n) - first + 1
    if n and seq.max() >= 10**width:
        raise ServiceError("too_many_per_day", f"一天最多生成 {10**width - 1} 件")
    heads = np.array(
        [
            f"{prefix}{run:02d}{plan.start + dt.timedelta(days=int(d)):%Y%m%d}".encode()
            for d in range(len(plan.day_counts))
        ]
    )
    head = heads[days]
    size = head.dtype.itemsize
    digits = ((seq[:, None] // 10 ** np.arange(width - 1, -1, -1)) % 10 + ord("0")).astype(np.uint8)
    matrix = np.concatenate([np.frombuffer(head.tobytes(), dtype=np.uint8).reshape(n, size), digits], axis=1)
    return np.ascontiguousarray(matrix).view(f"S{size + width}").ravel()


def _cases_chunk(
    plan: Plan, rng: np.random.Generator, a: int, b: int, seq: Sequence
) -> tuple[dict[str, Any], dict[str, Any], int, dict[str, int]]:
    w = plan.world
    counts = plan.day_counts[a:b]
    n = int(counts.sum())
    day = np.repeat(np.arange(a, b), counts)
    working = plan.day_working[day]
    u = rng.random(n)
    ch = np.where(working, _pick(plan.channel_cdf_work, u), _pick(plan.channel_cdf_off, u))
    hour = np.empty(n, dtype=np.int64)
    u = rng.random(n)
    for ci in range(len(plan.channels)):
        m = ch == ci
        hour[m] = _pick(plan.hour_cdf[ci], u[m])
    recv = day_start(plan.start) + day * DAY + hour * 3600 + rng.integers(0, 3600, n)
    late = recv > plan.now  # today's requests after this moment move back a day
    recv[late] -= DAY
    order = np.argsort(recv, kind="stable")
    ch, recv = ch[order], recv[order]
    day = (recv - day_start(plan.start)) // DAY
    month = plan.day_month[day]
    cat = np.empty(n, dtype=np.int64)
    u = rng.random(n)
    for mi in range(12):
        m = month == mi
        cat[m] = _pick(plan.category_cdf[mi], u[m])
    grid = np.empty(n, dtype=np.int64)
    u = rng.random(n)
    for ki in range(len(w.cat_codes)):
        m = cat == ki
        grid[m] = _pick(plan.grid_cdf[ki], u[m])
    village = w.grid_village[grid]
    point = w.grid_point_text[grid, rng.integers(0, POINTS_PER_GRID, n)]
    phrase = (rng.random(n) * plan.phrase_counts[cat]).astype(np.int64)
    text_idx = ((ch * len(w.village_names) + village) * len(w.cat_codes) + cat) * plan.max_phrases + phrase
    text = plan.text_table[text_idx]

    # estates for the categories a property company serves
    wants_estate = np.array(
        ["property" in (w.cat_primary[k], *w.cat_co[k]) for k in range(len(w.cat_codes))]
    )[cat]
    estate = np.zeros(n, dtype=np.int64)
    pick = rng.random(n)
    for vi in np.unique(village[wants_estate]):
        options = w.village_estates[vi]
        if not options:
            continue
        m = wants_estate & (village == vi)
        estate[m] = np.array(options)[(pick[m] * len(options)).astype(np.int64)]
    slot = village.copy()
    has_estate = estate > 0
    if has_estate.any():
        slot[has_estate] = [plan.estate_slot[int(e)] for e in estate[has_estate]]
    address = plan.address_table[slot]

    def resolve(type_codes: list[str]) -> np.ndarray:
        out = np.zeros(n, dtype=np.int64)
        for ki, t in enumerate(type_codes):
            m = cat == ki
            if not t or not m.any():
                continue
            if t == "township":
                out[m] = w.township_handler[village[m]]
            elif t == "community":
                out[m] = w.community_handler[village[m]]
            elif t == "property":
                out[m] = [w.estate_company.get(int(e), 0) for e in estate[m]]
            else:
                out[m] = w.dept_handler[t]
        return out

    primary = resolve(w.cat_primary)
    co_type = [next((t for t in cos if t != "property"), cos[0]) if cos else "" for cos in w.cat_co]
    co = resolve(co_type)
    co_wanted = (co > 0) & (co != primary) & (rng.random(n) < profile.CO_ASSIGNMENT_SHARE)

    # the loop's moments
    natural = w.cat_natural[cat]
    sla = w.cat_sla[cat]
    refused = (rng.random(n) < profile.REFUSED_SHARE) | (primary == 0)
    registered = recv + rng.exponential(np.where(natural, 600, 1800), n).astype(np.int64) + 60
    dispatched = (
        registered + rng.exponential(np.where(natural, 600, 3600), n).astype(np.int64)
    ) // 60 * 60 + 60
    clock = plan.clock
    warn_at = clock.advance(dispatched, sla * 0.8, natural)
    deadline = clock.advance(dispatched, sla, natural)
    county_at = clock.advance(dispatched, sla * 2.0, natural)
    speed = plan.handler_mu[np.searchsorted(w.handler_pks, primary)]
    share = np.clip(np.exp(speed + profile.SPEED_SIGMA * rng.standard_normal(n)), 0.02, 6.0)
    rework = rng.random(n) < profile.REWORK_SHARE
    share = share + np.where(rework, 0.3, 0.0)
    reported = clock.advance(dispatched, sla * share, natural)
    accepted = dispatched + rng.exponential(np.where(natural, 300, 5400), n).astype(np.int64) + 30
    accepted = np.minimum(accepted, reported - 30)
    accepted = np.maximum(accepted, dispatched + 1)
    reported = np.maximum(reported, accepted + 30)
    closed = reported + rng.exponential(np.where(natural, 3 * 3600, 20 * 3600), n).astype(np.int64) + 600
    rated = closed + rng.exponential(30 * 3600, n).astype(np.int64) + 300
    is_rated = rng.random(n) < profile.RATED_SHARE
    stuck = (recv > plan.now - profile.STUCK_DAYS * DAY) & (rng.random(n) < profile.STUCK_SHARE)
    never = np.iinfo(np.int64).max // 4
    reported[stuck] = closed[stuck] = rated[stuck] = never
    refused_at = recv + rng.integers(1800, DAY, n)
    on_time = reported <= deadline

    now = plan.now
    status = np.full(n, "received", dtype="U12")
    s_registered = ~refused & (registered <= now)
    s_dispatched = s_registered & (dispatched <= now)
    s_accepted = s_dispatched & (accepted <= now)
    s_reported = s_accepted & (reported <= now)
    s_closed = s_reported & (closed <= now)
    s_rated = s_closed & is_rated & (rated <= now)
    status[s_registered] = "registered"
    status[s_dispatched] = "dispatched"
    status[s_accepted] = "in_progress"
    status[s_reported] = "verifying"
    status[s_closed] = "closed"
    status[s_rated] = "evaluated"
    s_refused = refused & (refused_at <= now)
    status[s_refused] = "refused"

    # satisfaction: late work and slow handlers are rated worse
    p_bad = 0.03 + 0.15 * ~on_time + 0.06 * (speed > profile.SPEED_MU + 0.3)
    bad = rng.random(n) < p_bad
    level = rng.random(n)
    satisfaction = np.where(
        bad,
        np.where(level < 0.7, "unsatisfied", "very_unsatisfied"),
        np.where(level < 0.45, "very_satisfied", np.where(level < 0.85, "satisfied", "basic")),
    )
    satisfaction[~s_rated] = ""

    ids = seq.case_id + np.arange(n)
    seq.case_id += n
    case_cols: dict[str, Any] = {
        "id": numbers(ids),
        "number": _day_numbers(PREFIX, plan.run, day, plan, 7),
        "channel": choose(plan.channels, ch),
        "status": status.astype("S12"),
        "text": text,
        "address": address,
        "lon": point[:, 0],
        "lat": point[:, 1],
        "region_id": numbers(w.village_pk[village]),
        "township_id": numbers(w.village_township[village]),
        "grid_id": numbers(w.grid_pk[grid]),
        "estate_id": numbers(estate, estate > 0),
        "category_id": numbers(w.cat_pk[cat], ~refused),
        "urgent": booleans(np.zeros(n, dtype=bool)),
        "suggested_category_id": numbers(w.cat_pk[cat]),
        "suggestion_confidence": choose(CONFIDENCE, rng.integers(0, len(CONFIDENCE), n)),
        "received_at": timestamps(recv),
        "registered_at": timestamps(registered, s_registered),
        "dispatched_at": timestamps(dispatched, s_dispatched),
        "closed_at": timestamps(np.where(refused, refused_at, closed), s_closed | s_refused),
        "deadline": timestamps(deadline, s_dispatched),
        "rework_count": numbers(np.where(rework & s_reported, 1, 0)),
        "satisfaction": satisfaction.astype("S16"),
        "rated_at": timestamps(rated, s_rated),
        "updated_at": timestamps(np.minimum(np.where(s_rated, rated, recv), now)),
    }
    by_status = {str(k): int(v) for k, v in zip(*np.unique(status, return_counts=True), strict=True)}

    # assignments: the primary for every dispatched case, a co-handler for some
    def assignment_cols(mask: np.ndarray, handler: np.ndarray, role: str, rep: np.ndarray) -> dict[str, Any]:
        k = int(mask.sum())
        acc = np.minimum(accepted[mask], rep[mask] - 1)
        done = s_closed[mask]
        is_rep = (rep[mask] <= now) & s_accepted[mask]
        is_acc = s_accepted[mask]
        st = np.where(done, "done", np.where(is_rep, "reported", np.where(is_acc, "accepted", "pending")))
        # The sweep's marks: a threshold passed while the assignment was open has fired.
        open_until = np.where(is_rep, rep[mask], now)
        marks = {}
        for name, t in (
            ("warned_at", warn_at[mask]),
            ("escalated_at", deadline[mask]),
            ("county_escalated_at", county_at[mask]),
        ):
            fired = t < open_until
            marks[name] = timestamps(np.minimum(t + 30, now), fired)
        ids = seq.assignment_id + np.arange(k)
        seq.assignment_id += k
        nat = natural[mask]
        return {
            "id": numbers(ids),
            "case_id": numbers(case_ids[mask]),
            "handler_id": numbers(handler[mask]),
            "role": np.full(k, role.encode()),
            "status": st.astype("S9"),
            "clock_unit": np.where(nat, b"natural_hours", b"working_hours"),
            "sla_hours": choose(SLA_TEXT, np.rint(sla[mask]).astype(np.int64)),
            "started_at": timestamps(dispatched[mask]),
            "warn_at": timestamps(warn_at[mask]),
            "deadline": timestamps(deadline[mask]),
            "county_at": timestamps(county_at[mask]),
            **marks,
            "accepted_at": timestamps(acc, is_acc),
            "reported_at": timestamps(rep[mask], is_rep),
            "finished_at": timestamps(closed[mask], done),
            "report_text": np.where(is_rep, "已按要求处置完毕。".encode(), b""),
            "rework_count": numbers(np.where(rework[mask] & is_rep & (role == "primary"), 1, 0)),
            "on_time": booleans(rep[mask] <= deadline[mask], is_rep),
        }

    case_ids = ids
    prim = assignment_cols(s_dispatched, primary, "primary", reported)
    co_reported = dispatched + ((reported - dispatched) * rng.uniform(0.3, 0.9, n)).astype(np.int64)
    co_reported = np.where(stuck, never, co_reported)
    co_rows = assignment_cols(s_dispatched & co_wanted, co, "co", co_reported)
    merged = {k: np.concatenate([prim[k], co_rows[k]]) for k in prim}
    return case_cols, merged, len(merged["id"]), by_status


# --- applications -----------------------------------------------------------------------------


def _id_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """Valid-looking resident ID numbers (GB 11643 check digit) for generated applicants."""
    year = rng.integers(1940, 2004, n)
    month = rng.integers(1, 13, n)
    day = rng.integers(1, 29, n)
    serial = rng.integers(0, 1000, n)
    # 17 digits: the area 331199, the birth date, a serial; then the check digit
    value = ((year * 100 + month) * 100 + day) * 1000 + serial
    digits = np.concatenate(
        [np.tile(np.array([3, 3, 1, 1, 9, 9]), (n, 1)), (value[:, None] // 10 ** np.arange(10, -1, -1)) % 10],
        axis=1,
    )
    weights = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
    check = np.frombuffer(b"10X98765432", dtype=np.uint8)[(digits @ weights) % 11]
    chars = np.concatenate([(digits + ord("0")).astype(np.uint8), check[:, None]], axis=1)
    return np.ascontiguousarray(chars).view("S18").ravel()


def _applications(plan: Plan, total: int, seq: Sequence, writer: TableWriter) -> int:
    w = plan.world
    if total <= 0 or not w.items:
        return 0
    rng = np.random.default_rng([plan.seed, 5])
    channels = list(profile.APPLICATION_CHANNELS)
    share = np.array(list(profile.APPLICATION_CHANNELS.values()))
    weights = np.where(plan.day_working, 1.0, 0.12) * profile.YEARLY_GROWTH ** (
        np.arange(len(plan.day_counts)) / 365.25
    )
    counts = rng.multinomial(total, weights / weights.sum())
    for part, (a, b) in enumerate(_chunks(counts, CHUNK)):
        r = np.random.default_rng([plan.seed, 6, part])
        n = int(counts[a:b].sum())
        day = np.repeat(np.arange(a, b), counts[a:b])
        # windows are shut on days off; online applications and some kiosks go on
        u = r.random(n)
        off_cdf = _cdf(share * np.array([0.0, 1.0, 0.3, 0.0]))
        ch = np.where(plan.day_working[day], _pick(_cdf(share), u), _pick(off_cdf, u))
        office = r.integers(8 * 3600 + 1800, 17 * 3600 + 1800, n)
        anytime = r.integers(0, DAY, n)
        created = day_start(plan.start) + day * DAY + np.where(ch == 1, anytime, office)
        created = np.where(created > plan.now, created - DAY, created)
        order = np.argsort(created, kind="stable")
        created, ch = created[order], ch[order]
        day = (created - day_start(plan.start)) // DAY
        item = r.integers(0, len(w.items), n)
        item_pk = np.array([i[0] for i in w.items])[item]
        dept = np.array([i[1] for i in w.items])[item]
        days = np.array([i[2] for i in w.items])[item]
        clock = plan.clock
        accepted = clock.add_office_minutes(created, r.exponential(20, n) + 1)
        deadline = clock.add_working_days(accepted, days)
        total_min = clock.office_at(deadline) - clock.office_at(accepted)
        warn = clock.add_office_minutes(accepted, total_min * 0.8)
        county = clock.add_office_minutes(accepted, total_min * 2.0)
        decided = clock.add_office_minutes(accepted, total_min * np.clip(r.lognormal(-0.9, 0.5, n), 0.01, 4))
        finished = decided + r.integers(60, 4 * 3600, n)
        refused = r.random(n) < 0.04
        now = plan.now
        done = finished <= now
        reviewing = (~done) & (accepted + 3600 <= now)
        status = np.where(
            done, np.where(refused, "refused", "finished"), np.where(reviewing, "in_review", "accepted")
        )
        rated = done & (r.random(n) < 0.6) & (finished + 3600 <= now)
        lvl = r.random(n)
        sat = np.where(
            lvl < 0.5,
            "very_satisfied",
            np.where(lvl < 0.85, "satisfied", np.where(lvl < 0.96, "basic", "unsatisfied")),
        )
        sat = np.where(rated, sat, "").astype("S16")
        village = _pick(plan.grid_cdf.sum(axis=0) / plan.grid_cdf.shape[0], r.random(n))
        region = w.village_pk[w.grid_village[village]]
        names = [(a + b).encode() for a in SURNAMES for b in GIVEN]
        applicant = choose(names, r.integers(0, len(names), n))
        phone = (13 * 10**9 + r.integers(0, 10**9, n)).astype("S11")
        open_until = np.where(done, decided, now)
        ids = seq.application_id + np.arange(n)
        seq.application_id += n
        writer.write(
            {
                "id": numbers(ids),
                "number": _day_numbers(APP_PREFIX, plan.run, day, plan, 7),
                "item_id": numbers(item_pk),
                "channel": choose(channels, ch),
                "status": status.astype("S12"),
                "applicant_name": applicant,
                "applicant_id_number": _id_numbers(r, n),
                "applicant_phone": phone,
                "region_id": numbers(region),
                "department_id": numbers(dept),
                "promised_days": numbers(days),
                "accepted_at": timestamps(accepted),
                "clock_started_at": timestamps(accepted),
                "warn_at": timestamps(warn),
                "deadline": timestamps(deadline),
                "county_at": timestamps(county),
                "warned_at": timestamps(np.minimum(warn + 30, now), warn < open_until),
                "escalated_at": timestamps(np.minimum(deadline + 30, now), deadline < open_until),
                "county_escalated_at": timestamps(np.minimum(county + 30, now), county < open_until),
                "decision": np.where(done & ~refused, "准予办理".encode(), b""),
                "refuse_reason": np.where(done & refused, "不符合受理条件".encode(), b""),
                "submitted_at": timestamps(created),
                "review_started_at": timestamps(accepted + 600, reviewing | done),
                "decided_at": timestamps(decided, done),
                "finished_at": timestamps(finished, done),
                "on_time": booleans(decided <= deadline, done),
                "satisfaction": sat,
                "rated_at": timestamps(finished + 3600, rated),
                "created_at": timestamps(created),
                "updated_at": timestamps(np.where(done, finished, created)),
            },
            n,
        )
    return total


# --- the run ----------------------------------------------------------------------------------


def _next_run() -> int:
    """Generated numbers carry a run number so a second generation never collides with the first."""
    last = (
        Case.objects.filter(number__startswith=PREFIX)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    if last is None:
        return 0
    run = int(last[1:3]) + 1
    if run > 99:
        raise ServiceError("too_many_runs", "已生成 100 批历史数据,请清空后再生成")
    return run


def _reserve_ids() -> Sequence:
    from shanzhi.onewindow.models_applications import Application

    tables = [m._meta.db_table for m in (Case, Assignment, Application)]
    with connection.cursor() as cursor:
        if is_postgres():
            # Writers wait until the load commits; readers go on.
            cursor.execute(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE")
        highs = []
        for table in tables:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608 (our tables)
            highs.append(int(cursor.fetchone()[0]) + 1)
    return Sequence(case_id=highs[0], assignment_id=highs[1], application_id=highs[2])


def _reset_sequences() -> None:
    from shanzhi.onewindow.models_applications import Application

    statements = connection.ops.sequence_reset_sql(no_style(), [Case, Assignment, Application])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _validate(cases: int, years: int, seed: int, end: dt.date | None, today: dt.date) -> dt.date:
    if isinstance(cases, bool) or not isinstance(cases, int) or cases < 1 or cases > MAX_CASES:
        raise ServiceError("bad_count", f"案卷数应为 1 到 {MAX_CASES} 之间的整数")
    if isinstance(years, bool) or not isinstance(years, int) or years < 1 or years > MAX_YEARS:
        raise ServiceError("bad_years", f"年数应为 1 到 {MAX_YEARS} 之间的整数")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ServiceError("bad_seed", "随机种子应为非负整数")
    end = end or today
    if end > today:
        raise ServiceError("bad_end", "结束日期不能晚于今天")
    return end


def history_generate(
    *,
    cases: int,
    years: int,
    seed: int = 1,
    end: dt.date | None = None,
    application_ratio: float = profile.APPLICATION_RATIO,
    progress: Callable[[str], None] | None = None,
) -> GenerationSummary:
    """Generate `cases` cases over `years` years ending on `end` (default today), their
    assignments, and one-window applications at `application_ratio` of the cases."""
    from shanzhi.cockpit.rollups import bulk_load
    from shanzhi.onewindow.models_applications import Application

    now_dt = timezone.now()
    today = timezone.localdate(now_dt)
    end = _validate(cases, years, seed, end, today)
    if not 0 <= application_ratio <= 1:
        raise ServiceError("bad_ratio", "办件比例应在 0 到 1 之间")
    now = int(now_dt.timestamp()) if end == today else day_start(end + dt.timedelta(days=1)) - 1
    say = progress or (lambda _msg: None)
    began = time.monotonic()
    world = world_load(seed=seed)
    # Outside any transaction (the command), SQLite may drop fsyncs and foreign-key checks for the
    # load; inside one (a test, a caller's atomic block) it may not, and need not.
    sqlite = not is_postgres() and not connection.in_atomic_block
    tables = [m._meta.db_table for m in (Case, Assignment, Application)]
    if sqlite:
        connection.disable_constraint_checking()  # a no-op inside an outer transaction (tests)
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")
            # a large page cache keeps the indexes' pages in memory instead of spilling to the WAL
            cursor.execute("PRAGMA cache_size=-1000000")
    try:
        with bulk_load(), transaction.atomic():
            run = _next_run()
            plan = plan_make(world=world, cases=cases, years=years, seed=seed, end=end, now=now, run=run)
            seq = _reserve_ids()
            checks_off()
            big = cases >= BIG_LOAD and cases * 4 >= seq.case_id
            dropped = indexes_drop(tables) if big else []
            case_writer = TableWriter(Case, now=now_dt)
            assignment_writer = TableWriter(Assignment, now=now_dt)
            by_status: dict[str, int] = {}
            for part, (a, b) in enumerate(_chunks(plan.day_counts, CHUNK)):
                rng = np.random.default_rng([seed, 2, part])
                case_cols, asg_cols, k, statuses = _cases_chunk(plan, rng, a, b, seq)
                n = int(plan.day_counts[a:b].sum())
                case_writer.write(case_cols, n)
                assignment_writer.write(asg_cols, k)
                for key, value in statuses.items():
                    by_status[key] = by_status.get(key, 0) + value
                rate = case_writer.rows / max(time.monotonic() - began, 1e-6)
                say(f"  {case_writer.rows:,} / {cases:,} 件 ({rate:,.0f} 件/秒)")
            app_writer = TableWriter(Application, now=now_dt)
            applications = _applications(plan, round(cases * application_ratio), seq, app_writer)
            if dropped:
                say(f"  重建 {len(dropped)} 个索引…")
                indexes_create(dropped)
            _reset_sequences()
            if big:
                tables_analyze(tables)
            summary = GenerationSummary(
                cases=case_writer.rows,
                assignments=assignment_writer.rows,
                applications=applications,
                seed=seed,
                start=plan.start,
                end=end,
                run=run,
                hotspot_grids=[world.grid_codes[i] for i in plan.hotspots],
                by_status=dict(sorted(by_status.items())),
            )
            audit_append(
                actor=None,
                action="cockpit.history.generate",
                object_type="cockpit.generated_history",
                object_id=f"run-{run:02d}",
                state=summary.as_state(),
            )
            say(f"  写入完成 {time.monotonic() - began:.1f} 秒,汇总表重建中…")
    finally:
        if sqlite:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("PRAGMA cache_size=-2000")
            connection.enable_constraint_checking()
    if cases >= BIG_LOAD:
        from shanzhi.cockpit.rollups import CASE_TABLES, HANDLER_CASE_TABLES, HANDLER_TABLES

        say("  整理表(VACUUM)…")
        tables_vacuum([*tables, *CASE_TABLES, *HANDLER_TABLES, *HANDLER_CASE_TABLES, "cockpit_casehandler"])
    summary.seconds = time.monotonic() - began
    return summary
