"""Back office: incident types and their checklists (one item a line), edited through the service
so every change is checked and audited; incidents and tasks are read-only here (they change
through the pages and the API)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from shanzhi.core.errors import ServiceError
from shanzhi.core.selectors import has_role
from shanzhi.emergency.incidents import TYPE_ADMIN_ROLES, clean_checklist, incident_type_save
from shanzhi.emergency.models import GridTask, Incident, IncidentType


class ChecklistField(forms.Field):
    """A JSON list of items shown and edited one item a line."""

    widget = forms.Textarea(attrs={"rows": 10, "cols": 80})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return "\n".join(str(v) for v in value)
        return value

    def to_python(self, value: Any) -> list[str]:
        text = value if isinstance(value, str) else ""
        try:
            return clean_checklist(text.splitlines())
        except ServiceError as exc:
            raise forms.ValidationError(exc.message) from exc


class IncidentTypeForm(forms.ModelForm):
    checklist = ChecklistField(label="处置清单", help_text="每行一项,按执行顺序排列;网格员在任务页逐项勾选。")

    class Meta:
        model = IncidentType
        fields = ["code", "name", "checklist", "task_hours", "clock", "notify_text", "active"]


@admin.register(IncidentType)
class IncidentTypeAdmin(admin.ModelAdmin):
    form = IncidentTypeForm
    list_display = ["name", "code", "checklist_items", "task_hours", "clock", "active", "updated_at"]
    list_filter = ["active"]
    search_fields = ["code", "name"]

    @admin.display(description="清单项数")
    def checklist_items(self, obj: IncidentType) -> int:
        return len(obj.checklist)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["code"] if obj is not None else []

    def has_add_permission(self, request: HttpRequest) -> bool:
        return has_role(user=request.user, roles=TYPE_ADMIN_ROLES)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_role(user=request.user, roles=TYPE_ADMIN_ROLES)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # incidents keep their type; retire one by unticking 启用

    def save_model(self, request: HttpRequest, obj: IncidentType, form: Any, change: bool) -> None:
        saved = incident_type_save(
            actor=request.user,
            code=obj.code,
            name=obj.name,
            checklist=obj.checklist,
            task_hours=obj.task_hours,
            clock=obj.clock,
            notify_text=obj.notify_text,
            active=obj.active,
        )
        obj.pk = saved.pk


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = [
        "number",
        "title",
        "type",
        "region",
        "status",
        "grid_count",
        "household_count",
        "started_at",
    ]
    list_filter = ["status", "type"]
    search_fields = ["number", "title"]


@admin.register(GridTask)
class GridTaskAdmin(ReadOnlyAdmin):
    list_display = ["title", "grid", "kind", "status", "due_at", "households_reached", "people_need_help"]
    list_filter = ["kind", "status"]
    search_fields = ["title", "grid__code", "grid__name"]
    raw_id_fields = ["grid", "incident"]


from shanzhi.emergency import admin_warnings  # noqa: E402, F401  (warning feeds and warnings)
