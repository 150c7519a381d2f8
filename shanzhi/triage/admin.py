"""Back office: the auto-dispatch threshold, model versions (activate one), labelled examples.

Every change goes through a service, so it is checked and audited like any other write."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from shanzhi.core.errors import ServiceError
from shanzhi.triage.models import TriageExample, TriageModel, TriageSettings
from shanzhi.triage.services import triage_example_add, triage_model_activate, triage_settings_update


@admin.register(TriageSettings)
class TriageSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "auto_dispatch_threshold"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not TriageSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: TriageSettings, form: Any, change: bool) -> None:
        try:
            triage_settings_update(actor=request.user, auto_dispatch_threshold=obj.auto_dispatch_threshold)
        except ServiceError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)


@admin.register(TriageModel)
class TriageModelAdmin(admin.ModelAdmin):
    list_display = [
        "version",
        "active",
        "created_at",
        "created_by",
        "n_examples",
        "n_corrections",
        "accuracy",
    ]
    list_filter = ["active"]
    exclude = ["blob"]
    readonly_fields = [
        "version",
        "active",
        "created_at",
        "created_by",
        "blob_sha256",
        "sklearn_version",
        "n_examples",
        "n_corrections",
        "metrics",
    ]
    actions = ["activate"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[TriageModel]:
        return super().get_queryset(request).defer("blob")

    @admin.display(description="留出集准确率")
    def accuracy(self, obj: TriageModel) -> str:
        held = (obj.metrics or {}).get("heldout", {})
        return f"{held.get('accuracy', 0):.1%} / 承办单位 {held.get('handler_accuracy', 0):.1%}"

    @admin.action(description="启用所选版本(只能选一个)")
    def activate(self, request: HttpRequest, queryset: QuerySet[TriageModel]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "请只选择一个版本", level=messages.ERROR)
            return
        model = queryset.get()
        try:
            triage_model_activate(actor=request.user, version=model.version)
        except ServiceError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return
        self.message_user(request, f"已启用 v{model.version}")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # versions come from training (`shanzhi triage train`)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TriageExample)
class TriageExampleAdmin(admin.ModelAdmin):
    list_display = ["category", "short_text", "source", "created_by", "created_at"]
    list_filter = ["source", "category"]
    search_fields = ["text"]
    fields = ["text", "category", "source"]

    @admin.display(description="诉求内容")
    def short_text(self, obj: TriageExample) -> str:
        return obj.text if len(obj.text) <= 40 else obj.text[:40] + "…"

    def save_model(self, request: HttpRequest, obj: TriageExample, form: Any, change: bool) -> None:
        try:
            saved = triage_example_add(
                actor=request.user, text=obj.text, category=obj.category, source=obj.source
            )
        except ServiceError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return
        obj.pk = saved.pk

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None  # examples are kept as added: the audit log holds each one

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
