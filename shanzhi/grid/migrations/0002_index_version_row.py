"""The single GridIndexVersion row exists from the start, so writers only ever lock it."""

from django.db import migrations


def create_row(apps, schema_editor):
    GridIndexVersion = apps.get_model("grid", "GridIndexVersion")
    GridIndexVersion.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("grid", "0001_initial")]

    operations = [migrations.RunPython(create_row, migrations.RunPython.noop)]
