"""The service catalogue (政务服务事项) with the national element fields, each item's material list,
and "一件事" bundles that join items into one application.

Codes follow the house format documented in `catalog.py`. Applications, back-office routing
and receipts build on these models (same app) and refer to items by `code` and to materials by
id, so updates keep a material's row when its name is unchanged.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q


class ItemType(models.TextChoices):
    LICENSING = "licensing", "行政许可"
    CONFIRMATION = "confirmation", "行政确认"
    PAYMENT = "payment", "行政给付"
    REWARD = "reward", "行政奖励"
    ADJUDICATION = "adjudication", "行政裁决"
    OTHER_POWER = "other_power", "其他行政权力"
    PUBLIC_SERVICE = "public_service", "公共服务"


class Theme(models.TextChoices):
    SOCIAL_SECURITY = "social_security", "社会保障"
    MEDICAL_INSURANCE = "medical_insurance", "医疗保障"
    CIVIL_AFFAIRS = "civil_affairs", "民政"
    HOUSEHOLD = "household", "户籍"
    HEALTH = "health", "卫生健康"
    DISABILITY = "disability", "残疾人"
    HOUSING = "housing", "住房"
    MARKET = "market", "市场监管"
    AGRICULTURE = "agriculture", "农业"


class Channel(models.TextChoices):
    WINDOW = "window", "窗口办理"
    ONLINE = "online", "网上办理"
    KIOSK = "kiosk", "自助终端"
    ASSISTED = "assisted", "帮办代办"


class MaterialForm(models.TextChoices):
    ORIGINAL = "original", "原件"
    COPY = "copy", "复印件"
    ORIGINAL_AND_COPY = "original_and_copy", "原件及复印件"
    ELECTRONIC = "electronic", "电子件"


class Requirement(models.TextChoices):
    REQUIRED = "required", "必须提交"
    CONDITIONAL = "conditional", "视情况提交"


class ServiceItem(models.Model):
    """One item of the county's implementation list (实施清单), with its one-time notice data."""

    code = models.CharField("实施编码", max_length=40, unique=True)
    basic_code = models.CharField("基本编码", max_length=10, db_index=True)
    name = models.CharField("事项名称", max_length=100)
    item_type = models.CharField("事项类型", max_length=16, choices=ItemType.choices)
    theme = models.CharField("主题分类", max_length=24, choices=Theme.choices, db_index=True)
    summary = models.CharField("事项说明", max_length=200, help_text="一句话说明办的是什么,如“为…办理…”")
    applicants = models.CharField("申请对象", max_length=200)
    legal_basis = models.TextField("设定依据")
    conditions = models.TextField("受理条件")
    steps = models.JSONField("办理流程", default=list, help_text="按顺序的环节:[{name, detail}]")
    statutory_days = models.PositiveSmallIntegerField(
        "法定办结时限(工作日)", null=True, blank=True, help_text="法律法规未规定时留空"
    )
    promised_days = models.PositiveSmallIntegerField("承诺办结时限(工作日)", help_text="0 表示即办")
    time_limit_note = models.CharField("时限说明", max_length=200, blank=True)
    fee_text = models.CharField("收费标准", max_length=100, default="不收费")
    fee_amount = models.DecimalField("收费金额(元)", max_digits=10, decimal_places=2, default=0)
    visits = models.PositiveSmallIntegerField("到现场次数", default=1, help_text="0 或 1 即“最多跑一次”")
    department = models.ForeignKey(
        "core.Handler", on_delete=models.PROTECT, related_name="service_items", verbose_name="实施部门"
    )
    window = models.CharField("办理窗口", max_length=100, blank=True)
    channels = models.JSONField("办理渠道", default=list)
    phone = models.CharField("咨询电话", max_length=32)
    keywords = models.JSONField("关键词", default=list, blank=True)
    application_form = models.CharField(
        "申请表", max_length=100, blank=True, help_text="需填写的申请表名称;无需填表时留空"
    )
    active = models.BooleanField("启用", default=True)
    # Search columns, rebuilt by the services on every write (see search.py).
    search_text = models.TextField(editable=False, blank=True)
    pinyin_full = models.TextField(editable=False, blank=True)
    pinyin_initials = models.TextField(editable=False, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["theme", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(statutory_days__isnull=True) | Q(promised_days__lte=F("statutory_days")),
                name="service_item_promised_within_statutory",
                violation_error_message="承诺办结时限不能超过法定办结时限",
            ),
            models.CheckConstraint(
                condition=Q(visits__lte=5),
                name="service_item_visits_at_most_5",
                violation_error_message="到现场次数应在 0–5 之间",
            ),
            models.CheckConstraint(
                condition=Q(fee_amount__gte=0),
                name="service_item_fee_not_negative",
                violation_error_message="收费金额不能为负",
            ),
        ]
        verbose_name = "政务服务事项"
        verbose_name_plural = "政务服务事项"

    def __str__(self) -> str:
        return self.name

    @property
    def at_most_once(self) -> bool:
        """最多跑一次: the resident comes to a window at most once (0 = 全程网办)."""
        return self.visits <= 1

    def channel_labels(self) -> list[str]:
        return [str(Channel(c).label) for c in self.channels if c in Channel.values]


