"""一件事一次办: a bundle application fans out into one part (child application) per step, each
routed to its own department's back office — at once where steps are independent, in order where
one step's result is another's material (出生医学证明 → 户口登记). A waiting part is released when
every step it depends on is approved; that approval stands in for its material. A refused step
stops the parts that depend on it. The parent is complete when every part is done.

These run inside the transaction of the service that caused them (accept, approve, refuse); every
part they create or move gets its own timeline event and audit entry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from shanzhi.onewindow import deadlines, people
from shanzhi.onewindow.models import Bundle, BundleStep
from shanzhi.onewindow.models_applications import (
    DONE_STATUSES,
    Application,
    ApplicationMaterial,
    ApplicationStatus,
    LineStatus,
)
from shanzhi.onewindow.selectors import bundle_savings
from shanzhi.onewindow.workflow import TRANSITIONS


def promised_days(bundle: Bundle) -> int:
    """The critical path: parallel steps take the longest, chained steps add up."""
    return bundle_savings(bundle).days_bundle


def _steps(bundle: Bundle) -> list[BundleStep]:
    return list(
        bundle.steps.select_related("item__department", "result_material")
        .prefetch_related("depends_on", "item__materials")
        .order_by("order")
    )


def _child_lines(
    child: Application, parent_lines: dict[str, ApplicationMaterial]
) -> list[ApplicationMaterial]:
    """The part's own checklist, from its item's materials and the parent's merged lines."""
    assert child.item is not None
    rows = []
    for n, m in enumerate(child.item.materials.all(), start=1):
        merged = parent_lines.get(m.document)
        if merged is None:
            continue
        needed = m.required or bool(child.answers.get(m.condition))
        status, source = (merged.status, merged.source) if needed else (LineStatus.NOT_NEEDED, "")
        if needed and status == LineStatus.FETCHED and not m.shared:
            source = merged.source  # another member item fetches it for the whole bundle
        rows.append(
            ApplicationMaterial(
                application=child,
                material=m,
                order=n,
                key=m.document,
                name=m.name,
                form=m.form,
                copies=m.copies,
                condition=m.condition,
                status=status,
                source=source,
                checked_by=merged.checked_by,
                checked_at=merged.checked_at,
            )
        )
    return rows


def fan_out(parent: Application, *, actor: Any, now: dt.datetime) -> list[Application]:
    from shanzhi.onewindow.applications import audit, event, when

    assert parent.bundle is not None
    parent_lines = {line.key: line for line in parent.lines.all()}
    children = []
    for step in _steps(parent.bundle):
        waits = bool(step.depends_on.all())
        child = Application.objects.create(
            number=f"{parent.number}-{step.order}",
            item=step.item,
            bundle=parent.bundle,
            parent=parent,
            bundle_step=step,
            channel=parent.channel,
            status=ApplicationStatus.WAITING if waits else ApplicationStatus.ACCEPTED,
            applicant_name=parent.applicant_name,
            applicant_id_number=parent.applicant_id_number,
            applicant_phone=parent.applicant_phone,
            applicant_user=parent.applicant_user,
            region=parent.region,
            department=step.item.department,
            clerk=parent.clerk,
            created_by=actor,
            answers=parent.answers,
            form_data=parent.form_data,
            promised_days=step.item.promised_days,
            submitted_at=now,
            created_at=now,
        )
        ApplicationMaterial.objects.bulk_create(_child_lines(child, parent_lines))
        if waits:
            after = "、".join(d.item.name for d in step.depends_on.all())
            event(child, actor=actor, action="wait", note=f"等待“{after}”办结", now=now)
        else:
            child.accepted_at = now
            deadlines.start_clock(child, now=now)
            child.save()
            event(child, actor=actor, action="accept", note=f"承诺 {when(child.deadline)} 前办结", now=now)
            people.tell_back_office(
                child,
                kind="application.routed",
                body=f"一件事办件 {child.number} {child.title},请于 {when(child.deadline)} 前办结",
            )
        audit(child, actor=actor, action="create")
        children.append(child)
    return children


def _siblings(part: Application) -> list[Application]:
    """The other parts; the waiting ones (which this change may release or stop) under a row lock.
    The parent is already locked (applications.lock), so no other decision on this bundle runs;
    the sweep locks only parts whose clock runs, never waiting ones."""
    others = (
        Application.objects.select_related(
            "item__department", "bundle_step", "department", "region", "parent", "bundle"
        )
        .filter(parent_id=part.parent_id)
        .exclude(pk=part.pk)
        .order_by("number")
    )
    waiting = {
        a.pk: a for a in others.filter(status=ApplicationStatus.WAITING).select_for_update(of=("self",))
    }
    return [waiting.get(a.pk, a) for a in others]


