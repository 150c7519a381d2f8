"""Writes to warnings: receive a CAP alert (API, feed), issue the county's own, apply updates and
cancellations, expire the old, and declare an incident over a warning's area.

Receiving is one transaction: parse and validate (before any write), find the grids and
households the area covers, then — by the table in warning_policy.py — queue SMS to households
(care-flagged first), give grid workers a visit list for households without a phone, give every
grid a defence checklist, tell the cadres, and offer the leader an incident. SMS leave on commit.
The same (sender, identifier) twice is the same warning: nothing new is written or sent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from shanzhi.audit.services import audit_append, audit_append_many
from shanzhi.core.errors import PermissionDenied, ServiceError
from shanzhi.core.models import Region, Role, Staff
from shanzhi.core.selectors import has_role, region_county
from shanzhi.emergency import warning_policy as policy
from shanzhi.emergency.cap import Alert, alert_to_xml, parse_cap
from shanzhi.emergency.cap.model import CapArea, CapCircle, CapPolygon, Info, ValuePair
from shanzhi.emergency.cap.targeting import GRID_VALUE_NAME, REGION_VALUE_NAME, alert_area
from shanzhi.emergency.models import GridTask, Incident, TaskKind
from shanzhi.emergency.models_warnings import (
    DeliveryChannel,
    Warning,
    WarningDelivery,
    WarningFeed,
    WarningGrid,
    WarningSource,
    WarningState,
    WarningTask,
)
from shanzhi.emergency.tasks_services import GridTaskSpec, grid_task_create_many, grid_tasks_close
from shanzhi.grid.areas import Area, Targets, area_from_geojson, area_resolve
from shanzhi.grid.models import Grid, Household
from shanzhi.notify.models import MessageChannel
from shanzhi.notify.outbox_insert import pg_copy
from shanzhi.notify.services import Recipient, message_queue_many

# Machines (a provincial platform, a sensor gateway) post with a token of a `sensor` account.
RECEIVE_ROLES = frozenset({Role.ADMIN, Role.DISPATCHER, Role.SENSOR})
ISSUE_ROLES = frozenset({Role.ADMIN, Role.DISPATCHER, Role.LEADER})
DECLARE_ROLES = frozenset({Role.ADMIN, Role.LEADER})
CADRE_ROLES = (Role.LEADER, Role.HANDLER)
CHUNK = 5000  # ids per IN (…) query: far below every database's parameter limit
SMS_MAX = 300


@dataclass
class Received:
    warning: Warning
    created: bool
    targets: Targets = field(default_factory=Targets)


def warning_state(w: Warning) -> dict[str, Any]:
    """What the audit digest covers."""
    return {
        "identifier": w.identifier,
        "sender": w.sender,
        "sent": w.sent,
        "msg_type": w.msg_type,
        "status": w.status,
        "scope": w.scope,
        "source": w.source,
        "severity": w.severity,
        "urgency": w.urgency,
        "event": w.event,
        "digest": w.digest,
        "state": w.state,
        "level": w.level,
        "references": w.references_text,
        "region": w.region.code if w.region_id and w.region else None,
        "grids": w.grid_count,
        "households": w.household_count,
        "sms": w.sms_count,
        "visits": w.visit_count,
        "tasks": w.task_count,
        "incident": w.incident_id,
    }


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _digest(alert: Alert) -> str:
    """Of the canonical 1.2 form, so the same alert fetched again with other whitespace matches."""
    return hashlib.sha256(alert_to_xml(alert)).hexdigest()


# --- receiving ----------------------------------------------------------------------------------


def warning_receive(*, actor: Any, xml: bytes, source: str, feed: WarningFeed | None = None) -> Received:
    """Take one CAP message (API or feed; actor None is the feed poller)."""
    if actor is not None and not has_role(user=actor, roles=RECEIVE_ROLES):
        raise PermissionDenied("只有系统管理员、调度员或接入设备账号可以提交预警")
    if source not in WarningSource.values:
        raise ServiceError("invalid_source", f"未知的预警来源:{source[:20]}")
    alert = parse_cap(xml)
    return _receive(actor=actor, alert=alert, raw=bytes(xml), source=source, feed=feed)


def _existing(alert: Alert, digest: str) -> Warning | None:
    found = Warning.objects.filter(sender=alert.sender, identifier=alert.identifier).first()
    if found is None:
        return None
    if found.digest != digest:
        raise ServiceError(
            "warning_conflict",
            f"发送方 {alert.sender} 的预警 {alert.identifier} 已收到过,但内容不同;"
            "CAP 要求更正以新编号的 Update 消息发送",
            status=409,
        )
    return found


def _receive(*, actor: Any, alert: Alert, raw: bytes, source: str, feed: WarningFeed | None) -> Received:
    if alert.msg_type not in ("Alert", "Update", "Cancel"):
        raise ServiceError(
            "unsupported_msg_type",
            f"不处理 msgType 为 {alert.msg_type} 的消息(只接收 Alert、Update、Cancel)",
            status=422,
        )
    digest = _digest(alert)
    found = _existing(alert, digest)
    if found is not None:
        return Received(warning=found, created=False)
    try:
        with transaction.atomic():
            return _receive_new(actor=actor, alert=alert, raw=raw, digest=digest, source=source, feed=feed)
    except IntegrityError:
        # The same alert arrived twice at once (two feeds, a retry): the first one won.
        found = _existing(alert, digest)
        if found is None:
            raise
        return Received(warning=found, created=False)


def _referenced(alert: Alert) -> list[Warning]:
    if not alert.references:
        return []
    q = Q()
    for ref in alert.references:
        q |= Q(sender=ref.sender, identifier=ref.identifier)
    found = list(Warning.objects.select_for_update().filter(q).order_by("pk"))
    if not found:
        names = "、".join(f"{r.sender} 的 {r.identifier}" for r in alert.references[:5])
        raise ServiceError(
            "unknown_reference",
            f"{alert.msg_type} 消息引用的预警({names})本平台没有收到过,无法更新或撤销",
            details=[r.text() for r in alert.references],
            status=422,
        )
    if alert.msg_type == "Update":
        cancelled = [w for w in found if w.state == WarningState.CANCELLED]
        if cancelled:
            raise ServiceError(
                "reference_cancelled", f"所更新的预警 {cancelled[0].identifier} 已撤销,不能再更新", status=409
            )
    return found


def _area_for(alert: Alert, referenced: list[Warning]) -> Area:
    """The alert's own area; an Update without one keeps the area of what it updates."""
    if alert.msg_type == "Update" and not any(a.polygons or a.circles or a.geocodes for a in alert.areas):
        return _stored_area(referenced[0])
    return alert_area(alert)