class Material(models.Model):
    """One line of an item's material list."""

    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="materials")
    order = models.PositiveSmallIntegerField("序号")
    name = models.CharField("材料名称", max_length=100)
    key = models.CharField(
        "材料标识",
        max_length=100,
        blank=True,
        help_text="不同事项中同一份材料用同一标识,一件事据此去重;留空即同名称",
    )
    form = models.CharField("材料形式", max_length=20, choices=MaterialForm.choices)
    copies = models.PositiveSmallIntegerField("份数", default=1)
    requirement = models.CharField(
        "是否必需", max_length=12, choices=Requirement.choices, default=Requirement.REQUIRED
    )
    condition = models.CharField("提交条件", max_length=100, blank=True, help_text="如“是否委托他人办理”")
    shared = models.BooleanField("免提交", default=False, help_text="平台可从共享数据获取,申请人无需提交")
    shared_source = models.CharField(
        "共享来源", max_length=100, blank=True, help_text="如“户籍信息(公安共享)”"
    )
    notes = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        ordering = ["item", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "name"],
                name="material_name_unique_in_item",
                violation_error_message="同一事项的材料名称不能重复",
            ),
            models.UniqueConstraint(
                fields=["item", "order"],
                name="material_order_unique_in_item",
                violation_error_message="同一事项的材料序号不能重复",
            ),
            models.CheckConstraint(
                condition=~Q(requirement="conditional") | ~Q(condition=""),
                name="material_conditional_has_condition",
                violation_error_message="视情况提交的材料须写明提交条件",
            ),
            models.CheckConstraint(
                condition=Q(shared=False) | ~Q(shared_source=""),
                name="material_shared_has_source",
                violation_error_message="免提交的材料须写明共享来源",
            ),
            models.CheckConstraint(
                condition=Q(copies__gte=1),
                name="material_copies_at_least_1",
                violation_error_message="份数至少为 1",
            ),
        ]
        verbose_name = "申请材料"
        verbose_name_plural = "申请材料"

    def __str__(self) -> str:
        return self.name

    @property
    def required(self) -> bool:
        return self.requirement == Requirement.REQUIRED

    @property
    def document(self) -> str:
        """What identifies the document across items: the key, or the name when none is set."""
        return self.key or self.name


class Bundle(models.Model):
    """一件事: several items applied for once, with one merged form."""

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=100)
    description = models.TextField("说明")
    window = models.CharField("办理窗口", max_length=100)
    visits = models.PositiveSmallIntegerField("到现场次数", default=1)
    form_fields = models.JSONField(
        "合并表单字段", default=list, help_text="[{key, label, kind, required}],一张表代替各事项的申请表"
    )
    sort_order = models.PositiveSmallIntegerField("排序", default=0)
    active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = "一件事"
        verbose_name_plural = "一件事"

    def __str__(self) -> str:
        return self.name


class BundleStep(models.Model):
    """One member item of a bundle. A step starts when every step it depends on is done; its
    result may stand in for a material of a later step (出生医学证明 for 户口登记)."""

    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="steps")
    item = models.ForeignKey(
        ServiceItem, on_delete=models.PROTECT, related_name="bundle_steps", verbose_name="事项"
    )
    order = models.PositiveSmallIntegerField("顺序")
    depends_on = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="dependents", verbose_name="前置环节"
    )
    result_material = models.ForeignKey(
        Material,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="satisfied_by_steps",
        verbose_name="办结结果可替代的后续材料",
    )

    class Meta:
        ordering = ["bundle", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["bundle", "item"],
                name="bundle_step_item_unique",
                violation_error_message="同一事项在一件事中只能出现一次",
            ),
            models.UniqueConstraint(
                fields=["bundle", "order"],
                name="bundle_step_order_unique",
                violation_error_message="一件事中各环节的顺序不能重复",
            ),
        ]
        verbose_name = "一件事环节"
        verbose_name_plural = "一件事环节"

    def __str__(self) -> str:
        return f"{self.order}. {self.item.name}"


# Applications and the hall's queue live in their own modules; Django finds models through here.
from shanzhi.onewindow.models_applications import (  # noqa: E402,F401
    Application,
    ApplicationEvent,
    ApplicationFile,
    ApplicationIdempotency,
    ApplicationMaterial,
    ApplicationSequence,
    HomeVisit,
    ProxyConsent,
)
from shanzhi.onewindow.models_queue import QueueSequence, QueueTicket, ServiceWindow  # noqa: E402,F401
