"""Applications (办件): what a resident asked for, the material checklist of that application, the
files they brought, its timeline, and the assisted-service records (consent, home visits).

The allowed moves between statuses are the table in `workflow.py`; these models only hold state.
An application's `region` is its jurisdiction key (where it was taken in, or where the applicant
lives); its `department` is the back office it is routed to (the item's handling department).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from shanzhi.core.models import Handler, Region, Staff


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已提交,待受理"
    NOT_ACCEPTED = "not_accepted", "材料不全,已一次性告知"
    ACCEPTED = "accepted", "已受理"
    WAITING = "waiting", "等待前置事项办结"
    IN_REVIEW = "in_review", "审查中"
    CORRECTION_REQUESTED = "correction_requested", "待补正"
    APPROVED = "approved", "已批准"
    REFUSED = "refused", "不予批准"
    FINISHED = "finished", "已办结"
    CANCELLED = "cancelled", "已终止"


# The back office's clock runs in these; the sweep looks only at them.
CLOCK_STATUSES = (ApplicationStatus.ACCEPTED, ApplicationStatus.IN_REVIEW)
# Decided: the part is done for its bundle, and the applicant may rate it.
DONE_STATUSES = (
    ApplicationStatus.APPROVED,
    ApplicationStatus.REFUSED,
    ApplicationStatus.FINISHED,
    ApplicationStatus.CANCELLED,
)
RATABLE_STATUSES = (ApplicationStatus.APPROVED, ApplicationStatus.REFUSED, ApplicationStatus.FINISHED)
OPEN_STATUSES = (
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.NOT_ACCEPTED,
    ApplicationStatus.ACCEPTED,
    ApplicationStatus.WAITING,
    ApplicationStatus.IN_REVIEW,
    ApplicationStatus.CORRECTION_REQUESTED,
)
# While an application is being prepared, or during 补正, files may be added to it.
FILE_STATUSES = (
    ApplicationStatus.DRAFT,
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.NOT_ACCEPTED,
    ApplicationStatus.CORRECTION_REQUESTED,
)


class Application(models.Model):
    """One application for one service item, or the parent of a 一件事 bundle application whose
    children (one per bundle step) go to the departments' back offices."""

    number = models.CharField("办件编号", max_length=24, unique=True)
    item = models.ForeignKey(
        "onewindow.ServiceItem",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name="事项",
    )
    bundle = models.ForeignKey(
        "onewindow.Bundle",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name="一件事",
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    bundle_step = models.ForeignKey(
        "onewindow.BundleStep", null=True, blank=True, on_delete=models.PROTECT, related_name="applications"
    )
    channel = models.CharField("申请渠道", max_length=12)
    status = models.CharField(
        "状态", max_length=24, choices=ApplicationStatus.choices, default=ApplicationStatus.DRAFT
    )
    applicant_name = models.CharField("申请人", max_length=64)
    applicant_id_number = models.CharField("身份证号", max_length=18)
    applicant_phone = models.CharField("手机号", max_length=11)
    applicant_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="applications",
        verbose_name="申请人账号",
    )
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="applications", verbose_name="所属区域"
    )
    department = models.ForeignKey(
        Handler,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name="办理部门",
    )
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="受理人",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answers = models.JSONField("情形选择", default=dict, blank=True, help_text="{提交条件: true/false}")
    form_data = models.JSONField("申请表内容", default=dict, blank=True)

    promised_days = models.PositiveSmallIntegerField("承诺时限(工作日)", default=0)
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True)
    clock_started_at = models.DateTimeField(null=True, blank=True)
    pauses = models.JSONField(default=list, blank=True, help_text="[[start, end]] while waiting for 补正")
    # The escalation ladder's thresholds (80 %, 100 %, 200 % of the promised time) and when each fired.
    warn_at = models.DateTimeField(null=True, blank=True, db_index=True)
    deadline = models.DateTimeField("承诺办结时间", null=True, blank=True, db_index=True)
    county_at = models.DateTimeField(null=True, blank=True, db_index=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    county_escalated_at = models.DateTimeField(null=True, blank=True)

    missing_notice = models.JSONField("一次性告知的缺件清单", default=list, blank=True)
    notified_at = models.DateTimeField("一次性告知时间", null=True, blank=True)
    correction_items = models.JSONField("补正清单", default=list, blank=True)
    correction_requested_at = models.DateTimeField(null=True, blank=True)
    corrected_at = models.DateTimeField(null=True, blank=True)

    decision = models.CharField("办理结果", max_length=500, blank=True)
    refuse_reason = models.CharField("不予批准理由", max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="审批人",
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    review_started_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    on_time = models.BooleanField(null=True, blank=True)
    satisfaction = models.CharField("满意度", max_length=16, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField("申请时间", db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["department", "status"]),
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["applicant_phone"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(item__isnull=False) | models.Q(bundle__isnull=False),
                name="application_item_or_bundle",
            ),
        ]
        verbose_name = "办件"
        verbose_name_plural = "办件"

    def __str__(self) -> str:
        return self.number

    @property
    def title(self) -> str:
        if self.item_id and self.item is not None:
            return self.item.name
        return self.bundle.name if self.bundle is not None else self.number

    @property
    def channel_label(self) -> str:
        from shanzhi.onewindow.models import Channel

        return str(Channel(self.channel).label) if self.channel in Channel.values else self.channel

    @property
    def is_bundle(self) -> bool:
        return self.bundle_id is not None and self.parent_id is None


class LineStatus(models.TextChoices):
    NEEDED = "needed", "待提交"
    UPLOADED = "uploaded", "已上传"
    PAPER = "paper", "已收纸质材料"
    FETCHED = "fetched", "免提交(共享获取)"
    NOT_NEEDED = "not_needed", "无需提交"
    PENDING_RESULT = "pending_result", "待前置事项办结后替代"
    FROM_RESULT = "from_result", "由前置事项办结结果替代"


PROVIDED = (LineStatus.UPLOADED, LineStatus.PAPER, LineStatus.FETCHED, LineStatus.FROM_RESULT)


class ApplicationMaterial(models.Model):
    """One document of an application's checklist: needed, provided (uploaded, or the paper
    original seen by a clerk), fetched from shared data (and from which source), or not needed."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="lines")
    material = models.ForeignKey(
        "onewindow.Material", on_delete=models.PROTECT, related_name="application_lines"
    )
    order = models.PositiveSmallIntegerField()
    key = models.CharField("材料标识", max_length=100)
    name = models.CharField("材料名称", max_length=100)
    form = models.CharField("材料形式", max_length=20)
    copies = models.PositiveSmallIntegerField(default=1)
    condition = models.CharField("提交条件", max_length=100, blank=True)
    status = models.CharField(max_length=16, choices=LineStatus.choices)
    source = models.CharField("来源", max_length=120, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["application", "order"]
        constraints = [
            models.UniqueConstraint(fields=["application", "key"], name="application_line_key_unique")
        ]
        verbose_name = "办件材料"
        verbose_name_plural = "办件材料"

    def __str__(self) -> str:
        return f"{self.application_id}: {self.name}"

    @property
    def provided(self) -> bool:
        return self.status in PROVIDED


class FileStage(models.TextChoices):
    INTAKE = "intake", "申请"
    CORRECTION = "correction", "补正"


class ApplicationFile(models.Model):
    """A file for one checklist line, checked by its content; stored outside any public URL and
    served only through a view that checks who asks."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="files")
    line = models.ForeignKey(ApplicationMaterial, on_delete=models.CASCADE, related_name="files")
    stage = models.CharField(max_length=12, choices=FileStage.choices, default=FileStage.INTAKE)
    file = models.FileField(upload_to="onewindow/%Y/%m/")
    original_name = models.CharField(max_length=120)
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["application", "uploaded_at", "id"]
        verbose_name = "办件附件"
        verbose_name_plural = "办件附件"

    def __str__(self) -> str:
        return self.original_name


class ApplicationEvent(models.Model):
    """The application's timeline, as the status page shows it."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.CharField(max_length=150)
    action = models.CharField(max_length=32)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["application", "at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.action}"


class ApplicationSequence(models.Model):
    """The day's last application number, taken under a row lock."""

    day = models.DateField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class ApplicationIdempotency(models.Model):
    """The first answer to a form or request carrying a token, so a second submit gets the same one."""

    owner = models.CharField(max_length=150)
    key = models.CharField(max_length=128)
    request_digest = models.CharField(max_length=64)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="application_idempotency_owner_key")
        ]

    def __str__(self) -> str:
        return f"{self.owner}:{self.key}"


