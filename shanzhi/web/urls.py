from django.urls import path

from shanzhi.web import elder, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("org/", views.org_tree_view, name="org_tree"),
    path("elder/", elder.elder_switch, name="elder"),
]
