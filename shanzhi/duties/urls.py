from django.urls import path

from shanzhi.duties import views

app_name = "duties"

urlpatterns = [
    path("", views.list_view, name="list"),
    path("new/", views.create_view, name="create"),
    path("compare/", views.compare_view, name="compare"),
    path("<int:pk>/", views.detail_view, name="detail"),
    path("<int:pk>/export/", views.export_view, name="export"),
    path("<int:pk>/import/", views.import_view, name="import"),
    path("<int:pk>/publish/", views.publish_view, name="publish"),
    path("<int:pk>/revise/", views.revise_view, name="revise"),
    path("<int:pk>/delete/", views.delete_view, name="delete"),
    path("<int:pk>/items/add/", views.item_add_view, name="item_add"),
    path("<int:pk>/items/<str:code>/remove/", views.item_remove_view, name="item_remove"),
]
