"""Warning pages, mounted under the emergency app's URLs (names in the `emergency` namespace)."""

from django.urls import path

from shanzhi.emergency import views_warnings as views

urlpatterns = [
    path("", views.warning_list, name="warnings"),
    path("issue/", views.warning_issue_page, name="warning_issue"),
    path("<int:pk>/", views.warning_detail, name="warning"),
    path("<int:pk>/cap.xml", views.warning_cap, name="warning_cap"),
    path("<int:pk>/declare/", views.warning_declare, name="warning_declare"),
]
