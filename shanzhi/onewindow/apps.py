from django.apps import AppConfig


class OnewindowConfig(AppConfig):
    name = "shanzhi.onewindow"
    label = "onewindow"
    verbose_name = "一窗受理"
