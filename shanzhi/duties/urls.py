from django.urls import path

from shanzhi.duties import views

app_name = "duties"

urlpatterns: list = []
