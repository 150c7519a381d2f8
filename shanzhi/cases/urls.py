"""Pages of the closed loop, mounted at /cases/ (namespace "cases"); the public lookup included."""

from django.urls import path

from shanzhi.cases import views

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("intake/", views.intake, name="intake"),
    path("intake/suggest/", views.intake_suggest, name="intake_suggest"),
    path("queue/", views.queue, name="queue"),
    path("queue/table/", views.queue_table, name="queue_table"),
    path("queue/bulk-dispatch/", views.bulk_dispatch, name="bulk_dispatch"),
    path("queue/<str:number>/panel/", views.queue_panel, name="queue_panel"),
    path("requests/<int:pk>/decide/", views.request_decide, name="decide"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/list/", views.inbox_list, name="inbox_list"),
    path("assignments/<int:pk>/<slug:action>/", views.assignment_act, name="assignment_act"),
    path("verify/", views.verify_list, name="verify_list"),
    path("report/", views.report, name="report"),
    path("mine/", views.mine, name="mine"),
    path("lookup/", views.lookup, name="lookup"),
    path("<str:number>/", views.detail, name="detail"),
    path("<str:number>/photos/<int:pk>/", views.photo, name="photo"),
    path("<str:number>/do/<slug:action>/", views.case_act, name="act"),
]
