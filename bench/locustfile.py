"""Locust users for bench/load_fault.py (run headless by it; not on its own).

* ``ApiUser``: GraphQL queries (offer search), REST calls (the offer listing, a benchmark), two
  GraphQL mutations that write (``recordInteraction``: every success must be a stored row;
  ``createInvitation``: every success a stored invitation and an entry in the tenant's
  hash-chained audit log), all with the bench user's bearer token. The mix (task weights, per
  19 requests): 8 GraphQL offer searches, 6 REST offer listings, 2 REST benchmarks, 2
  ``recordInteraction``, 1 ``createInvitation``.
  ``LOAD_USER_RATE`` > 0 paces each user at that many requests per second; 0 means no wait (the
  saturation run). ``LOAD_ARRIVALS`` chooses how a paced user's requests are spread:
  ``poisson`` (the default: each user fires on a schedule of its own with exponential gaps, so
  the users together offer independent, Poisson arrivals at the stated rate, as many
  independent clients do) or ``constant`` (Locust's ``constant_throughput``: a fixed period per
  user, which lets the users fall into step — after any common delay every late user fires at
  once and they keep firing together; measured: up to 16 requests within 25 ms, a
  variance-to-mean ratio of arrivals per 25 ms of 8.4 instead of 1).
  Every request gives up after ``REQUEST_TIMEOUT`` seconds (a failure), so a
  stalled server shows as failures, not as users stuck for the rest of the run.
* ``Subscriber``: a live GraphQL subscriber over ``graphql-transport-ws`` (token in
  ``connection_init``); each price update is reported as a ``WS`` request whose response time
  is the delivery latency (receive time − ``publishedAt``). A dropped connection is a failure,
  and the subscriber reconnects. A notice on the subscription (``LIVE_UPDATES_DEGRADED`` while
  the server cannot reach Redis, ``LIVE_UPDATES_RESUMED`` after) is a ``ws:notice`` event.

Every request is also appended to ``LOAD_EVENTS`` (one JSON line: time, name, status, error
code, ms), so the driver can see what happened inside each fault window.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from datetime import datetime
from typing import Any

from locust import HttpUser, User, constant, constant_throughput, events, task
from websockets.sync.client import connect
from websockets.typing import Subprotocol

TOKEN = os.environ["LOAD_TOKEN"]
OFFER_IDS = os.environ.get("LOAD_OFFER_IDS", "").split(",")
RATE = float(os.environ.get("LOAD_USER_RATE", "0"))
ARRIVALS = os.environ.get("LOAD_ARRIVALS", "poisson")
#: A user that fell behind its schedule (slow answers) catches up at most this much at once.
MAX_BACKLOG_SECONDS = 1.0


def poisson_throughput(rate: float) -> Any:
    """Locust wait time: fire on a schedule whose gaps are exponential with mean 1/rate, kept
    whatever the answers took (the next request's time does not depend on the last one's end), so
    users do not fall into step and the offered rate stays ``rate`` per user."""

    def wait_time(user: Any) -> float:
        now = time.monotonic()
        scheduled = getattr(user, "_next_request_at", now)
        scheduled = max(scheduled + random.expovariate(rate), now - MAX_BACKLOG_SECONDS)
        user._next_request_at = scheduled
        return max(0.0, scheduled - now)

    return wait_time


def _pacing() -> Any:
    if RATE <= 0:
        return constant(0)
    if ARRIVALS == "constant":
        return constant_throughput(RATE)
    if ARRIVALS != "poisson":
        raise SystemExit(f"LOAD_ARRIVALS must be poisson or constant, not {ARRIVALS!r}")
    return poisson_throughput(RATE)


SUBSCRIBERS = int(os.environ.get("LOAD_SUBSCRIBERS", "0"))
_events = open(os.environ["LOAD_EVENTS"], "a", buffering=1)  # noqa: SIM115 - the whole run

OFFERS_QUERY = """query Offers($gpu: [String!]) {
  offers(first: 10, filter: {gpuModel: $gpu}, orderBy: PRICE_PER_GPU_HOUR) {
    totalCount edges { node { id gpuType gpuCount pricePerHour region provider { name } } }
  }
}"""
RECORD = """mutation Record($offer: ID!) {
  recordInteraction(input: {offerId: $offer, kind: VIEW}) { interaction { id } errors { code } }
}"""
INVITE = """mutation Invite($email: String!) {
  createInvitation(email: $email) { invitation { id } errors { code } }
}"""
SUBSCRIPTION = "subscription Live { priceUpdates { offerId newPricePerHour publishedAt } }"
GPUS = ["H100", "A100", "RTX 4090", "L40S", "RTX A6000"]
REQUEST_TIMEOUT = 10.0
#: What one successful write mutation was acknowledged with, for the driver's data check.
ACKED = os.environ.get("LOAD_ACKED")


@events.request.add_listener
def _log(request_type: str, name: str, response_time: float, exception: Any, **kw: Any) -> None:
    response = kw.get("response")
    status = getattr(response, "status_code", None)
    code = (kw.get("context") or {}).get("code")
    _events.write(
        json.dumps(
            {
                "t": time.time(),
                "name": name,
                "status": status,
                "ok": exception is None,
                "code": code,
                "ms": round(response_time, 2),
            }
        )
        + "\n"
    )


_acked_file = open(ACKED, "a", buffering=1) if ACKED else None  # noqa: SIM115 - the whole run


def _acked(name: str, ident: str) -> None:
    if _acked_file is not None:
        _acked_file.write(json.dumps({"name": name, "id": ident}) + "\n")


def _error_code(body: Any) -> str | None:
    if isinstance(body, dict):
        if "error" in body and isinstance(body["error"], dict):
            return body["error"].get("code")
        errors = body.get("errors")
        if errors:
            return (errors[0].get("extensions") or {}).get("code", "GRAPHQL_ERROR")
    return None


class ApiUser(HttpUser):
    wait_time = _pacing()

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {TOKEN}"

    def _check(self, response: Any) -> None:
        try:
            body = response.json()
        except ValueError:
            body = None
        code = _error_code(body)
        response.request_meta["context"] = {"code": code}
        if response.status_code != 200 or code:
            response.failure(f"{response.status_code} {code or 'no JSON envelope'}")
        elif isinstance(body, dict) and "data" in body:
            for name in ("recordInteraction", "createInvitation"):
                payload = (body["data"] or {}).get(name)
                if payload is None:
                    continue
                if payload["errors"]:
                    response.failure(f"mutation errors {payload['errors']}")
                    return
                kind = "interaction" if name == "recordInteraction" else "invitation"
                if payload[kind] is None:
                    response.failure(f"{name} acknowledged nothing")
                    return
                _acked(name, payload[kind]["id"])

    def _graphql(self, name: str, query: str, variables: dict[str, Any], operation: str) -> None:
        payload = {"query": query, "variables": variables, "operationName": operation}
        with self.client.post(
            "/graphql/",
            json=payload,
            name=f"graphql:{name}",
            catch_response=True,
            timeout=REQUEST_TIMEOUT,
        ) as response:
            self._check(response)

    def _rest(self, name: str, path: str) -> None:
        with self.client.get(
            path, name=f"rest:{name}", catch_response=True, timeout=REQUEST_TIMEOUT
        ) as response:
            self._check(response)

    @task(8)
    def graphql_offers(self) -> None:
        self._graphql("Offers", OFFERS_QUERY, {"gpu": [random.choice(GPUS)]}, "Offers")

    @task(6)
    def rest_offers(self) -> None:
        self._rest("providers", f"/api/v2/providers?gpu_type={random.choice(GPUS)}&per_page=20")

    @task(2)
    def rest_benchmark(self) -> None:
        self._rest("benchmark", "/api/v2/math/benchmarks/H100_SXM5")

    @task(2)
    def graphql_mutation(self) -> None:
        self._graphql("recordInteraction", RECORD, {"offer": random.choice(OFFER_IDS)}, "Record")

    @task(1)
    def graphql_invitation(self) -> None:
        email = f"invitee-{uuid.uuid4().hex}@bench.example"
        self._graphql("createInvitation", INVITE, {"email": email}, "Invite")


class Subscriber(User):
    fixed_count = SUBSCRIBERS
    weight = 0 if SUBSCRIBERS == 0 else 1
    wait_time = constant(1)

    def _fire(
        self,
        started: float,
        exception: Exception | None,
        latency_ms: float = 0.0,
        code: str | None = None,
    ) -> None:
        events.request.fire(
            request_type="WS",
            name="ws:priceUpdates",
            response_time=latency_ms,
            response_length=0,
            exception=exception,
            context={"code": code},
        )

    def _notice(self, code: str | None) -> None:
        events.request.fire(
            request_type="WS",
            name="ws:notice",
            response_time=0.0,
            response_length=0,
            exception=None,
            context={"code": code},
        )

    @task
    def listen(self) -> None:
        url = str(self.host).replace("http", "ws", 1) + "/graphql/"
        started = time.time()
        try:
            with connect(
                url, subprotocols=[Subprotocol("graphql-transport-ws")], open_timeout=10
            ) as ws:
                ws.send(
                    json.dumps(
                        {"type": "connection_init", "payload": {"Authorization": f"Bearer {TOKEN}"}}
                    )
                )
                ack = json.loads(ws.recv(timeout=10))
                if ack.get("type") != "connection_ack":
                    raise ConnectionError(f"no ack: {ack}")
                ws.send(
                    json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
                )
                while (
                    self.environment.runner is None or self.environment.runner.state != "stopping"
                ):
                    message = json.loads(ws.recv(timeout=30))
                    notices = message.get("payload", {}).get("errors") or []
                    if message.get("type") == "next" and notices:
                        # LIVE_UPDATES_DEGRADED / _RESUMED: the server telling its subscribers
                        # that price events cannot reach them (Redis down) / flow again
                        code = (notices[0].get("extensions") or {}).get("code")
                        self._notice(code)
                    elif message.get("type") == "next":
                        update = message["payload"]["data"]["priceUpdates"]
                        published = datetime.fromisoformat(update["publishedAt"]).timestamp()
                        self._fire(started, None, max(0.0, (time.time() - published) * 1000))
                    elif message.get("type") in ("error", "complete"):
                        raise ConnectionError(f"subscription ended: {message}")
        except Exception as exc:  # a drop: reported, then the task runs again (reconnect)
            self._fire(started, exc, code=type(exc).__name__)
