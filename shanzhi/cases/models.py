"""Cases (诉求/事件/案卷), their assignments to handlers, clocks, timeline and supervision.

The workflow itself is the table in `workflow.py`; these models only hold state.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from shanzhi.core.models import Estate, Handler, HandlerType, Region


class ClockUnit(models.TextChoices):
    WORKING_HOURS = "working_hours", "工作时"
    NATURAL_HOURS = "natural_hours", "自然时"


class Category(models.Model):
    """One row of the county's case catalogue (spec/case-taxonomy.csv), editable in the back office."""

    code = models.CharField("代码", max_length=8, unique=True)
    group = models.CharField("大类", max_length=32)
    name = models.CharField("名称", max_length=64)
    primary_handler = models.ForeignKey(
        HandlerType, on_delete=models.PROTECT, related_name="primary_categories", verbose_name="主办单位类型"
    )
    co_handlers = models.ManyToManyField(
        HandlerType, blank=True, related_name="co_categories", verbose_name="协办单位类型"
    )
    sla_hours = models.PositiveIntegerField("办理时限(小时)")
    clock_unit = models.CharField("计时方式", max_length=16, choices=ClockUnit.choices)
    scope = models.TextField("受理范围", blank=True)
    active = models.BooleanField("启用", default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "诉求类别"
        verbose_name_plural = "诉求类别"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Channel(models.TextChoices):
    HOTLINE = "hotline", "12345 热线"
    APP = "app", "群众 App/网页"
    GRID = "grid", "网格员上报"
    SENSOR = "sensor", "物联感知"
    SUPERIOR = "superior", "上级交办"
    OPEN311 = "open311", "Open311 接口"
    IMPORT = "import", "历史导入"


class CaseStatus(models.TextChoices):
    RECEIVED = "received", "已受理"
    REGISTERED = "registered", "已立案"
    DISPATCHED = "dispatched", "已派遣"
    IN_PROGRESS = "in_progress", "处置中"
    VERIFYING = "verifying", "待核查"
    CLOSED = "closed", "已结案"
    EVALUATED = "evaluated", "已评价"
    REFUSED = "refused", "不予立案"
    MERGED = "merged", "已合并"


OPEN_STATUSES = (
    CaseStatus.RECEIVED,
    CaseStatus.REGISTERED,
    CaseStatus.DISPATCHED,
    CaseStatus.IN_PROGRESS,
    CaseStatus.VERIFYING,
)


class Case(models.Model):
    number = models.CharField("案卷编号", max_length=24, unique=True)
    channel = models.CharField("来源渠道", max_length=16, choices=Channel.choices)
    status = models.CharField("状态", max_length=16, choices=CaseStatus.choices, default=CaseStatus.RECEIVED)
    text = models.TextField("诉求内容")
    address = models.CharField("地址", max_length=255, blank=True)
    lon = models.FloatField("经度(WGS-84)", null=True, blank=True)
    lat = models.FloatField("纬度(WGS-84)", null=True, blank=True)
    # Place: village/community (the jurisdiction key), its township, and the grid when located.
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="cases")
    township = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey(
        "grid.Grid", null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    estate = models.ForeignKey(Estate, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases")
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    urgent = models.BooleanField("紧急", default=False)

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_cases",
    )
    reporter_name = models.CharField("反映人", max_length=64, blank=True)
    reporter_phone = models.CharField("联系电话", max_length=11, blank=True)
    device = models.CharField("感知设备", max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # Triage's proposal, kept beside the decision so corrections can be learned from.
    suggested_category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    suggestion_confidence = models.FloatField(null=True, blank=True)
    suggestion = models.JSONField(default=dict, blank=True)

    possible_duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="possible_duplicates"
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged"
    )
    split_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="splits"
    )
    refuse_reason = models.CharField("不予立案理由", max_length=255, blank=True)

    received_at = models.DateTimeField("受理时间", db_index=True)
    registered_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField("办结时限", null=True, blank=True, db_index=True)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    dispatch_returns = models.PositiveSmallIntegerField("退回次数", default=0)
    rework_count = models.PositiveSmallIntegerField("返工次数", default=0)
    satisfaction = models.CharField("满意度", max_length=16, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["status", "received_at"]),
            models.Index(fields=["category", "status", "received_at"]),
            models.Index(fields=["lat", "lon"]),
        ]
        verbose_name = "案卷"
        verbose_name_plural = "案卷"

    def __str__(self) -> str:
        return self.number


class AssignmentRole(models.TextChoices):
    PRIMARY = "primary", "主办"
    CO = "co", "协办"


class AssignmentStatus(models.TextChoices):
    PENDING = "pending", "待签收"
    ACCEPTED = "accepted", "处置中"
    SUSPENDED = "suspended", "缓办中"
    REPORTED = "reported", "已反馈"
    RETURNED = "returned", "已退回"
    DONE = "done", "已办结"
    CANCELLED = "cancelled", "已撤销"


OPEN_ASSIGNMENT_STATUSES = (
    AssignmentStatus.PENDING,
    AssignmentStatus.ACCEPTED,
    AssignmentStatus.SUSPENDED,
)


