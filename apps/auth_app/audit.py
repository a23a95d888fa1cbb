"""The tamper-evident audit log: append entries to per-tenant hash chains and verify them.

A chain is named by its tenant's id, or ``platform`` for entries without a tenant. Appends lock
the chain's ``AuditChainHead`` row (``SELECT … FOR UPDATE``), number the entry ``head + 1`` and link
it to the head's hash, so concurrent appends queue instead of forking; the unique constraint on
``(chain, sequence)`` is the backstop (an append that loses a race retries). ``current_hash`` is
SHA-256 over the canonical JSON (sorted keys, no whitespace, UTF-8) of every stored field except
``id`` and ``current_hash`` itself — ``previous_hash`` included.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import PLATFORM_CHAIN, AuditChainHead, AuditLog, Tenant, User

logger = logging.getLogger("gpubroker.audit")

GENESIS_HASH = "0" * 64
_APPEND_ATTEMPTS = 8


def chain_for(tenant_id: uuid.UUID | str | None) -> str:
    return str(tenant_id) if tenant_id else PLATFORM_CHAIN


def canonical_payload(entry: AuditLog) -> dict[str, Any]:
    created = entry.created_at.astimezone(UTC).isoformat(timespec="microseconds")
    return {
        "chain": entry.chain,
        "sequence": entry.sequence,
        "tenant_id": str(entry.tenant_id) if entry.tenant_id else None,
        "user_id": str(entry.user_id) if entry.user_id else None,
        "action": entry.action,
        "resource_type": entry.resource_type,
        "resource_id": entry.resource_id,
        "details": entry.details,
        "ip_address": entry.ip_address,
        "created_at": created,
        "previous_hash": entry.previous_hash,
    }


def compute_hash(entry: AuditLog) -> str:
    encoded = json.dumps(
        canonical_payload(entry),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    ).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def _normalised_ip(ip: str | None) -> str | None:
    if not ip:
        return None
    try:
        return ipaddress.ip_address(ip).compressed
    except ValueError:
        return None


def _lock_head(chain: str) -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(chain=chain).first()
    if head is not None:
        return head
    try:
        with transaction.atomic():
            AuditChainHead.objects.create(chain=chain, sequence=0, head_hash=GENESIS_HASH)
    except IntegrityError:
        pass  # another append created it first
    return AuditChainHead.objects.select_for_update().get(chain=chain)


def record(
    *,
    action: str,
    resource_type: str,
    resource_id: str | uuid.UUID | None = None,
    tenant: Tenant | None = None,
    user: User | None = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditLog:
    """Append one entry to its tenant's chain (joins the caller's transaction if there is one)."""
    tenant_id = tenant.pk if tenant is not None else None
    # Stored exactly as it will read back, so the hash recomputes identically on every database.
    clean_details = json.loads(json.dumps(details or {}, sort_keys=True, allow_nan=False))
    chain = chain_for(tenant_id)
    for attempt in range(_APPEND_ATTEMPTS):
        try:
            with transaction.atomic():
                head = _lock_head(chain)
                entry = AuditLog(
                    tenant_id=tenant_id,
                    chain=chain,
                    sequence=head.sequence + 1,
                    user_id=user.pk if user is not None else None,
                    action=action,
                    resource_type=resource_type,
                    resource_id=str(resource_id) if resource_id is not None else None,
                    details=clean_details,
                    ip_address=_normalised_ip(ip),
                    previous_hash=head.head_hash,
                    created_at=timezone.now(),
                )
                entry.current_hash = compute_hash(entry)
                entry.save(force_insert=True)
                head.sequence = entry.sequence
                head.head_hash = entry.current_hash
                head.save(update_fields=["sequence", "head_hash", "updated_at"])
                return entry
        except IntegrityError:
            if attempt == _APPEND_ATTEMPTS - 1:
                raise
            logger.warning("audit append lost a race; retrying", extra={"chain": chain})
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class ChainBreak:
    chain: str
    sequence: int
    entry_id: str | None
    reason: str

    def __str__(self) -> str:
        where = f"entry #{self.sequence}" + (f" ({self.entry_id})" if self.entry_id else "")
        return f"chain {self.chain}: {where}: {self.reason}"


def chains() -> list[str]:
    names = set(AuditLog.objects.values_list("chain", flat=True).distinct())
    names |= set(AuditChainHead.objects.values_list("chain", flat=True))
    return sorted(names)


def verify_chain(chain: str) -> ChainBreak | None:
    """The first broken link of ``chain`` (altered, removed, reordered or moved entries)."""
    expected_previous = GENESIS_HASH
    expected_sequence = 1
    entries = AuditLog.objects.filter(chain=chain).order_by("sequence")
    for entry in entries.iterator(chunk_size=2000):
        entry_id = str(entry.pk)
        if entry.sequence != expected_sequence:
            return ChainBreak(
                chain, expected_sequence, None, f"entry missing (next stored is #{entry.sequence})"
            )
        if entry.chain != chain_for(entry.tenant_id):
            return ChainBreak(chain, entry.sequence, entry_id, "entry belongs to another chain")
        if entry.previous_hash != expected_previous:
            return ChainBreak(
                chain, entry.sequence, entry_id, "previous_hash does not match the entry before"
            )
        if compute_hash(entry) != entry.current_hash:
            return ChainBreak(chain, entry.sequence, entry_id, "content does not match its hash")
        expected_previous = entry.current_hash
        expected_sequence += 1
    head = AuditChainHead.objects.filter(chain=chain).first()
    last = expected_sequence - 1
    if head is not None and (head.sequence != last or head.head_hash != expected_previous):
        return ChainBreak(
            chain,
            last + 1,
            None,
            f"chain head is at #{head.sequence}: entries after #{last} removed",
        )
    return None
