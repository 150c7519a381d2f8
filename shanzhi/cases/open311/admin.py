"""Back office for Open311 clients. Keys are issued and revoked only through the services (for
the hash and the audit entry); a new key is shown once, in a message on the next page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from shanzhi.cases.open311.models import Open311Client, Open311Request
from shanzhi.cases.open311.services import MANAGE_ROLES, open311_client_create, open311_client_revoke
from shanzhi.core.errors import ServiceError
from shanzhi.core.selectors import has_role


class ManagersOnly(admin.ModelAdmin):
    """Only system administrators see Open311 clients at all (staff status alone is not enough)."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return has_role(user=request.user, roles=MANAGE_ROLES) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_role(user=request.user, roles=MANAGE_ROLES) and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return has_role(user=request.user, roles=MANAGE_ROLES) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_role(user=request.user, roles=MANAGE_ROLES) and super().has_change_permission(request, obj)


def _show_key(request: HttpRequest, client: Open311Client, plain: str) -> None:
    messages.warning(
        request,
        f"已为 {client.name} 签发 api_key(只显示这一次,请立即复制并安全地交给对方):{plain}",
    )


@admin.register(Open311Client)
class Open311ClientAdmin(ManagersOnly):
    list_display = ["name", "prefix", "active", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["active"]
    search_fields = ["name", "prefix"]
    fields = ["name", "prefix", "active", "created_at", "last_used_at", "revoked_at"]
    actions = ["issue_key", "revoke"]

    def get_readonly_fields(self, request: HttpRequest, obj: Open311Client | None = None) -> Any:
        readonly = ["prefix", "active", "created_at", "last_used_at", "revoked_at"]
        return readonly if obj is None else ["name", *readonly]

    def has_delete_permission(self, request: HttpRequest, obj: Open311Client | None = None) -> bool:
        return False  # revoked keys stay, so the audit log and old requests keep their client

    def save_model(self, request: HttpRequest, obj: Open311Client, form: Any, change: bool) -> None:
        """Adding a client issues its key through the service, then shows it once."""
        if change:
            return
        client, plain = open311_client_create(actor=request.user, name=form.cleaned_data["name"])
        obj.pk = client.pk
        obj.refresh_from_db()
        _show_key(request, client, plain)

    @admin.action(description="为所选客户端签发新密钥(旧密钥仍有效,确认后请吊销)", permissions=["change"])
    def issue_key(self, request: HttpRequest, queryset: QuerySet[Open311Client]) -> None:
        for name in sorted(set(queryset.values_list("name", flat=True))):
            client, plain = open311_client_create(actor=request.user, name=name)
            _show_key(request, client, plain)

    @admin.action(description="吊销所选密钥", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Open311Client]) -> None:
        for client in queryset:
            try:
                open311_client_revoke(actor=request.user, client=client)
            except ServiceError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"已吊销 {client.name} 的密钥 {client.prefix}")


@admin.register(Open311Request)
class Open311RequestAdmin(ManagersOnly):
    list_display = ["token", "case", "client", "service", "created_at"]
    list_select_related = ["case", "client", "service"]
    search_fields = ["token", "case__number", "client__name"]
    readonly_fields = [
        "case",
        "client",
        "service",
        "token",
        "account_id",
        "device_id",
        "address_id",
        "media_url",
        "created_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Open311Request | None = None) -> bool:
        return False