def _stored_area(w: Warning) -> Area:
    return area_from_geojson(data=w.area)


def _columns(w: Warning, alert: Alert) -> None:
    info = alert.primary
    w.identifier, w.sender, w.sent = alert.identifier, alert.sender, alert.sent
    w.status, w.msg_type, w.scope, w.version = alert.status, alert.msg_type, alert.scope, alert.version
    w.references_text = " ".join(r.text() for r in alert.references)
    if info is None:
        return
    w.language = info.language[:35]
    w.category = info.categories[0] if info.categories else ""
    w.event = info.event[:255]
    w.urgency, w.severity, w.certainty = info.urgency, info.severity, info.certainty
    w.sender_name = info.sender_name[:255]
    w.headline = (info.headline or info.event)[:255]
    w.description, w.instruction = info.description, info.instruction
    w.effective, w.onset, w.expires = info.effective, info.onset, info.expires
    w.area_desc = ";".join(a.description for a in info.areas if a.description)
    w.event_kind = policy.event_kind(
        event=info.event, headline=info.headline, codes=tuple(c.value for c in info.event_codes)
    )


def _common_region(grids: list[Grid]) -> Region | None:
    if not grids:
        return region_county()
    paths = [g.village.path.rstrip("/").split("/") for g in grids]
    common = paths[0]
    for parts in paths[1:]:
        n = 0
        while n < min(len(common), len(parts)) and parts[n] == common[n]:
            n += 1
        common = common[:n]
    return Region.objects.filter(code=common[-1]).first() if common else region_county()


