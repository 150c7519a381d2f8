from django.urls import path

from shanzhi.grid.phone import views

app_name = "gridphone"

urlpatterns = [
    path("", views.home, name="home"),
    path("checkin/", views.checkin, name="checkin"),
    path("report/", views.report, name="report"),
    path("households/", views.households, name="households"),
    path("visit/", views.visit, name="visit"),
    path("verify/", views.verify_list, name="verify_list"),
    path("verify/<str:number>/", views.verify, name="verify"),
    path("sw.js", views.service_worker, name="sw"),
]
