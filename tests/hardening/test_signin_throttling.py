"""Sign-in throttling without a lockout weapon (issue 11: ten wrong passwords for an address
locked its owner out for 15 minutes, even from another IP with the right password), and without
holding a worker: a slowed source is answered 429 with ``Retry-After`` at once, never slept."""

from __future__ import annotations

import json
import time

import pytest

from apps.auth_app import ratelimit, services
from tests.auth_fixtures import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

WRONG = "wrong password!"


def login(client, email, password, ip="203.0.113.66"):
    return client.post(
        "/api/v2/auth/login",
        data=json.dumps({"email": email, "password": password}),
        content_type="application/json",
        REMOTE_ADDR=ip,
    )


@pytest.fixture
def checks(monkeypatch):
    """How many passwords the server verified (each is one argon2 hash)."""
    seen: list[str] = []
    original = services._password_ok

    def counting(user, password):
        seen.append(password)
        return original(user, password)

    monkeypatch.setattr(services, "_password_ok", counting)
    return seen


def test_ten_wrong_passwords_do_not_lock_the_owner_out(client, user):
    for _ in range(10):
        assert login(client, user.email, WRONG).status_code == 401
    # The attacker's source is now refused for this account ...
    assert login(client, user.email, WRONG).status_code == 429
    assert login(client, user.email, DEFAULT_PASSWORD).status_code == 429
    # ... the owner, from a clean source, is not.
    owner = login(client, user.email, DEFAULT_PASSWORD, ip="198.51.100.7")
    assert owner.status_code == 200 and owner.json()["access_token"]


def test_past_the_account_threshold_each_failing_source_waits_progressively(
    client, user, settings, checks
):
    settings.RATE_LIMIT_LOGIN_PER_ACCOUNT = "4/15minutes"
    settings.RATE_LIMIT_LOGIN_DELAY_BASE = 2
    settings.RATE_LIMIT_LOGIN_DELAY_MAX = 8
    waits: list[int | None] = []
    for n in range(8):  # each of eight sources fails, then tries again at once
        assert login(client, user.email, WRONG, ip=f"192.0.2.{n}").status_code == 401
        retry = login(client, user.email, WRONG, ip=f"192.0.2.{n}")
        waits.append(int(retry["Retry-After"]) if retry.status_code == 429 else None)
    # Sources 0-1 bring the account to its 4 failures (their retries are failures, not waits);
    # from the 5th failure on, the failing source must wait 2, 4, 8, 8 ... seconds (capped).
    assert waits[:2] == [None, None]
    expected = [2, 4, 8, 8, 8, 8]
    assert all(w is not None and e - 1 <= w <= e for w, e in zip(waits[2:], expected, strict=True))
    # A refused attempt verifies no password (no argon2 hash, no worker held).
    assert len(checks) == 2 * 2 + 6


def test_a_source_that_has_not_been_failing_is_never_refused_or_slowed(client, user, settings):
    settings.RATE_LIMIT_LOGIN_PER_ACCOUNT = "2/15minutes"
    for n in range(20):  # a distributed guesser, far past the account's threshold
        login(client, user.email, WRONG, ip=f"192.0.2.{n}")
    assert ratelimit._account_failures(ratelimit._account_key(user.email)) == 20
    owner = login(client, user.email, DEFAULT_PASSWORD, ip="198.51.100.7")
    assert owner.status_code == 200
    # The owner's success clears the account's slowdown: a source that failed once before the
    # threshold is counted from zero again.
    assert ratelimit._account_failures(ratelimit._account_key(user.email)) == 0


def test_after_its_wait_a_failing_source_signs_in_with_the_right_password(client, user, settings):
    settings.RATE_LIMIT_LOGIN_PER_ACCOUNT = "1/15minutes"
    settings.RATE_LIMIT_LOGIN_DELAY_BASE = 1
    settings.RATE_LIMIT_LOGIN_DELAY_MAX = 1
    assert login(client, user.email, WRONG, ip="192.0.2.9").status_code == 401
    assert login(client, user.email, WRONG).status_code == 401  # 2nd failure: wait 1 s
    refused = login(client, user.email, DEFAULT_PASSWORD)
    assert refused.status_code == 429 and refused["Retry-After"] == "1"
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    time.sleep(1.1)  # the wait is over (not locked out)
    assert login(client, user.email, DEFAULT_PASSWORD).status_code == 200


def test_graphql_sign_in_is_refused_with_retry_after_the_same_way(client, user, settings):
    settings.RATE_LIMIT_LOGIN_PER_ACCOUNT = "1/15minutes"
    mutation = (
        "mutation($e: String!, $p: String!) "
        "{ login(email: $e, password: $p) { tokens { accessToken } } }"
    )

    def gql(password, ip="203.0.113.66"):
        body = {"query": mutation, "variables": {"e": user.email, "p": password}}
        return client.post(
            "/graphql/", data=json.dumps(body), content_type="application/json", REMOTE_ADDR=ip
        ).json()

    login(client, user.email, WRONG, ip="192.0.2.9")
    gql(WRONG)
    refused = gql(DEFAULT_PASSWORD)
    error = refused["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED" and error["extensions"]["retryAfter"] >= 1
    assert gql(DEFAULT_PASSWORD, ip="198.51.100.7")["data"]["login"]["tokens"]["accessToken"]


def test_one_source_spraying_many_accounts_is_refused(client, user, settings):
    settings.RATE_LIMIT_LOGIN_PER_IP = "5/15minutes"
    for n in range(5):
        login(client, f"spray{n}@example.com", "x", ip="192.0.2.200")
    assert login(client, user.email, DEFAULT_PASSWORD, ip="192.0.2.200").status_code == 429
    assert login(client, user.email, DEFAULT_PASSWORD, ip="192.0.2.201").status_code == 200
