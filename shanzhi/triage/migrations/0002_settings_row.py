"""The one settings row (pk=1): the auto-dispatch threshold, and the row training locks."""

from django.db import migrations


def create_row(apps, schema_editor):
    settings = apps.get_model("triage", "TriageSettings")
    settings.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("triage", "0001_initial")]

    operations = [migrations.RunPython(create_row, migrations.RunPython.noop)]
