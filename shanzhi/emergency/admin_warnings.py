"""Back office for warnings: feeds are edited through `warning_feed_save` (checked, audited);
warnings themselves are read-only here (they change by CAP messages and the pages)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin import widgets as admin_widgets
from django.http import HttpRequest

from shanzhi.core.errors import ServiceError
from shanzhi.emergency.models_warnings import Warning, WarningFeed
from shanzhi.emergency.warning_feeds import warning_feed_save


class FeedForm(forms.ModelForm):
    # Declared so the scheme a bare address gets is https (Django 6's default; 5.2 warns).
    url = forms.URLField(
        label="地址", max_length=500, assume_scheme="https", widget=admin_widgets.AdminURLFieldWidget
    )

    class Meta:
        model = WarningFeed
        fields = ["name", "url", "format", "enabled", "interval_minutes"]


@admin.register(WarningFeed)
class WarningFeedAdmin(admin.ModelAdmin):
    form = FeedForm
    list_display = ["name", "url", "format", "enabled", "last_polled_at", "last_status", "received_count"]
    readonly_fields = ["last_polled_at", "last_ok_at", "last_status", "last_error", "received_count"]

    def save_model(self, request: HttpRequest, obj: WarningFeed, form: Any, change: bool) -> None:
        try:
            warning_feed_save(actor=request.user, feed=obj)
        except ServiceError as exc:
            self.message_user(request, exc.message, level="error")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # disable instead: the warnings it brought keep pointing at it


@admin.register(Warning)
class WarningAdmin(admin.ModelAdmin):
    list_display = [
        "sent",
        "headline",
        "msg_type",
        "severity",
        "state",
        "source",
        "grid_count",
        "household_count",
    ]
    list_filter = ["state", "source", "severity", "msg_type"]
    search_fields = ["identifier", "headline", "event"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
