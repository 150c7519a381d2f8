"""My messages, mounted at /messages/ (namespace "notify")."""

from django.urls import path

from shanzhi.notify import views

app_name = "notify"

urlpatterns = [
    path("", views.inbox_view, name="inbox"),
    path("<int:pk>/read/", views.read_view, name="read"),
    path("read-all/", views.read_all_view, name="read_all"),
]
