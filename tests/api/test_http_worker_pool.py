"""``HTTP_WORKER_THREADS`` (gpubroker/http_handler.py): the sync chain of every request runs on
one of N long-lived worker threads, its whole life (the ``request_started`` and
``request_finished`` signals that open and close its database connection) on that one thread, at
most N requests at once, and the health check never waits behind them."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core import signals
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.test import override_settings
from django.urls import path

from gpubroker.http_handler import SyncChainASGIHandler


def _stream(request: HttpRequest) -> StreamingHttpResponse:
    async def parts() -> AsyncIterator[bytes]:
        yield b"first,"
        yield b"second"

    return StreamingHttpResponse(parts(), content_type="text/plain")


def _plain(request: HttpRequest) -> HttpResponse:
    return HttpResponse(threading.current_thread().name, content_type="text/plain")


urlpatterns = [path("stream", _stream), path("plain", _plain)]


async def _get(app: Any, path_: str) -> dict[str, Any]:
    """Status and body of one GET (Channels' ``HttpCommunicator`` insists on a ``body`` key in
    the empty closing message of a streaming response, which ASGI makes optional)."""
    communicator = ApplicationCommunicator(
        app,
        {
            "type": "http",
            "http_version": "1.1",
            "method": "GET",
            "path": path_,
            "raw_path": path_.encode(),
            "query_string": b"",
            "headers": [(b"host", b"localhost")],
        },
    )
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(10)
    body = b""
    while True:
        message = await communicator.receive_output(10)
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    await communicator.wait(10)
    return {"status": start["status"], "body": body}


class _SignalThreads:
    """The thread each request_started / request_finished signal ran on."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[str] = []

    def __enter__(self) -> _SignalThreads:
        signals.request_started.connect(self._on_started)
        signals.request_finished.connect(self._on_finished)
        return self

    def __exit__(self, *exc: object) -> None:
        signals.request_started.disconnect(self._on_started)
        signals.request_finished.disconnect(self._on_finished)

    def _on_started(self, **kwargs: Any) -> None:
        self.started.append(threading.current_thread().name)

    def _on_finished(self, **kwargs: Any) -> None:
        self.finished.append(threading.current_thread().name)


@override_settings(HTTP_WORKER_THREADS=2, ROOT_URLCONF=__name__)
async def test_each_request_lives_on_one_worker_thread_of_the_pool():
    app = SyncChainASGIHandler()
    with _SignalThreads() as seen:
        answers = [await _get(app, "/plain") for _ in range(6)]
    view_threads = [a["body"].decode() for a in answers]
    assert all(a["status"] == 200 for a in answers)
    assert all(name.startswith("http-") for name in view_threads)
    assert len(set(view_threads)) <= 2  # reused, not a thread per request
    # the signals that open and close the request's database connection ran on its thread
    assert seen.started == view_threads
    assert seen.finished == view_threads


@override_settings(HTTP_WORKER_THREADS=2, ROOT_URLCONF=__name__)
async def test_a_streaming_response_is_sent_then_closed_on_its_worker():
    app = SyncChainASGIHandler()
    with _SignalThreads() as seen:
        answer = await _get(app, "/stream")
    assert answer["status"] == 200
    assert answer["body"] == b"first,second"
    assert len(seen.finished) == 1
    assert seen.finished == seen.started
    assert seen.finished[0].startswith("http-")


@override_settings(HTTP_WORKER_THREADS=2, ROOT_URLCONF=__name__)
async def test_at_most_n_requests_run_at_once_and_the_rest_queue():
    app = SyncChainASGIHandler()
    running, peak, lock = 0, 0, threading.Lock()
    inner = app.get_response

    def counted(request: HttpRequest) -> Any:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        try:
            threading.Event().wait(0.05)  # a view that waits on I/O
            return inner(request)
        finally:
            with lock:
                running -= 1

    app.get_response = counted  # type: ignore[method-assign]
    answers = await asyncio.gather(*(_get(app, "/plain") for _ in range(8)))
    assert [a["status"] for a in answers] == [200] * 8
    assert peak == 2


@pytest.mark.django_db(transaction=True)
@override_settings(HTTP_WORKER_THREADS=1)
async def test_health_answers_while_every_worker_is_busy():
    app = SyncChainASGIHandler()
    release, entered = threading.Event(), threading.Event()
    inner = app.get_response

    def stuck(request: HttpRequest) -> Any:
        if request.path != "/health":
            entered.set()
            release.wait(10)
        return inner(request)

    app.get_response = stuck  # type: ignore[method-assign]
    blocked = asyncio.ensure_future(_get(app, "/api/v2/nothing-here"))
    try:
        while not entered.is_set():
            await asyncio.sleep(0.01)
        health = await _get(app, "/health")
        assert health["status"] == 200
        assert json.loads(health["body"])["status"] == "ok"
        assert not blocked.done()  # the only worker is still taken
    finally:
        release.set()
    assert (await blocked)["status"] == 404


@override_settings(HTTP_WORKER_THREADS=0, ROOT_URLCONF=__name__)
async def test_without_a_bound_threads_are_reused_and_started_only_for_concurrency():
    app = SyncChainASGIHandler()
    with _SignalThreads() as seen:
        one_by_one = [await _get(app, "/plain") for _ in range(3)]
    threads = [a["body"].decode() for a in one_by_one]
    assert all(a["status"] == 200 for a in one_by_one)
    assert len(set(threads)) == 1 and threads[0].startswith("http-")  # no thread per request
    assert seen.started == threads
    assert seen.finished == threads

    release = threading.Event()
    inner = app.get_response

    def waits(request: HttpRequest) -> Any:
        release.wait(10)
        return inner(request)

    app.get_response = waits  # type: ignore[method-assign]
    together = [asyncio.ensure_future(_get(app, "/plain")) for _ in range(5)]
    await asyncio.sleep(0.2)
    release.set()
    answers = await asyncio.gather(*together)
    concurrent = {a["body"].decode() for a in answers}
    assert len(concurrent) == 5  # five at once: nobody queued behind a waiting request
    assert threads[0] in concurrent
