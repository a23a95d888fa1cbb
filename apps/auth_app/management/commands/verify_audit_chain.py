"""``manage.py verify_audit_chain [--tenant ID|NAME|platform]``: recompute every audit chain
(or one) and report the first broken link of each; exits non-zero when any chain is broken."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.auth_app.audit import chain_for, chains, verify_chain
from apps.auth_app.models import PLATFORM_CHAIN, Tenant


class Command(BaseCommand):
    help = "Verify the hash chains of the audit log; report the first broken link."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tenant",
            help=f"a tenant id or name, or '{PLATFORM_CHAIN}' for entries without a tenant",
        )

    def _chain(self, tenant: str) -> str:
        if tenant == PLATFORM_CHAIN:
            return PLATFORM_CHAIN
        try:
            match = Tenant.objects.filter(pk=uuid.UUID(tenant)).first()
        except ValueError:
            match = Tenant.objects.filter(name=tenant).first()
        if match is None:
            raise CommandError(f"no tenant {tenant!r}")
        return chain_for(match.pk)

    def handle(self, *args: Any, **options: Any) -> None:
        names = [self._chain(options["tenant"])] if options["tenant"] else chains()
        broken = []
        for name in names:
            problem = verify_chain(name)
            if problem is None:
                self.stdout.write(f"chain {name}: ok")
            else:
                broken.append(problem)
                self.stderr.write(f"BROKEN {problem}")
        if broken:
            raise CommandError(f"{len(broken)} of {len(names)} audit chain(s) broken")
        self.stdout.write(self.style.SUCCESS(f"{len(names)} audit chain(s) verified"))
