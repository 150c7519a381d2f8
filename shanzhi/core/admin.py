"""Back office for the org tree. Regions and handlers are created through services (for the
path and the audit entry); the admin edits names, phones and roles."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from shanzhi.core.models import ApiToken, Estate, Handler, HandlerType, Region, Staff, StaffRole


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "kind", "parent"]
    list_filter = ["level", "kind"]
    search_fields = ["code", "name"]
    readonly_fields = ["code", "level", "parent", "path"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # regions are added by region_create, which sets the path and audits


@admin.register(HandlerType)
class HandlerTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "kind", "name_zh", "name_en"]


@admin.register(Handler)
class HandlerAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "type", "region", "phone", "active"]
    list_filter = ["type", "active"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["region"]


@admin.register(Estate)
class EstateAdmin(admin.ModelAdmin):
    list_display = ["name", "region", "property_company"]
    search_fields = ["name"]
    autocomplete_fields = ["region", "property_company"]


class StaffRoleInline(admin.TabularInline):
    model = StaffRole
    extra = 1


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "region", "handler", "role_list"]
    search_fields = ["name", "user__username"]
    autocomplete_fields = ["region", "handler"]
    inlines = [StaffRoleInline]

    @admin.display(description="角色")
    def role_list(self, obj: Staff) -> str:
        return "、".join(r.get_role_display() for r in obj.roles.all())

    def get_queryset(self, request: HttpRequest) -> Any:
        return (
            super()
            .get_queryset(request)
            .prefetch_related("roles")
            .select_related("region", "handler", "user")
        )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "digest", "created_at", "last_used_at"]
