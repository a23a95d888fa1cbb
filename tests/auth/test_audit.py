"""The hash-chained audit log: appends, verification, tampering, pagination, concurrency."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.auth_app import audit, services
from apps.auth_app.models import PLATFORM_CHAIN, AuditChainHead, AuditLog, Tenant
from tests.auth.helpers import post
from tests.auth_fixtures import bearer
from tests.conftest import services_required
from tests.graphql_client import run_operation


def _append(n: int, tenant=None, user=None) -> list[AuditLog]:
    return [
        audit.record(
            action="test.event",
            resource_type="thing",
            resource_id=str(i),
            tenant=tenant,
            user=user,
            details={"i": i, "note": "ünïcode ok"},
            ip="2001:0db8:0000:0000:0000:0000:0000:0001",
        )
        for i in range(n)
    ]


def _verify(*args: str) -> tuple[bool, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit_chain", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return False, err.getvalue() + str(exc)
    return True, out.getvalue()


@pytest.mark.django_db
def test_entries_chain_per_tenant(user, other_tenant_user):
    acme = _append(3, tenant=user.tenant, user=user)
    globex = _append(2, tenant=other_tenant_user.tenant)
    platform = _append(1)
    assert [e.sequence for e in acme] == [1, 2, 3]
    assert [e.sequence for e in globex] == [1, 2]
    assert platform[0].chain == PLATFORM_CHAIN
    assert acme[0].previous_hash == audit.GENESIS_HASH
    assert acme[1].previous_hash == acme[0].current_hash
    assert acme[0].ip_address == "2001:db8::1"
    stored = AuditLog.objects.get(pk=acme[2].pk)
    assert audit.compute_hash(stored) == stored.current_hash  # identical after a DB round trip
    ok, output = _verify()
    assert ok, output
    assert "3 audit chain(s) verified" in output


@pytest.mark.django_db
@pytest.mark.parametrize("tamper", ["details", "action", "created_at", "tenant"])
def test_tampering_with_content_is_caught(user, other_tenant_user, tamper):
    entries = _append(4, tenant=user.tenant, user=user)
    victim = AuditLog.objects.filter(pk=entries[1].pk)
    if tamper == "details":
        victim.update(details={"i": 99})
    elif tamper == "action":
        victim.update(action="test.innocent")
    elif tamper == "created_at":
        victim.update(created_at=entries[0].created_at)
    else:
        victim.update(tenant=other_tenant_user.tenant)
    ok, output = _verify("--tenant", str(user.tenant_id))
    assert not ok
    assert f"chain {user.tenant_id}: entry #2" in output


@pytest.mark.django_db
def test_rewriting_an_entry_and_its_hash_breaks_the_next_link(user):
    entries = _append(3, tenant=user.tenant)
    forged = AuditLog.objects.get(pk=entries[0].pk)
    forged.details = {"i": 1000}
    forged.current_hash = audit.compute_hash(forged)
    forged.save()
    ok, output = _verify("--tenant", "Acme")
    assert not ok
    assert "entry #2" in output and "previous_hash" in output


@pytest.mark.django_db
def test_deleting_entries_is_caught(user):
    entries = _append(4, tenant=user.tenant)
    AuditLog.objects.filter(pk=entries[1].pk).delete()
    ok, output = _verify()
    assert not ok and "#2" in output and "missing" in output


@pytest.mark.django_db
def test_truncating_the_tail_is_caught(user):
    entries = _append(3, tenant=user.tenant)
    AuditLog.objects.filter(pk=entries[-1].pk).delete()
    ok, output = _verify("--tenant", str(user.tenant_id))
    assert not ok and "entries after #2 removed" in output


@pytest.mark.django_db
def test_verify_unknown_tenant_is_an_error(db):
    ok, output = _verify("--tenant", "nobody")
    assert not ok and "no tenant" in output


@pytest.mark.django_db
def test_security_actions_are_audited(client, tenant_admin):
    headers = bearer(tenant_admin)
    post(client, "/api/v2/auth/login", {"email": tenant_admin.email, "password": "wrong password"})
    post(client, "/api/v2/auth/login", {"email": "nobody@nowhere.example", "password": "x"})
    pair = services.login(email=tenant_admin.email, password="correct horse battery staple 42")
    assert isinstance(pair, dict)
    post(client, "/api/v2/auth/refresh", {"refresh_token": pair["refresh_token"]})
    post(client, "/api/v2/auth/invitations", {"email": "n@acme.example"}, **headers)
    post(client, "/api/v2/auth/logout", {}, **headers)
    actions = list(
        AuditLog.objects.filter(tenant=tenant_admin.tenant)
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions == [
        "auth.login_failed",
        "auth.login",
        "auth.token_refreshed",
        "invitation.created",
        "auth.logout",
    ]
    unknown = AuditLog.objects.get(chain=PLATFORM_CHAIN)
    assert unknown.action == "auth.login_failed"
    assert unknown.details == {"email": "nobody@nowhere.example"}
    assert unknown.ip_address == "127.0.0.1"


@pytest.mark.django_db
def test_audit_log_pages_on_both_facades(client, tenant_admin):
    _append(7, tenant=tenant_admin.tenant)
    headers = bearer(tenant_admin)
    pages, cursor = [], None
    while True:
        query = "?limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(f"/api/v2/auth/audit-log{query}", **headers).json()
        pages.append([e["sequence"] for e in body["items"]])
        cursor = body["next_cursor"]
        if not body["has_next_page"]:
            break
    assert pages == [[7, 6, 5], [4, 3, 2], [1]]
    token = services.issue_tokens(tenant_admin)["access_token"]
    first = run_operation(client, "AuditLog", {"first": 3}, token=token)["data"]["auditLog"]
    # issuing the token above is not audited; the chain is unchanged
    assert [e["sequence"] for e in first["entries"]] == [7, 6, 5]
    second = run_operation(
        client, "AuditLog", {"first": 3, "after": first["nextCursor"]}, token=token
    )
    assert [e["sequence"] for e in second["data"]["auditLog"]["entries"]] == [4, 3, 2]
    assert first["entries"][0]["details"] == {"i": 6, "note": "ünïcode ok"}
    bad = client.get("/api/v2/auth/audit-log?limit=0", **headers)
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "limit"
    bad_cursor = run_operation(client, "AuditLog", {"after": "x"}, token=token)
    assert bad_cursor["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"


# --- concurrency ----------------------------------------------------------------------------


def _hammer(tenant: Tenant, threads: int, per_thread: int, *, at_once: bool) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(threads if at_once else 1)

    def worker(index: int) -> None:
        from django.db import connections

        try:
            start.wait(timeout=30)
            for i in range(per_thread):
                audit.record(
                    action="test.concurrent",
                    resource_type="thread",
                    resource_id=f"{index}-{i}",
                    tenant=tenant,
                )
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
        if not at_once:
            thread.join(timeout=120)
    for thread in pool:
        thread.join(timeout=120)
    return errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_never_fork_the_chain():
    """On PostgreSQL: 8 threads, each with its own connection, append to one chain at once,
    starting when its head row does not exist yet. The test database of SQLite (a shared-cache
    in-memory database) refuses concurrent writers outright, so there the threads append one after
    another: each connection must continue the chain the previous one left."""
    if services_required():
        assert connection.vendor == "postgresql", "REQUIRE_SERVICES=1 must run this on PostgreSQL"
    at_once = connection.vendor == "postgresql"
    threads, per_thread = (8, 15) if at_once else (3, 10)
    tenant = Tenant.objects.create(name="Concurrent Co")
    errors = _hammer(tenant, threads, per_thread, at_once=at_once)
    assert errors == []
    chain = audit.chain_for(tenant.pk)
    sequences = list(
        AuditLog.objects.filter(chain=chain).order_by("sequence").values_list("sequence", flat=True)
    )
    total = threads * per_thread
    assert sequences == list(range(1, total + 1))
    links = list(
        AuditLog.objects.filter(chain=chain)
        .order_by("sequence")
        .values_list("previous_hash", "current_hash")
    )
    assert all(links[i][0] == links[i - 1][1] for i in range(1, total))
    assert len({current for _, current in links}) == total
    assert audit.verify_chain(chain) is None
    assert AuditChainHead.objects.get(chain=chain).sequence == total
