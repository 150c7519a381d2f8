from django.urls import path

from shanzhi.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.status, name="status"),
]
