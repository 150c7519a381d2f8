"""好差评 pages, mounted at /ratings/ (namespace "ratings"); the public 办不成事 form included."""

from django.urls import path

from shanzhi.ratings import views

app_name = "ratings"

urlpatterns = [
    path("", views.rating_list, name="list"),
    path("rate/<slug:obj_type>/<str:obj_id>/", views.rate, name="rate"),
    path("rectifications/", views.rectification_list, name="rectifications"),
    path("rectifications/<int:pk>/", views.rectification_detail, name="rectification"),
    path("rectifications/<int:pk>/<slug:action>/", views.rectification_act, name="rectification_act"),
    path("appeals/", views.appeal_list, name="appeals"),
    path("appeals/<int:pk>/decide/", views.appeal_decide, name="appeal_decide"),
    path("rankings/", views.rankings, name="rankings"),
    path("cannot-get-done/", views.report_form, name="report_form"),
    path("cannot-get-done/received/", views.report_done, name="report_done"),
    path("cannot-get-done/queue/", views.report_queue, name="reports"),
    path("cannot-get-done/<int:pk>/", views.report_detail, name="report"),
    path("cannot-get-done/<int:pk>/<slug:action>/", views.report_act, name="report_act"),
]