class Assignment(models.Model):
    """One handler's share of a case, with its own clock and escalation ladder.

    warn_at / deadline / county_at are the ladder's three thresholds (80 %, 100 %, 200 % of the time
    limit), recomputed whenever the clock moves, so the sweep is three indexed range queries.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments")
    handler = models.ForeignKey(Handler, on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(max_length=8, choices=AssignmentRole.choices)
    status = models.CharField(
        max_length=16, choices=AssignmentStatus.choices, default=AssignmentStatus.PENDING
    )
    clock_unit = models.CharField(max_length=16, choices=ClockUnit.choices)
    sla_hours = models.FloatField("时限(小时,含延期)")
    started_at = models.DateTimeField()
    warn_at = models.DateTimeField(db_index=True)
    deadline = models.DateTimeField(db_index=True)
    county_at = models.DateTimeField(db_index=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    county_escalated_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    return_reason = models.CharField(max_length=255, blank=True)
    report_text = models.TextField(blank=True)
    rework_count = models.PositiveSmallIntegerField(default=0)
    extension_hours = models.FloatField(default=0)
    on_time = models.BooleanField(null=True, blank=True, help_text="reported before the deadline")

    class Meta:
        ordering = ["case", "role", "id"]
        indexes = [
            models.Index(fields=["handler", "status"]),
            # The SLA sweep's three queries (cases.sweep.due_assignments): open assignments whose
            # step has yet to fire, by its threshold. Partial, so a minute's sweep reads the due
            # rows rather than every open row whose step fired before (most of a large county's
            # open work is past its warning). PostgreSQL uses them; SQLite cannot match the
            # query's bound status parameters to the condition and keeps the plain indexes.
            models.Index(
                fields=["warn_at"],
                name="assignment_warn_due",
                condition=models.Q(warned_at__isnull=True, status__in=["pending", "accepted"]),
            ),
            models.Index(
                fields=["deadline"],
                name="assignment_deadline_due",
                condition=models.Q(escalated_at__isnull=True, status__in=["pending", "accepted"]),
            ),
            models.Index(
                fields=["county_at"],
                name="assignment_county_due",
                condition=models.Q(county_escalated_at__isnull=True, status__in=["pending", "accepted"]),
            ),
        ]
        verbose_name = "派遣"
        verbose_name_plural = "派遣"

    def __str__(self) -> str:
        return f"{self.case.number} → {self.handler}"


class ClockPause(models.Model):
    """An interval during which an assignment's clock stood still (approved 缓办)."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=255)

    def __str__(self) -> str:
        return f"{self.assignment_id}: {self.started_at:%Y-%m-%d %H:%M} → {self.ended_at or '…'}"


class RequestKind(models.TextChoices):
    EXTENSION = "extension", "延期"
    SUSPENSION = "suspension", "缓办"


class RequestState(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已批准"
    REFUSED = "refused", "未批准"


class HandlerRequest(models.Model):
    """A handler's request for an extension or suspension, decided by a dispatcher."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="requests")
    kind = models.CharField(max_length=16, choices=RequestKind.choices)
    hours = models.FloatField(default=0, help_text="extra hours asked for (extension)")
    reason = models.CharField(max_length=500)
    state = models.CharField(max_length=16, choices=RequestState.choices, default=RequestState.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.get_state_display()}"


class SupervisionLevel(models.TextChoices):
    WARNING = "warning", "临期预警"
    ESCALATION = "escalation", "超期督办"
    COUNTY = "county", "县级督办"


class Supervision(models.Model):
    """A 督办 record: who was told that an assignment is late, and when."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="supervisions")
    level = models.CharField(max_length=16, choices=SupervisionLevel.choices)
    created_at = models.DateTimeField()
    notified = models.JSONField(default=list, help_text="usernames told")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assignment", "level"], name="one_supervision_per_level"),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} #{self.assignment_id}"


class TimelineEvent(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="timeline")
    assignment = models.ForeignKey(
        Assignment, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    at = models.DateTimeField()
    actor = models.CharField(max_length=150)
    action = models.CharField(max_length=32)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} @ {self.at:%Y-%m-%d %H:%M}"


class AttachmentStage(models.TextChoices):
    INTAKE = "intake", "上报"
    REPORT = "report", "处置反馈"
    VERIFY = "verify", "核查"


class Attachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    stage = models.CharField(max_length=8, choices=AttachmentStage.choices)
    file = models.FileField(upload_to="cases/%Y/%m/")
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.file.name


class IdempotencyRecord(models.Model):
    """The first answer to a request carrying an Idempotency-Key, so a retry gets the same one."""

    owner = models.CharField(max_length=150, help_text="who sent it (username or client)")
    key = models.CharField(max_length=128)
    request_digest = models.CharField(max_length=64)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key")]

    def __str__(self) -> str:
        return f"{self.owner}:{self.key}"


class Satisfaction(models.TextChoices):
    VERY_SATISFIED = "very_satisfied", "非常满意"
    SATISFIED = "satisfied", "满意"
    BASIC = "basic", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"
    VERY_UNSATISFIED = "very_unsatisfied", "非常不满意"


class CaseSequence(models.Model):
    """The last case number issued on a day; locked when the next one is taken."""

    day = models.DateField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


from shanzhi.cases.models_import import ImportedRow, ImportJob  # noqa: E402,F401
