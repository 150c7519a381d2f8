from django.urls import path

from shanzhi.onewindow import views

app_name = "onewindow"

urlpatterns = [
    path("", views.catalog_view, name="catalog"),
    path("items/<str:code>/", views.item_view, name="item"),
    path("items/<str:code>/notice.pdf", views.item_pdf_view, name="item_pdf"),
    path("items/<str:code>/notice.txt", views.item_sms_view, name="item_sms"),
    path("bundles/", views.bundles_view, name="bundles"),
    path("bundles/<slug:code>/", views.bundle_view, name="bundle"),
]
