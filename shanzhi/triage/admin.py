"""Back office: the auto-dispatch threshold, model versions (activate one), labelled examples.

Every change goes through a service, so it is checked and audited like any other write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from shanzhi.core.errors import ServiceError
from shanzhi.triage.categories import category_table
from shanzhi.triage.models import TriageExample, TriageModel, TriageSettings
from shanzhi.triage.services import (
    clean_text,
    triage_example_add,
    triage_model_activate,
    triage_settings_update,
)


class TriageSettingsForm(forms.ModelForm):
    class Meta:
        model = TriageSettings
        fields = ["auto_dispatch_threshold"]

    def clean_auto_dispatch_threshold(self) -> float:
        value = self.cleaned_data["auto_dispatch_threshold"]
        if value is None or not 0.0 < value <= 1.0:
            raise forms.ValidationError("自动派遣阈值应大于 0 且不超过 1")
        return float(value)


class TriageExampleForm(forms.ModelForm):
    class Meta:
        model = TriageExample
        fields = ["text", "category", "source"]

    def clean_text(self) -> str:
        try:
            return clean_text(self.cleaned_data.get("text"))
        except ServiceError as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean_category(self) -> str:
        code = (self.cleaned_data.get("category") or "").strip()
        if code not in category_table():
            raise forms.ValidationError(f"未知的诉求类别代码:{code}")
        return code


@admin.register(TriageSettings)
class TriageSettingsAdmin(admin.ModelAdmin):
    form = TriageSettingsForm
    list_display = ["__str__", "auto_dispatch_threshold"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not TriageSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: TriageSettings, form: Any, change: bool) -> None:
        triage_settings_update(actor=request.user, auto_dispatch_threshold=obj.auto_dispatch_threshold)


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
    form = TriageExampleForm

    @admin.display(description="诉求内容")
    def short_text(self, obj: TriageExample) -> str:
        return obj.text if len(obj.text) <= 40 else obj.text[:40] + "…"

    def save_model(self, request: HttpRequest, obj: TriageExample, form: Any, change: bool) -> None:
        saved = triage_example_add(
            actor=request.user, text=obj.text, category=obj.category, source=obj.source
        )
        obj.pk = saved.pk

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None  # examples are kept as added: the audit log holds each one

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
