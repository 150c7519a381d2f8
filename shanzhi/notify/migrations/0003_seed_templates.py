"""Put the built-in wordings in the table, so the back office can see and edit them, and give
messages queued before delivery existed a time to be tried."""

from django.db import migrations
from django.db.models import F


def forwards(apps, schema_editor):
    from shanzhi.notify.wording import DEFAULT_TEMPLATES

    template = apps.get_model("notify", "MessageTemplate")
    for (code, channel), (subject, body) in DEFAULT_TEMPLATES.items():
        template.objects.get_or_create(code=code, channel=channel, defaults={"subject": subject, "body": body})
    message = apps.get_model("notify", "Message")
    message.objects.filter(status="queued", next_attempt_at__isnull=True).exclude(channel="in_app").update(
        next_attempt_at=F("created_at")
    )


class Migration(migrations.Migration):
    dependencies = [("notify", "0002_outbox_delivery_templates")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
