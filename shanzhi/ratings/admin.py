"""Back office view of 好差评, read-only: every change goes through the services (pages and API)
so that it is checked and audited. Phones are masked in the lists."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from shanzhi.core.masking import mask_phone
from shanzhi.ratings.models import Appeal, CannotGetDoneReport, Rating, Rectification


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "object_title", "level", "handler", "staff", "channel", "phone", "excluded"]
    list_filter = ["level", "channel", "object_type", "excluded"]
    search_fields = ["object_id", "object_title"]
    date_hierarchy = "created_at"
    exclude = ["rater_phone"]

    @admin.display(description="评价人手机号")
    def phone(self, obj: Rating) -> str:
        return mask_phone(obj.rater_phone)


@admin.register(Rectification)
class RectificationAdmin(ReadOnlyAdmin):
    list_display = ["rating", "handler", "status", "deadline", "called_back_at", "fixed_at"]
    list_filter = ["status"]


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin):
    list_display = ["rating", "status", "filed_at", "decided_at"]
    list_filter = ["status"]


@admin.register(CannotGetDoneReport)
class CannotGetDoneReportAdmin(ReadOnlyAdmin):
    list_display = ["number", "region", "status", "phone", "respond_by", "resolve_by"]
    list_filter = ["status", "channel"]
    search_fields = ["number"]
    exclude = ["contact_phone"]

    @admin.display(description="联系电话")
    def phone(self, obj: CannotGetDoneReport) -> str:
        return mask_phone(obj.contact_phone)
