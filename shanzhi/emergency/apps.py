from django.apps import AppConfig


class EmergencyConfig(AppConfig):
    name = "shanzhi.emergency"
    label = "emergency"
    verbose_name = "应急指挥"
