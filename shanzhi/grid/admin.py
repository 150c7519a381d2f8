"""Back office view of grids. Read-only: every change goes through the grid services, which
check geometry, bump the index version and write the audit entry."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from shanzhi.grid.models import Grid, GridWorker, RegionShape


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class GridWorkerInline(admin.TabularInline):
    model = GridWorker
    extra = 0
    can_delete = False
    readonly_fields = ["staff", "is_leader", "since"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Grid)
class GridAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "village", "area_m2", "active", "updated_at"]
    list_filter = ["active"]
    search_fields = ["code", "name", "village__name"]
    inlines = [GridWorkerInline]


@admin.register(GridWorker)
class GridWorkerAdmin(ReadOnlyAdmin):
    list_display = ["grid", "staff", "is_leader", "since"]
    list_filter = ["is_leader"]
    search_fields = ["grid__code", "staff__name"]


@admin.register(RegionShape)
class RegionShapeAdmin(ReadOnlyAdmin):
    list_display = ["region", "area_m2", "updated_at"]
    search_fields = ["region__code", "region__name"]
