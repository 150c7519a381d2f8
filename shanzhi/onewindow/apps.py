from django.apps import AppConfig


class OnewindowConfig(AppConfig):
    name = "shanzhi.onewindow"
    label = "onewindow"
    verbose_name = "一窗受理"

    def ready(self) -> None:
        # Finished applications can be rated (好差评); ratings finds them through this adapter.
        from shanzhi.onewindow.rating import ApplicationRateable
        from shanzhi.ratings.registry import register

        register(ApplicationRateable())
