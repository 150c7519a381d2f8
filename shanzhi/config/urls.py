from django.contrib import admin
from django.urls import include, path

from shanzhi.config.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("audit/", include("shanzhi.audit.urls")),
    path("duties/", include("shanzhi.duties.urls")),
    path("grids/", include("shanzhi.grid.urls")),
    path("grid/m/", include("shanzhi.grid.phone.urls")),
    path("open311/v2/", include("shanzhi.cases.open311.urls")),
    path("cases/", include("shanzhi.cases.urls")),
    path("cockpit/", include("shanzhi.cockpit.urls")),
    path("ratings/", include("shanzhi.ratings.urls")),
    path("messages/", include("shanzhi.notify.urls")),
    path("services/", include("shanzhi.onewindow.urls")),
    path("emergency/", include("shanzhi.emergency.urls")),
    path("", include("shanzhi.web.urls")),
]