def _receive_new(
    *, actor: Any, alert: Alert, raw: bytes, digest: str, source: str, feed: WarningFeed | None
) -> Received:
    now = timezone.now()
    referenced = _referenced(alert)
    w = Warning(
        source=source,
        feed=feed,
        raw_xml=raw.decode("utf-8", errors="replace"),
        digest=digest,
        received_by=actor if getattr(actor, "is_authenticated", False) else None,
        state_changed_at=now,
    )
    _columns(w, alert)
    if alert.msg_type == "Cancel":
        return _receive_cancel(actor=actor, w=w, referenced=referenced, now=now)

    area = _area_for(alert, referenced)
    targets = area_resolve(area=area)  # refuses areas outside the county, before any write
    grids = list(Grid.objects.filter(pk__in=targets.grid_ids).select_related("village").order_by("code"))
    w.area = area.geojson()
    w.region = _common_region(grids)
    w.level = policy.response_level(severity=w.severity, urgency=w.urgency)
    if w.expires is not None and w.expires <= now:
        w.state = WarningState.EXPIRED
    w.save()
    if referenced:
        w.references.set(referenced)
        _supersede(actor=actor, referenced=referenced, state=WarningState.UPDATED, by=w)
    households = _households(targets.household_ids, targets.grid_ids)
    _save_grids(w, grids, households)
    actions = policy.actions_for(level=w.level, status=w.status, scope=w.scope)
    if w.state == WarningState.EXPIRED:
        actions = policy.Actions(False, False, False, False, False)
    _fan_out(w, grids=grids, households=households, actions=actions, referenced=referenced, now=now)
    w.save()
    audit_append(actor=actor, action="emergency.warning.receive", obj=w, state=warning_state(w))
    return Received(warning=w, created=True, targets=targets)


def _receive_cancel(*, actor: Any, w: Warning, referenced: list[Warning], now: dt.datetime) -> Received:
    """A Cancel reaches what it cancels: their tasks close, and the households told by SMS hear
    that the warning is lifted (for an Actual, Public cancel)."""
    first = referenced[0]
    w.area, w.region = first.area, first.region
    w.state = WarningState.CANCELLED
    if not w.headline:
        w.headline = f"撤销:{first.headline or first.event}"[:255]
        w.event, w.event_kind, w.severity, w.urgency = first.event, first.event_kind, "", ""
    w.level = ""
    w.grid_count = sum(r.grid_count for r in referenced)
    w.household_count = sum(r.household_count for r in referenced)
    w.save()
    w.references.set(referenced)
    live = [r for r in referenced if r.state != WarningState.CANCELLED]
    _supersede(actor=actor, referenced=live, state=WarningState.CANCELLED, by=w)
    if live and w.status == "Actual" and w.scope == "Public":
        told = list(
            WarningDelivery.objects.filter(warning__in=live, channel=DeliveryChannel.SMS)
            .order_by("warning_id", "rank")
            .values_list("household_id", flat=True)
        )
        rows = _households(list(dict.fromkeys(told)))
        body = _cancel_sms(first)
        _send_sms(w, [h for h in rows if h.phone], body=body)
    w.save()
    audit_append(actor=actor, action="emergency.warning.receive", obj=w, state=warning_state(w))
    return Received(warning=w, created=True, targets=Targets())


def _supersede(*, actor: Any, referenced: list[Warning], state: str, by: Warning) -> None:
    """Mark what an Update/Cancel replaces, and close their open tasks when cancelled."""
    if not referenced:
        return
    now = timezone.now()
    for r in referenced:
        r.state = state
        r.state_changed_at = now
    Warning.objects.bulk_update(referenced, ["state", "state_changed_at"])
    if state == WarningState.CANCELLED:
        _close_tasks(actor=actor, warnings=referenced, reason=f"预警已撤销({by.identifier})")
    action = "emergency.warning.cancel" if state == WarningState.CANCELLED else "emergency.warning.supersede"
    audit_append_many(actor=actor, items=[(action, r, warning_state(r)) for r in referenced])


def _close_tasks(*, actor: Any, warnings: list[Warning], reason: str) -> int:
    ids = set(WarningTask.objects.filter(warning__in=warnings).values_list("task_id", flat=True))
    return grid_tasks_close(actor=actor, tasks=GridTask.objects.filter(pk__in=ids), reason=reason)


# --- who is reached -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HouseholdRow:
    pk: int
    grid_id: int
    phone: str
    care: bool


