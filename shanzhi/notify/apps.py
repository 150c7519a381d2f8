from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "shanzhi.notify"
    label = "notify"
    verbose_name = "消息通知"
