"""Back office view of duty lists, read-only: every change goes through the services (and the
pages and API that call them) so that it is checked, versioned and audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from shanzhi.duties.models import AssistItem, Duty, DutyList


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DutyInline(ReadOnlyInline):
    model = Duty
    fields = ["code", "name", "type", "lead_handler", "category_codes"]


class AssistInline(ReadOnlyInline):
    model = AssistItem
    fields = ["code", "name", "assists", "category_codes"]


@admin.register(DutyList)
class DutyListAdmin(ReadOnlyAdmin):
    list_display = ["region", "kind", "year", "version", "status", "published_at"]
    list_filter = ["kind", "status", "year"]
    search_fields = ["region__name", "region__code"]
    inlines = [DutyInline, AssistInline]


@admin.register(Duty)
class DutyAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "type", "duty_list"]
    list_filter = ["type", "duty_list__year"]
    search_fields = ["code", "name", "legal_basis"]


@admin.register(AssistItem)
class AssistItemAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "assists", "duty_list"]
    search_fields = ["code", "name", "basis"]