def _households(ids: list[int], grid_ids: list[int] | None = None) -> list[HouseholdRow]:
    """The targeted households in the order they are told: care-flagged first, then by id.

    With the targets' grids, read by grid (a few hundred ids) and kept if targeted: binding
    100 000 ids in IN lists cost seconds on PostgreSQL; the few filed under another grid are
    read by id after."""
    flags = Household.CARE_FLAGS
    fields = ("pk", "grid_id", "phone", "no_phone", *flags)
    wanted = set(ids)
    found: list[tuple[Any, ...]] = []
    if grid_ids:
        found = [
            r for r in Household.objects.filter(grid_id__in=grid_ids).values_list(*fields) if r[0] in wanted
        ]
    leftover = sorted(wanted - {r[0] for r in found})
    for chunk in _chunks(leftover):
        found += Household.objects.filter(pk__in=chunk).values_list(*fields)
    rows = [
        HouseholdRow(pk, grid_id, "" if no_phone else phone, any(care))
        for pk, grid_id, phone, no_phone, *care in found
    ]
    rows.sort(key=lambda h: (not h.care, h.pk))
    return rows


def _save_grids(w: Warning, grids: list[Grid], households: list[HouseholdRow]) -> None:
    per_grid: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for h in households:
        per_grid[h.grid_id][0] += 1
        per_grid[h.grid_id][1] += h.care
    WarningGrid.objects.bulk_create(
        [
            WarningGrid(warning=w, grid=g, households=per_grid[g.pk][0], care_households=per_grid[g.pk][1])
            for g in grids
        ]
    )
    w.grid_count = len(grids)
    w.household_count = len(households)
    w.care_household_count = sum(1 for h in households if h.care)


def _sms_text(w: Warning) -> str:
    county = region_county()
    head = f"【{county.name if county else ''}预警】"
    text = f"{head}{w.headline or w.event}。{w.instruction or w.description}".strip()
    return text if len(text) <= SMS_MAX else text[: SMS_MAX - 1] + "…"


def _cancel_sms(original: Warning) -> str:
    county = region_county()
    what = original.headline or original.event
    return f"【{county.name if county else ''}预警解除】此前发布的“{what}”已解除。"


def _send_sms(w: Warning, households: list[HouseholdRow], *, body: str) -> list[int]:
    ids = message_queue_many(
        channel=MessageChannel.SMS,
        kind="warning.alert",
        body=body,
        recipients=[Recipient(phone=h.phone) for h in households],
        obj=w,
    )
    w.sms_count += len(ids)
    return ids


def _fan_out(
    w: Warning,
    *,
    grids: list[Grid],
    households: list[HouseholdRow],
    actions: policy.Actions,
    referenced: list[Warning],
    now: dt.datetime,
) -> None:
    due = policy.due_at(urgency=w.urgency, now=now, expires=w.expires)
    deliveries: list[DeliveryRow] = []
    if actions.sms:
        phoned = [h for h in households if h.phone]
        ids = _send_sms(w, phoned, body=_sms_text(w))
        deliveries += [
            (w.pk, h.pk, str(DeliveryChannel.SMS), i, h.care, mid, None)
            for i, (h, mid) in enumerate(zip(phoned, ids, strict=True))
        ]
    unreachable: dict[int, list[HouseholdRow]] = defaultdict(list)
    if actions.visits:
        for h in households:
            if not h.phone:
                unreachable[h.grid_id].append(h)
    # Visit lists and defence checklists in one batch, so each grid worker and cadre is told
    # once about everything this warning asks of them.
    carried_visits = _carried_tasks(referenced, TaskKind.WARNING_VISIT) if unreachable else {}
    carried_defence = _carried_tasks(referenced, TaskKind.DEFENCE) if actions.defence_tasks else {}
    specs = _visit_specs(w, unreachable=unreachable, due=due, carried=carried_visits)
    if actions.defence_tasks:
        specs += _defence_specs(w, grids=grids, due=due, carried=carried_defence)
    created = grid_task_create_many(actor=None, tasks=specs, notify_text=TASK_NOTICES, about=w)
    WarningTask.objects.bulk_create(
        [
            WarningTask(warning=w, task=t)
            for t in [*created, *carried_visits.values(), *carried_defence.values()]
        ]
    )
    if unreachable:
        visits = {t.grid_id: t for t in created if t.kind == TaskKind.WARNING_VISIT} | carried_visits
        deliveries += _visit_deliveries(w, unreachable=unreachable, tasks=visits, start=len(deliveries))
    _insert_deliveries(deliveries)
    if actions.cadre_notice and grids:
        _tell_cadres(w, grids=grids, with_checklist=actions.defence_tasks)
    if actions.leader_offer:
        _offer_leaders(w)
    w.task_count = WarningTask.objects.filter(warning=w).count()


