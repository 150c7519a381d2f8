from django.urls import path

from shanzhi.grid import views

app_name = "grid"

urlpatterns = [
    path("", views.grid_map, name="map"),
    path("<str:code>/", views.grid_detail, name="detail"),
]
