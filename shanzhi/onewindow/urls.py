from django.urls import path

from shanzhi.onewindow import views, views_apply, views_kiosk, views_staff

app_name = "onewindow"

urlpatterns = [
    # The catalogue (public).
    path("", views.catalog_view, name="catalog"),
    path("items/<str:code>/", views.item_view, name="item"),
    path("items/<str:code>/notice.pdf", views.item_pdf_view, name="item_pdf"),
    path("items/<str:code>/notice.txt", views.item_sms_view, name="item_sms"),
    path("bundles/", views.bundles_view, name="bundles"),
    path("bundles/<slug:code>/", views.bundle_view, name="bundle"),
    # Applying and following an application.
    path("items/<str:code>/apply/", views_apply.apply_view, name="apply"),
    path("bundles/<slug:code>/apply/", views_apply.bundle_apply_view, name="bundle_apply"),
    path("my/", views_apply.mine_view, name="mine"),
    path("status/", views_apply.status_view, name="status"),
    path("applications/<str:number>/", views_apply.application_view, name="application"),
    path("applications/<str:number>/act/<str:action>/", views_apply.act_view, name="act"),
    path("applications/<str:number>/upload/", views_apply.upload_view, name="upload"),
    path("applications/<str:number>/paper/", views_apply.paper_view, name="paper"),
    path("applications/<str:number>/rate/", views_apply.rate_view, name="rate"),
    path("applications/<str:number>/files/<int:pk>/", views_apply.file_view, name="application_file"),
    path("applications/<str:number>/receipt/", views_apply.receipt_page_view, name="receipt_page"),
    path("applications/<str:number>/receipt.pdf", views_apply.receipt_pdf_view, name="receipt"),
    path("applications/<str:number>/notice/", views_apply.notice_page_view, name="notice_page"),
    path("applications/<str:number>/notice.pdf", views_apply.missing_notice_pdf_view, name="missing_notice"),
    path(
        "applications/<str:number>/correction.pdf",
        views_apply.correction_notice_pdf_view,
        name="correction_notice",
    ),
    # The window clerk, the back office, supervision, assisted service.
    path("window/", views_staff.window_view, name="window"),
    path("window/take/", views_staff.ticket_take_view, name="ticket_take"),
    path("window/waiting/", views_staff.window_waiting_view, name="window_waiting"),
    path("window/<int:pk>/call/", views_staff.window_call_view, name="window_call"),
    path("window/tickets/<int:pk>/<str:action>/", views_staff.ticket_act_view, name="ticket_act"),
    path("window/intake/", views_staff.intake_view, name="intake"),
    path("window/stats/", views_staff.queue_stats_view, name="queue_stats"),
    path("backoffice/", views_staff.back_office_view, name="back_office"),
    path("overdue/", views_staff.overdue_view, name="overdue"),
    path("assisted/", views_staff.assisted_view, name="assisted"),
    path("assisted/visits/", views_staff.visits_view, name="visits"),
    path("assisted/visits/<int:pk>/done/", views_staff.visit_done_view, name="visit_done"),
    # The self-service terminal.
    path("kiosk/", views_kiosk.kiosk_view, name="kiosk"),
    path("kiosk/ticket/", views_kiosk.kiosk_ticket_view, name="kiosk_ticket"),
    path("kiosk/items/<str:code>/", views_kiosk.kiosk_item_view, name="kiosk_item"),
    path("kiosk/applications/<str:number>/", views_kiosk.kiosk_application_view, name="kiosk_application"),
    path("kiosk/applications/<str:number>/upload/", views_kiosk.kiosk_upload_view, name="kiosk_upload"),
    path("kiosk/applications/<str:number>/complete/", views_kiosk.kiosk_complete_view, name="kiosk_complete"),
]
