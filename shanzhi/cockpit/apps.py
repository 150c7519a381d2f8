from django.apps import AppConfig


class CockpitConfig(AppConfig):
    name = "shanzhi.cockpit"
    label = "cockpit"
    verbose_name = "数据驾驶舱"