def part_approved(part: Application, *, actor: Any, now: dt.datetime) -> None:
    """The step's result stands in for the later material it replaces; parts whose prerequisites
    are now all approved go to their back offices."""
    from shanzhi.onewindow.applications import audit, event, when

    step = part.bundle_step
    assert step is not None
    siblings = _siblings(part)
    done = {
        s.bundle_step_id
        for s in siblings
        if s.status in (ApplicationStatus.APPROVED, ApplicationStatus.FINISHED)
    }
    done.add(step.pk)
    if step.result_material is not None:
        ApplicationMaterial.objects.filter(
            application__in=[part.parent_id, *[s.pk for s in siblings]],
            key=step.result_material.document,
            status=LineStatus.PENDING_RESULT,
        ).update(
            status=LineStatus.FROM_RESULT,
            source=f"由 {part.number}“{part.title}”办结结果替代",
            checked_at=now,
        )
    for sibling in siblings:
        if sibling.status != ApplicationStatus.WAITING or sibling.bundle_step is None:
            continue
        needs = {d.pk for d in sibling.bundle_step.depends_on.all()}
        if not needs <= done:
            continue
        sibling.status = TRANSITIONS["release"].target
        sibling.accepted_at = now
        deadlines.start_clock(sibling, now=now)
        sibling.save()
        event(
            sibling,
            actor=None,
            action="release",
            note=f"前置事项已办结,转入审批;承诺 {when(sibling.deadline)} 前办结",
            now=now,
        )
        audit(sibling, actor=None, action="release")
        people.tell_back_office(
            sibling,
            kind="application.routed",
            body=f"一件事办件 {sibling.number} {sibling.title},请于 {when(sibling.deadline)} 前办结",
        )
        people.tell_applicant(
            sibling,
            kind="application.released",
            body=f"您的“{sibling.parent.title if sibling.parent else sibling.title}”中,“{sibling.title}”"
            f"已转入{sibling.department}审批,承诺 {when(sibling.deadline)} 前办结。",
        )
    parent_progress(part, now=now)


def part_refused(part: Application, *, actor: Any, now: dt.datetime) -> None:
    """Parts that depend on the refused step (directly or through others) cannot go on."""
    from shanzhi.onewindow.applications import audit, event

    siblings = _siblings(part)
    stopped = {part.bundle_step_id}
    changed = True
    while changed:  # follow the chain: a part waiting on a stopped part stops too
        changed = False
        for sibling in siblings:
            if sibling.status != ApplicationStatus.WAITING or sibling.bundle_step is None:
                continue
            if {d.pk for d in sibling.bundle_step.depends_on.all()} & stopped:
                sibling.status = TRANSITIONS["cancel"].target
                sibling.finished_at = now
                sibling.save()
                stopped.add(sibling.bundle_step_id)
                event(
                    sibling,
                    actor=None,
                    action="cancel",
                    note=f"前置事项“{part.title}”不予批准,本事项终止",
                    now=now,
                )
                audit(sibling, actor=None, action="cancel")
                people.tell_applicant(
                    sibling,
                    kind="application.cancelled",
                    body=f"因“{part.title}”未获批准,“{sibling.title}”无法继续办理,已终止。",
                )
                changed = True
    parent_progress(part, now=now)


def parent_progress(part: Application, *, now: dt.datetime) -> None:
    """The parent is complete when every part is approved, finished, refused or stopped; the
    applicant is told, with any refused part named."""
    from shanzhi.onewindow.applications import audit, event

    assert part.parent_id is not None
    parent = (
        Application.objects.select_for_update(of=("self",))
        .select_related("bundle", "region")
        .get(pk=part.parent_id)
    )
    parts = list(parent.children.select_related("item").order_by("number"))
    if parent.status != ApplicationStatus.ACCEPTED or any(p.status not in DONE_STATUSES for p in parts):
        return
    parent.status = TRANSITIONS["complete"].target
    parent.finished_at = now
    parent.decided_at = now
    refused = [p for p in parts if p.status in (ApplicationStatus.REFUSED, ApplicationStatus.CANCELLED)]
    parent.on_time = parent.deadline is None or now <= parent.deadline
    parent.decision = (
        "全部事项已批准" if not refused else "部分事项未获批准:" + "、".join(p.title for p in refused)
    )
    parent.save()
    event(parent, actor=None, action="complete", note=parent.decision, now=now)
    audit(parent, actor=None, action="complete")
    people.tell_applicant(
        parent,
        kind="application.finished",
        body=f"您申请的“{parent.title}”(编号 {parent.number})已全部办结:{parent.decision}。"
        "欢迎对本次服务作出评价。",
    )


def refused_parts(parent: Application) -> list[Application]:
    return [
        p
        for p in parent.children.all()
        if p.status in (ApplicationStatus.REFUSED, ApplicationStatus.CANCELLED)
    ]
