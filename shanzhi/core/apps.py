from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "shanzhi.core"
    label = "core"
    verbose_name = "组织与人员"
