"""An index on ``price_history.recorded_at`` for the KPI engine's time-range reads (which offers
changed since T; compaction's "older than the raw window"). The table belongs to
``apps.providers``; the index is created here by SQL both databases accept, so the providers app
keeps its migrations to itself."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("kpi", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS kpi_price_history_recorded_at "
            "ON price_history (recorded_at)",
            reverse_sql="DROP INDEX IF EXISTS kpi_price_history_recorded_at",
        )
    ]
