"""HTTP through the real ASGI application (the handler daphne serves), not Django's test client:
one thread hop per request, and every kind of view still answers."""

import gc
import json

import pytest
from asgiref.sync import iscoroutinefunction
from channels.testing import HttpCommunicator

from gpubroker.asgi import application as asgi_application
from gpubroker.asgi import django_asgi_app
from gpubroker.http_handler import SyncChainASGIHandler


def test_what_the_application_module_built_is_frozen_out_of_the_collector():
    # A full collection over everything Django and the schema built took 130-145 ms with the
    # interpreter held; frozen, it walks only what requests create.
    assert gc.get_freeze_count() > 100_000


def test_the_middleware_chain_is_built_in_sync_mode():
    assert isinstance(django_asgi_app, SyncChainASGIHandler)
    assert not iscoroutinefunction(django_asgi_app._middleware_chain)  # type: ignore[attr-defined]


async def _request(method: str, path: str, body: bytes = b"", headers=None):
    communicator = HttpCommunicator(
        asgi_application,
        method,
        path,
        body=body,
        headers=[(b"host", b"localhost"), *(headers or [])],
    )
    return await communicator.get_response(timeout=10)


@pytest.mark.django_db(transaction=True)
async def test_async_view_sync_views_errors_and_graphql_answer_through_asgi(benchmarks):
    health = await _request("GET", "/health")
    assert health["status"] == 200
    assert json.loads(health["body"])["status"] == "ok"
    headers = dict(health["headers"])
    assert len(headers[b"X-Trace-Id"]) == 32

    rest = await _request("GET", "/api/v2/math/benchmarks/H100_SXM5")
    assert rest["status"] == 200
    assert json.loads(rest["body"])["gpu_model"] == "H100 SXM 80GB"

    missing = await _request("GET", "/api/v2/math/benchmarks/Voodoo5")
    assert missing["status"] == 404
    assert json.loads(missing["body"])["error"]["code"] == "NOT_FOUND"

    gql = await _request(
        "POST",
        "/graphql/",
        body=json.dumps({"query": "{ benchmarks(minVramGb: 141) { gpuModel } }"}).encode(),
        headers=[(b"content-type", b"application/json")],
    )
    assert gql["status"] == 200
    models = {b["gpuModel"] for b in json.loads(gql["body"])["data"]["benchmarks"]}
    assert models == {"H200 SXM 141GB", "B200", "MI300X"}
