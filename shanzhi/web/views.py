"""Login, the role home pages and the org tree."""

from __future__ import annotations

from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shanzhi.core.selectors import roles_of
from shanzhi.web.home import work_areas
from shanzhi.web.selectors import jurisdiction_summary, org_tree
from shanzhi.web.work import my_work


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("web:login")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    roles = roles_of(user=request.user)
    return render(
        request,
        "web/home.html",
        {
            "work": my_work(user=request.user, roles=roles),
            "areas": work_areas(roles=roles),
            "summary": jurisdiction_summary(user=request.user),
        },
    )


@login_required
def org_tree_view(request: HttpRequest) -> HttpResponse:
    return render(request, "web/org_tree.html", {"tree": org_tree(user=request.user)})