class ConsentMethod(models.TextChoices):
    SIGNATURE = "signature", "本人签字(按手印)"
    VERBAL = "verbal", "口头同意(有见证人)"


class ProxyReason(models.TextChoices):
    ELDERLY = "elderly", "老年人"
    DISABLED = "disabled", "残疾人"
    ILL = "ill", "重病、行动不便"


class ProxyConsent(models.Model):
    """帮办代办: the resident's consent that staff apply for them — who, how, when, witnessed by whom."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="consent")
    reason = models.CharField("代办原因", max_length=12, choices=ProxyReason.choices)
    consenter_name = models.CharField("同意人", max_length=64)
    relation = models.CharField("与申请人关系", max_length=32, help_text="本人、配偶、子女、监护人…")
    method = models.CharField("同意方式", max_length=12, choices=ConsentMethod.choices)
    witness = models.CharField("见证人", max_length=64, blank=True)
    consented_at = models.DateTimeField("同意时间")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "代办授权"
        verbose_name_plural = "代办授权"

    def __str__(self) -> str:
        return f"{self.consenter_name} ({self.get_method_display()})"


class VisitStatus(models.TextChoices):
    BOOKED = "booked", "已预约"
    DONE = "done", "已上门"
    CANCELLED = "cancelled", "已取消"


class HomeVisit(models.Model):
    """帮办代办: a booked home visit to a resident who cannot come."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="所在村社区")
    resident_name = models.CharField("居民姓名", max_length=64)
    resident_phone = models.CharField("联系电话", max_length=11)
    reason = models.CharField("代办原因", max_length=12, choices=ProxyReason.choices)
    address = models.CharField("上门地址", max_length=200)
    visit_date = models.DateField("上门日期")
    staff = models.ForeignKey(
        Staff, on_delete=models.PROTECT, related_name="home_visits", verbose_name="上门人员"
    )
    item = models.ForeignKey(
        "onewindow.ServiceItem",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="要办的事项",
    )
    note = models.CharField("备注", max_length=200, blank=True)
    status = models.CharField(max_length=12, choices=VisitStatus.choices, default=VisitStatus.BOOKED)
    application = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["visit_date", "id"]
        verbose_name = "上门帮办"
        verbose_name_plural = "上门帮办"

    def __str__(self) -> str:
        return f"{self.visit_date} {self.resident_name}"
