from django.urls import include, path

from shanzhi.emergency import views

app_name = "emergency"

urlpatterns = [
    path("warnings/", include("shanzhi.emergency.urls_warnings")),
    path("", views.incident_list, name="list"),
    path("declare/", views.incident_declare_page, name="declare"),
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/<int:pk>/", views.task_page, name="task"),
    path("<int:pk>/", views.incident_detail, name="detail"),
    path("<int:pk>/board/", views.incident_board, name="board"),
    path("<int:pk>/close/", views.incident_close_page, name="close"),
    path("<int:pk>/report.pdf", views.incident_report, {"fmt": "pdf"}, name="report_pdf"),
    path("<int:pk>/report.xlsx", views.incident_report, {"fmt": "xlsx"}, name="report_xlsx"),
]
