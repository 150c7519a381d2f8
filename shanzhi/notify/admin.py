"""Back office for messages: the outbox is read-only with phones masked; templates are edited here
(through message_template_save, so every change is audited)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from shanzhi.core.errors import ServiceError
from shanzhi.core.masking import mask_phone
from shanzhi.notify.models import Message, MessageAttempt, MessageTemplate
from shanzhi.notify.services import TEMPLATE_CODE, message_requeue, message_template_save
from shanzhi.notify.wording import DEFAULT_TEMPLATES


class AttemptInline(admin.TabularInline):
    model = MessageAttempt
    fields = ["number", "at", "ok", "provider_id", "error", "duration_ms"]
    readonly_fields = ["number", "at", "ok", "provider_id", "error", "duration_ms"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# The raw phone and e-mail are left out on purpose: the admin shows them masked ("to").
MESSAGE_FIELDS = (
    "channel",
    "kind",
    "recipient",
    "to",
    "subject",
    "body",
    "object_type",
    "object_id",
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "provider_id",
    "created_at",
    "delivered_at",
    "read_at",
)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "channel", "kind", "to", "status", "attempts", "last_error"]
    list_filter = ["channel", "status", "kind"]
    search_fields = ["kind", "object_id"]
    date_hierarchy = "created_at"
    fields = MESSAGE_FIELDS
    readonly_fields = MESSAGE_FIELDS
    inlines = [AttemptInline]
    actions = ["requeue"]

    @admin.display(description="发送对象")
    def to(self, obj: Message) -> str:
        if obj.phone:
            return mask_phone(obj.phone)
        if obj.email:
            local, _, domain = obj.email.partition("@")
            return f"{local[:1]}***@{domain}"
        return str(obj.recipient or "")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return super().get_queryset(request).select_related("recipient")

    @admin.action(description="重新发送所选的失败消息")
    def requeue(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        done = 0
        for message in queryset:
            try:
                message_requeue(actor=request.user, message=message)
                done += 1
            except ServiceError as exc:
                self.message_user(request, f"消息 {message.pk}:{exc.message}", messages.WARNING)
        if done:
            self.message_user(request, f"已重新排队 {done} 条消息", messages.SUCCESS)


class TemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["code", "channel", "subject", "body", "active"]

    def clean_code(self) -> str:
        code = str(self.cleaned_data.get("code", "")).strip()
        if not TEMPLATE_CODE.match(code):
            raise forms.ValidationError("消息类型应形如 rating.rectified 或 case.*")
        return code


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    form = TemplateForm
    list_display = ["code", "channel", "subject", "body", "active", "updated_at"]
    list_filter = ["channel", "active"]
    search_fields = ["code", "subject", "body"]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        code, channel = initial.get("code"), initial.get("channel")
        if isinstance(code, str) and isinstance(channel, str) and (code, channel) in DEFAULT_TEMPLATES:
            initial["subject"], initial["body"] = DEFAULT_TEMPLATES[(code, channel)]
        return initial

    def save_model(self, request: HttpRequest, obj: MessageTemplate, form: Any, change: bool) -> None:
        message_template_save(actor=request.user, template=obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # switch a template off with 启用 instead; the built-in default then applies
