"""Rate limits: per tenant (plan), per IP for anonymous callers, sign-in brute force — shared
storage (Redis under REQUIRE_SERVICES), 429 + Retry-After on REST, RATE_LIMITED on GraphQL."""

from __future__ import annotations

import pytest
from django.test import override_settings

from apps.auth_app import ratelimit
from tests.auth.helpers import post
from tests.auth_fixtures import DEFAULT_PASSWORD, bearer
from tests.conftest import services_required
from tests.graphql_client import execute

REQUEST_LIMITS = override_settings(RATE_LIMIT_REQUESTS_ENABLED=True, RATE_LIMIT_ANONYMOUS_RPS=2)


def _until_limited(send, bound: int = 40):
    """Send until the first 429/RATE_LIMITED; returns (successes before it, the limited reply)."""
    for sent in range(bound):
        response = send()
        if response.status_code == 429:
            return sent, response
    raise AssertionError(f"no rate limit within {bound} requests")


def test_storage_is_shared_redis_when_required():
    storage = ratelimit._storage()
    if services_required():
        assert type(storage).__name__ == "RedisStorage"
        assert storage.check() is True
    else:
        assert type(storage).__name__ in {"MemoryStorage", "RedisStorage"}


@pytest.mark.django_db
@REQUEST_LIMITS
def test_anonymous_rest_callers_are_limited_per_ip(client):
    ok, limited = _until_limited(lambda: client.get("/api/v2/math/benchmarks"))
    assert 2 <= ok <= 4  # sliding window: 2 per second, at most one previous window's carry-over
    assert limited.json()["error"]["code"] == "RATE_LIMITED"
    assert int(limited["Retry-After"]) >= 1
    # Another address has its own bucket.
    assert client.get("/api/v2/math/benchmarks", REMOTE_ADDR="10.9.8.7").status_code == 200


@pytest.mark.django_db
@REQUEST_LIMITS
def test_health_is_never_limited(client):
    _until_limited(lambda: client.get("/api/v2/math/benchmarks"))
    assert all(client.get("/health").status_code == 200 for _ in range(5))


@pytest.mark.django_db
@REQUEST_LIMITS
def test_tenants_are_limited_at_their_plan_rate(client, user, other_tenant_user):
    tenant = user.tenant
    tenant.rate_limit_rps = 3
    tenant.save()
    # The colleague (and both tokens) exist before the bucket is emptied: hashing a password
    # takes long enough on a loaded machine for the one-second window to refill.
    from apps.auth_app.models import Role
    from tests.auth_fixtures import bearer as again

    colleague = user.__class__.objects.create_user(
        email="colleague@acme.example",
        password=DEFAULT_PASSWORD,
        full_name="C",
        tenant=tenant,
        role=Role.MEMBER,
    )
    colleague_headers, other_headers = again(colleague), bearer(other_tenant_user)
    headers = bearer(user)
    ok, limited = _until_limited(lambda: client.get("/api/v2/auth/me", **headers))
    assert 3 <= ok <= 6
    assert limited.json()["error"]["code"] == "RATE_LIMITED"
    # Colleagues share the tenant's bucket; other tenants do not.
    assert client.get("/api/v2/auth/me", **colleague_headers).status_code == 429
    assert client.get("/api/v2/auth/me", **other_headers).status_code == 200


@pytest.mark.django_db
@REQUEST_LIMITS
def test_graphql_answers_rate_limited_with_retry_after(client, user):
    user.tenant.rate_limit_rps = 2
    user.tenant.save()
    token = bearer(user)["HTTP_AUTHORIZATION"][7:]
    for _ in range(40):
        result = execute(client, "{ me { email } }", token=token)
        if result.get("errors"):
            break
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] >= 1
    assert result["data"] is None


@pytest.mark.django_db
def test_login_brute_force_is_limited_per_account_and_source(client, user, settings):
    settings.RATE_LIMIT_LOGIN_PER_ACCOUNT_SOURCE = "3/15minutes"
    for _ in range(3):
        wrong = post(client, "/api/v2/auth/login", {"email": user.email, "password": "guess guess"})
        assert wrong.status_code == 401
    # Refused for this account from this source, even with the right password ...
    right = post(
        client, "/api/v2/auth/login", {"email": user.email.upper(), "password": DEFAULT_PASSWORD}
    )
    assert right.status_code == 429
    assert right.json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(right["Retry-After"]) <= 15 * 60
    # ... and on GraphQL, as a request-level RATE_LIMITED error ...
    from tests.graphql_client import run_operation

    gql = run_operation(client, "Login", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert gql["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert gql["errors"][0]["extensions"]["retryAfter"] >= 1
    # ... but the owner signs in from a source that has not been failing (issue 11).
    elsewhere = post(
        client,
        "/api/v2/auth/login",
        {"email": user.email, "password": DEFAULT_PASSWORD},
        REMOTE_ADDR="10.1.1.1",
    )
    assert elsewhere.status_code == 200


@pytest.mark.django_db
def test_login_brute_force_is_limited_per_ip_across_accounts(client, user, settings):
    settings.RATE_LIMIT_LOGIN_PER_IP = "4/15minutes"
    for n in range(4):
        post(client, "/api/v2/auth/login", {"email": f"spray{n}@example.com", "password": "x"})
    blocked = post(
        client, "/api/v2/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}
    )
    assert blocked.status_code == 429
    elsewhere = post(
        client,
        "/api/v2/auth/login",
        {"email": user.email, "password": DEFAULT_PASSWORD},
        REMOTE_ADDR="10.2.2.2",
    )
    assert elsewhere.status_code == 200


@pytest.mark.django_db
def test_successful_login_forgets_the_accounts_failures(client, user, settings):
    settings.RATE_LIMIT_LOGIN_PER_ACCOUNT = "3/15minutes"
    for _ in range(2):
        post(client, "/api/v2/auth/login", {"email": user.email, "password": "guess guess"})
    assert (
        post(
            client, "/api/v2/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}
        ).status_code
        == 200
    )
    for _ in range(2):
        post(client, "/api/v2/auth/login", {"email": user.email, "password": "guess guess"})
    assert (
        post(
            client, "/api/v2/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}
        ).status_code
        == 200
    )


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_client_ip_trusts_only_the_configured_proxies(rf):
    from apps.auth_app.middleware import client_ip

    request = rf.get(
        "/api/v2/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="10.0.0.1"
    )
    assert client_ip(request) == "203.0.113.9"
    with override_settings(TRUSTED_PROXY_COUNT=0):
        assert client_ip(request) == "10.0.0.1"
