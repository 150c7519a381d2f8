"""The audit status page: latest signed tree head, public key, recent entries, verify button."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from shanzhi.audit import keys, selectors
from shanzhi.audit.services import AUDIT_ROLES
from shanzhi.audit.verify import audit_verify
from shanzhi.core.selectors import has_role


@login_required
@require_http_methods(["GET", "POST"])
def status(request: HttpRequest) -> HttpResponse:
    if not has_role(user=request.user, roles=AUDIT_ROLES):
        raise PermissionDenied
    report = audit_verify() if request.method == "POST" else None
    head = selectors.tree_head_latest(user=request.user)
    public = keys.public_key()
    size = selectors.audit_log_size(user=request.user)
    context = {
        "head": head,
        "head_root_hex": bytes(head.root_hash).hex() if head else "",
        "head_root_b64": keys.b64(head.root_hash) if head else "",
        "head_signature_b64": keys.b64(head.signature) if head else "",
        "head_timestamp_ms": keys.timestamp_ms(head.timestamp) if head else None,
        "head_time": timezone.localtime(head.timestamp) if head else None,
        "log_size": size,
        "unsigned": size - head.tree_size if head else size,
        "public_key_b64": keys.b64(keys.public_key_raw(public)),
        "public_key_pem": keys.public_key_pem(public),
        "key_id": keys.key_id(public),
        "entries": selectors.entry_list_recent(user=request.user, limit=50),
        "report": report,
    }
    return render(request, "audit/status.html", context)
