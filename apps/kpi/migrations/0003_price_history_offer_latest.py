"""A covering index for "each offer's last price-history row before T" (``history.past_states``):
per offer, newest first with the id as tie-break, carrying the price and availability, so the
read is an index-only probe per offer, or one ordered pass over the index for all offers. Like
0002 it is created here by SQL, so the providers app keeps its migrations to itself; ``INCLUDE``
is PostgreSQL's (SQLite gets the same key columns)."""

from typing import Any

from django.db import migrations

NAME = "kpi_price_history_offer_latest"
KEY = "price_history (offer_id, recorded_at DESC, id DESC)"


def create(apps: Any, schema_editor: Any) -> None:
    include = (
        " INCLUDE (price_per_hour, availability_status)"
        if schema_editor.connection.vendor == "postgresql"
        else ""
    )
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {NAME} ON {KEY}{include}")


def drop(apps: Any, schema_editor: Any) -> None:
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("kpi", "0002_price_history_time_index")]

    operations = [migrations.RunPython(create, drop)]
