"""Cockpit pages, mounted at /cockpit/ (namespace "cockpit")."""

from django.urls import path

from shanzhi.cockpit import views

app_name = "cockpit"

urlpatterns = [
    path("", views.home, name="home"),
    path("tiles/", views.tiles, name="tiles"),
    path("options/", views.options, name="options"),
    path("drill/<slug:tile>/", views.drill_list, name="drill"),
    path("export/<slug:name>.xlsx", views.export_panel, name="export"),
    path("report/<str:month>.pdf", views.monthly_report, name="report"),
]
