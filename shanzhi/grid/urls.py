from django.urls import path

from shanzhi.grid import views, views_households

app_name = "grid"

urlpatterns = [
    path("", views.grid_map, name="map"),
    # Households come before "<code>/" so their words are not read as grid codes.
    path("households/", views_households.household_list, name="households"),
    path("households/new/", views_households.household_new, name="household_new"),
    path("households/import/", views_households.household_import, name="household_import"),
    path("households/export/", views_households.household_export, name="household_export"),
    path("households/<str:code>/", views_households.household_detail, name="household_detail"),
    path("households/<str:code>/edit/", views_households.household_edit, name="household_edit"),
    path(
        "households/<str:code>/deactivate/",
        views_households.household_deactivate_view,
        name="household_deactivate",
    ),
    path("<str:code>/", views.grid_detail, name="detail"),
]
