from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "shanzhi.web"
    label = "web"
    verbose_name = "页面"
