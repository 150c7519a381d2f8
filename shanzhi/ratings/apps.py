from django.apps import AppConfig


class RatingsConfig(AppConfig):
    name = "shanzhi.ratings"
    label = "ratings"
    verbose_name = "好差评"

    def ready(self) -> None:
        # Rateable kinds this app knows how to find (cases); other apps register their own.
        from shanzhi.ratings import adapters  # noqa: F401