# How grid workers and cadres hear of each kind of task (one message per person covers both).
TASK_NOTICES: dict[str, str] = {
    TaskKind.WARNING_VISIT: "【预警】{title}:{households} 户没有手机,请于 {due} 前上门或电话告知({grid})。",
    TaskKind.DEFENCE: "【预警防御】{title}:请于 {due} 前落实防御清单({grid})。",
}

# (warning, household, channel, rank, care, message, task): plain tuples, as inserted.
DeliveryRow = tuple[int, int, str, int, bool, int | None, int | None]
DELIVERY_FIELDS = ("warning", "household", "channel", "rank", "care", "message", "task")


def _insert_deliveries(rows: list[DeliveryRow]) -> None:
    """Below the ORM: for 100 000 households its per-value work dominates bulk_create.
    PostgreSQL takes the rows by COPY; SQLite by executemany (both loops are in C)."""
    if not rows:
        return
    connection = transaction.get_connection()
    qn = connection.ops.quote_name
    concrete = {f.name: f.column for f in WarningDelivery._meta.concrete_fields}
    columns = ", ".join(qn(concrete[f]) for f in DELIVERY_FIELDS)
    table = qn(WarningDelivery._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            pg_copy(cursor, table=table, columns=[qn(concrete[f]) for f in DELIVERY_FIELDS], rows=rows)
            return
        marks = ", ".join(["%s"] * len(DELIVERY_FIELDS))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
        for start in range(0, len(rows), 10_000):
            cursor.executemany(sql, rows[start : start + 10_000])


def _carried_tasks(referenced: list[Warning], kind: str) -> dict[int, GridTask]:
    """Open tasks of what an Update replaces, by grid: carried over instead of doubled."""
    if not referenced:
        return {}
    tasks = GridTask.objects.filter(
        warning_links__warning__in=referenced, kind=kind, status__in=("open", "in_progress")
    ).distinct()
    return {t.grid_id: t for t in tasks}


def _title(w: Warning, prefix: str) -> str:
    return f"{prefix}:{w.headline or w.event}"[:160]


def _visit_specs(
    w: Warning, *, unreachable: dict[int, list[HouseholdRow]], due: dt.datetime, carried: dict[int, GridTask]
) -> list[GridTaskSpec]:
    """Households without a phone: one visit list per grid, for the grid's workers."""
    return [
        GridTaskSpec(
            grid_id=grid_id,
            title=_title(w, "预警上门告知"),
            checklist=list(policy.VISIT_CHECKLIST),
            due_at=due,
            kind=TaskKind.WARNING_VISIT,
            household_ids=[h.pk for h in rows],
        )
        for grid_id, rows in sorted(unreachable.items())
        if grid_id not in carried
    ]


def _visit_deliveries(
    w: Warning, *, unreachable: dict[int, list[HouseholdRow]], tasks: dict[int, GridTask], start: int
) -> list[DeliveryRow]:
    rows = [h for grid_rows in unreachable.values() for h in grid_rows]
    rows.sort(key=lambda h: (not h.care, h.pk))
    w.visit_count = len(rows)
    return [
        (w.pk, h.pk, str(DeliveryChannel.VISIT), start + i, h.care, None, tasks[h.grid_id].pk)
        for i, h in enumerate(rows)
    ]  # fmt: skip


def _defence_specs(
    w: Warning, *, grids: list[Grid], due: dt.datetime, carried: dict[int, GridTask]
) -> list[GridTaskSpec]:
    checklist = policy.CHECKLISTS.get(w.event_kind or "generic", policy.CHECKLISTS["generic"])
    return [
        GridTaskSpec(
            grid_id=g.pk,
            title=_title(w, "预警防御"),
            checklist=list(checklist),
            due_at=due,
            kind=TaskKind.DEFENCE,
        )
        for g in grids
        if g.pk not in carried
    ]


def _cadres(grids: list[Grid]) -> list[Staff]:
    """Leaders and handlers of the affected villages and their townships."""
    villages = {g.village_id for g in grids}
    townships = {g.village.parent_id for g in grids if g.village.parent_id}
    return list(
        Staff.objects.filter(
            region_id__in=villages | townships, roles__role__in=CADRE_ROLES, user__is_active=True
        )
        .select_related("user")
        .distinct()
        .order_by("pk")
    )


def warning_url(w: Warning) -> str:
    return reverse("emergency:warning", kwargs={"pk": w.pk})


def _tell_cadres(w: Warning, *, grids: list[Grid], with_checklist: bool) -> None:
    label = policy.EVENT_LABELS.get(w.event_kind, "通用")
    body = f"【预警】{w.headline or w.event}({w.grid_count} 个网格、{w.household_count} 户)。"
    if with_checklist:
        items = policy.CHECKLISTS.get(w.event_kind or "generic", policy.CHECKLISTS["generic"])
        body += f"{label}防御清单:" + ";".join(f"{i + 1}. {t}" for i, t in enumerate(items)) + "。"
    body += f"详情:{warning_url(w)}"
    cadres = _cadres(grids)
    message_queue_many(
        channel=MessageChannel.IN_APP,
        kind="warning.defence",
        body=body,
        recipients=[Recipient(user=s.user) for s in cadres],
        subject="预警防御部署",
        obj=w,
    )


def _offer_leaders(w: Warning) -> None:
    """Leaders whose jurisdiction holds the warning's area may declare an incident over it."""
    if w.region is None:
        return
    ancestors = [p + "/" for p in _prefixes(w.region.path)]
    leaders = (
        Staff.objects.filter(roles__role=Role.LEADER, region__path__in=ancestors, user__is_active=True)
        .select_related("user")
        .distinct()
        .order_by("pk")
    )
    body = (
        f"【{policy.SEVERITY_LABELS.get(w.severity, w.severity)}预警】"
        f"{w.headline or w.event}:影响 {w.grid_count} 个网格、{w.household_count} 户"
        f"(重点关爱 {w.care_household_count} 户)。可按此范围启动应急:{warning_url(w)}"
    )
    message_queue_many(
        channel=MessageChannel.IN_APP,
        kind="warning.offer",
        subject="是否按预警范围启动应急",
        body=body,
        recipients=[Recipient(user=staff.user) for staff in leaders],
        obj=w,
    )


def _prefixes(path: str) -> list[str]:
    parts = path.rstrip("/").split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


# --- the county's own warnings ------------------------------------------------------------------


@dataclass
class IssueForm:
    event: str
    severity: str
    urgency: str
    certainty: str
    headline: str
    description: str
    instruction: str
    area: Area
    area_desc: str = ""
    expires: dt.datetime | None = None
    category: str = "Met"
    status: str = "Actual"


def _cap_area(area: Area, desc: str) -> CapArea:
    polygons = []
    for geom in area.polygons:
        parts = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
        for part in parts:
            polygons.append(CapPolygon(points=tuple((float(x), float(y)) for x, y in part.exterior.coords)))
    return CapArea(
        description=desc or "本县发布范围",
        polygons=tuple(polygons),
        circles=tuple(CapCircle(lon=c.lon, lat=c.lat, radius_km=c.radius_m / 1000.0) for c in area.circles),
        geocodes=tuple(ValuePair(REGION_VALUE_NAME, code) for code in area.region_codes)
        + tuple(ValuePair(GRID_VALUE_NAME, code) for code in area.grid_codes),
    )


def _check_issue(form: IssueForm, now: dt.datetime) -> None:
    from shanzhi.emergency.cap import model as cap

    for value, allowed, label in (
        (form.severity, cap.SEVERITIES, "严重程度"),
        (form.urgency, cap.URGENCIES, "紧迫程度"),
        (form.certainty, cap.CERTAINTIES, "确定程度"),
        (form.category, cap.CATEGORIES, "类别"),
        (form.status, ("Actual", "Exercise", "Test"), "状态"),
    ):
        if value not in allowed:
            raise ServiceError("warning_invalid", f"{label}“{str(value)[:20]}”无效", status=422)
    for value, label, limit in (
        (form.event, "事件", 100),
        (form.headline, "标题", 160),
        (form.description, "内容", 4000),
        (form.instruction, "防御指引", 4000),
        (form.area_desc, "范围描述", 500),
    ):
        if not isinstance(value, str) or len(value) > limit or "\x00" in value:
            raise ServiceError("warning_invalid", f"{label}不超过 {limit} 字", status=422)
    if not form.event.strip() or not form.headline.strip():
        raise ServiceError("warning_invalid", "请填写事件和标题", status=422)
    if form.expires is not None and (timezone.is_naive(form.expires) or form.expires <= now):
        raise ServiceError("warning_invalid", "失效时间必须晚于现在", status=422)


def warning_issue(*, actor: Any, form: IssueForm) -> Received:
    """The county's own warning: built as a CAP 1.2 alert, then stored and targeted exactly
    like one received (it is parsed back from its own XML)."""
    if actor is None or not has_role(user=actor, roles=ISSUE_ROLES):
        raise PermissionDenied("只有领导、调度员或系统管理员可以发布预警")
    now = timezone.now().replace(microsecond=0)
    _check_issue(form, now)
    county = region_county()
    code = county.code if county else "000000000000"
    sender = f"{code}@shanzhi"
    alert = Alert(
        identifier=f"SZ-{code}-{timezone.localtime(now):%Y%m%d%H%M%S}-{secrets.token_hex(3)}",
        sender=sender,
        sent=timezone.localtime(now),
        status=form.status,
        msg_type="Alert",
        scope="Public",
        infos=(
            Info(
                language="zh-CN",
                categories=(form.category,),
                event=form.event.strip(),
                urgency=form.urgency,
                severity=form.severity,
                certainty=form.certainty,
                effective=timezone.localtime(now),
                expires=timezone.localtime(form.expires).replace(microsecond=0) if form.expires else None,
                sender_name=f"{county.name if county else ''}人民政府",
                headline=form.headline.strip(),
                description=form.description.strip(),
                instruction=form.instruction.strip(),
                areas=(_cap_area(form.area, form.area_desc.strip()),),
            ),
        ),
    )
    xml = alert_to_xml(alert)
    return _receive(actor=actor, alert=parse_cap(xml), raw=xml, source=WarningSource.COUNTY, feed=None)


# --- expiry and incidents -----------------------------------------------------------------------


def warning_expire_due(*, now: dt.datetime | None = None) -> int:
    """Active warnings past their expiry become expired; their open tasks close."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Warning.objects.select_for_update()
            .filter(state=WarningState.ACTIVE, expires__lte=now)
            .order_by("pk")[:500]
        )
        if not due:
            return 0
        for w in due:
            w.state = WarningState.EXPIRED
            w.state_changed_at = now
        Warning.objects.bulk_update(due, ["state", "state_changed_at"])
        _close_tasks(actor=None, warnings=due, reason="预警已过期")
        audit_append_many(actor=None, items=[("emergency.warning.expire", w, warning_state(w)) for w in due])
    return len(due)


@transaction.atomic
def warning_declare_incident(*, actor: Any, warning: Warning, type_code: str, title: str = "") -> Incident:
    """按此范围启动应急: an incident over exactly the warning's area (leaders, administrators)."""
    from shanzhi.emergency.incidents import incident_declare

    if actor is None or not has_role(user=actor, roles=DECLARE_ROLES):
        raise PermissionDenied("只有领导或系统管理员可以启动应急事件")
    w = Warning.objects.select_for_update().get(pk=warning.pk)
    if w.incident_id is not None:
        raise ServiceError("incident_exists", "已按此预警启动过应急事件", status=409)
    if w.state not in (WarningState.ACTIVE, WarningState.UPDATED) or w.msg_type == "Cancel":
        raise ServiceError("warning_not_active", f"预警{w.get_state_display()},不能据此启动应急", status=409)
    incident = incident_declare(
        actor=actor,
        type_code=type_code,
        title=(title or w.headline or w.event)[:128],
        area=_stored_area(w),
        note=f"据预警 {w.identifier}({w.sender_name or w.sender})启动",
        area_kind="warning",
    )
    w.incident = incident
    w.save(update_fields=["incident"])
    audit_append(actor=actor, action="emergency.warning.declare", obj=w, state=warning_state(w))
    return incident


def suggested_incident_type(w: Warning) -> str:
    return policy.INCIDENT_TYPE_FOR.get(w.event_kind, "")


def warnings_for_tasks(tasks: QuerySet[GridTask]) -> dict[int, Warning]:
    """The warning behind each task (for the task pages), by task id."""
    links = WarningTask.objects.filter(task__in=tasks).select_related("warning")
    return {link.task_id: link.warning for link in links}
