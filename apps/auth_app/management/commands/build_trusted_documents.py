"""``manage.py build_trusted_documents``: the trusted-documents manifest from graphql/operations/.

See ``schema/trusted_documents.py`` for the document format and the modes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from schema.trusted_documents import write_manifest


class Command(BaseCommand):
    help = "Write the trusted-documents manifest (sha256 id -> document) of graphql/operations/."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--operations",
            type=Path,
            default=Path(settings.GRAPHQL_OPERATIONS_DIR),
            help="Folder of *.graphql operation files.",
        )
        parser.add_argument(
            "--output",
            type=Path,
            default=Path(settings.GRAPHQL_TRUSTED_DOCUMENTS_MANIFEST),
            help="Manifest path (GRAPHQL_TRUSTED_DOCUMENTS_MANIFEST).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        manifest = write_manifest(options["operations"], options["output"])
        self.stdout.write(f"trusted documents: {len(manifest)} written to {options['output']}")
