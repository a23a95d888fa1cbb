"""Sign-in throttling without a lockout weapon (issue 11: ten wrong passwords for an address
locked its owner out for 15 minutes, even from another IP with the right password)."""

from __future__ import annotations

import json

import pytest

from apps.auth_app import ratelimit
from tests.auth_fixtures import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def login(client, email, password, ip="203.0.113.66"):
    return client.post(
        "/api/v2/auth/login",
        data=json.dumps({"email": email, "password": password}),
        content_type="application/json",
        REMOTE_ADDR=ip,
    )


@pytest.fixture
def delays(monkeypatch):
    """The delays the server would hold attempts for (recorded, not waited)."""
    seen: list[float] = []
    monkeypatch.setattr(ratelimit, "sleep", seen.append)
    return seen


def test_ten_wrong_passwords_do_not_lock_the_owner_out(client, user, delays):
    for _ in range(10):
        assert login(client, user.email, "wrong password!").status_code == 401
    # The attacker's source is now refused for this account ...
    assert login(client, user.email, "wrong password!").status_code == 429
    assert login(client, user.email, DEFAULT_PASSWORD).status_code == 429
    # ... the owner, from a clean source, is not.
    owner = login(client, user.email, DEFAULT_PASSWORD, ip="198.51.100.7")
    assert owner.status_code == 200 and owner.json()["access_token"]


def test_a_distributed_guesser_is_slowed_progressively_never_refused(
    client, user, settings, delays
):
    settings.RATE_LIMIT_LOGIN_PER_ACCOUNT = "4/15minutes"
    settings.RATE_LIMIT_LOGIN_DELAY_BASE = 0.5
    settings.RATE_LIMIT_LOGIN_DELAY_MAX = 2.0
    for n in range(8):  # one failure from each of eight sources
        assert login(client, user.email, "wrong password!", ip=f"192.0.2.{n}").status_code == 401
    # Attempts 5-8 came after 4, 5, 6, 7 failures: no delay until the threshold is passed.
    assert delays == [0.5, 1.0, 2.0]
    owner = login(client, user.email, DEFAULT_PASSWORD, ip="198.51.100.7")
    assert owner.status_code == 200  # slowed (capped), not refused
    assert delays[-1] == 2.0
    # The owner's success clears the account's slowdown.
    delays.clear()
    assert login(client, user.email, DEFAULT_PASSWORD, ip="198.51.100.7").status_code == 200
    assert delays == []


def test_one_source_spraying_many_accounts_is_refused(client, user, settings, delays):
    settings.RATE_LIMIT_LOGIN_PER_IP = "5/15minutes"
    for n in range(5):
        login(client, f"spray{n}@example.com", "x", ip="192.0.2.200")
    assert login(client, user.email, DEFAULT_PASSWORD, ip="192.0.2.200").status_code == 429
    assert login(client, user.email, DEFAULT_PASSWORD, ip="192.0.2.201").status_code == 200
