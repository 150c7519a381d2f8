"""Login, the role home pages, the org tree and audit status."""

from __future__ import annotations

from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shanzhi.core.selectors import region_list, roles_of


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("web:login")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html", {"roles": roles_of(user=request.user)})


@login_required
def org_tree(request: HttpRequest) -> HttpResponse:
    regions = region_list(user=request.user).select_related("parent")
    return render(request, "web/org_tree.html", {"regions": regions})
