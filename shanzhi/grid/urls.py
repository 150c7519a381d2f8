from django.urls import path

from shanzhi.grid import views

app_name = "grid"

urlpatterns: list = []
