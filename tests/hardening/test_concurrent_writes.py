"""Concurrent writers against a real server (issue 11: with 12 writers on the embedded default,
16 of 60 requests answered 500 "database is locked"). Real threads, real daphne, the test
database; zero 5xx. Runs on PostgreSQL too (which keeps its behaviour)."""

from __future__ import annotations

import threading
from collections import Counter

import httpx
import pytest
from django.db import connection

from tests.auth_fixtures import DEFAULT_PASSWORD
from tests.catalogue_factories import make_offer
from tests.realtime.live_servers import DaphneServer

WRITERS = 12
REQUESTS_PER_WRITER = 50


@pytest.fixture
def server(transactional_db):
    live = DaphneServer(DEMO_TICKER=0).start()
    yield live
    live.stop()


def test_sqlite_connections_use_wal_and_immediate_transactions(db):
    options = connection.settings_dict["OPTIONS"]
    if connection.vendor != "sqlite":  # PostgreSQL keeps its behaviour: none of this applies
        assert "transaction_mode" not in options and "init_command" not in options
        return
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 5
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"


def _writer(base: str, index: int, offer_id: str, statuses: Counter, lock: threading.Lock) -> None:
    email = f"writer{index}@concurrency.example"
    with httpx.Client(base_url=base, timeout=60) as http:

        def record(response: httpx.Response) -> httpx.Response:
            with lock:
                statuses[response.status_code] += 1
            return response

        record(
            http.post(
                "/api/v2/auth/register",
                json={"email": email, "password": DEFAULT_PASSWORD, "full_name": f"W{index}"},
            )
        )
        login = record(
            http.post("/api/v2/auth/login", json={"email": email, "password": DEFAULT_PASSWORD})
        )
        token = login.json().get("access_token", "")
        headers = {"Authorization": f"Bearer {token}"}
        for n in range(REQUESTS_PER_WRITER - 2):
            kind = n % 4
            if kind == 0:  # a stored recommendation run
                record(http.post("/api/v2/math/topsis-offers", json={"limit": 5}))
            elif kind == 3 and n % 12 == 3:  # a sign-in: session row and audit entry
                record(
                    http.post(
                        "/api/v2/auth/login", json={"email": email, "password": DEFAULT_PASSWORD}
                    )
                )
            else:  # an interaction row
                record(
                    http.post(
                        "/api/v2/math/interactions",
                        json={"offer_id": offer_id, "kind": "view"},
                        headers=headers,
                    )
                )


def test_twelve_concurrent_writers_never_get_a_server_error(server):
    offer = make_offer()
    base = f"http://127.0.0.1:{server.port}"
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    threads = [
        threading.Thread(target=_writer, args=(base, i, str(offer.id), statuses, lock))
        for i in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    errors = {status: count for status, count in statuses.items() if status >= 500}
    problems = [line for line in server.log_text().splitlines() if '" 20' not in line]
    assert errors == {}, (errors, "\n".join(problems[-60:]))
    assert sum(statuses.values()) == WRITERS * REQUESTS_PER_WRITER, statuses
    assert set(statuses) <= {200, 201}, statuses
