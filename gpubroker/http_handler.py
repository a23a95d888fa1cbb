"""HTTP under ASGI with one thread hop per request.

Django's ``ASGIHandler`` runs its middleware chain in async mode: every ``MiddlewareMixin``
middleware and every sync view is entered through ``sync_to_async``, about 30 thread hops per
request (a 404 costs ~2.6 ms of CPU under ASGI against ~0.24 ms under WSGI). This handler keeps
Django's ASGI request/response plumbing but builds the chain in **sync** mode and runs it as a
WSGI server would. Async views still work: Django adapts them inside the chain.

Even so, Django's ``handle`` hops to the request's thread three times: for the
``request_started`` signal, for the chain, and for ``response.close()`` (the
``request_finished`` signal, which hands the database connection back). Each hop is a wake-up of
the thread and of the event loop, and under load each waits for the CPU and the GIL. Here one
hop does all three for a response whose body is in memory; a streaming response is closed after
it is sent, as Django does.

Which thread: Django's own handler enters each request in a ``ThreadSensitiveContext``, which
starts a new thread for it and another to shut that one down. ``Thread.start()`` blocks the event
loop until the new thread runs, and under load the new thread waits for the GIL: py-spy found the
loop of a server at half its saturation rate blocked in ``Thread.start`` 18 % of the time, with
every request of the process waiting behind it. Here a request takes an idle thread of the
process's own pool (the most recently used, whose caches are warm) and gives it back after; a
thread is started only when more requests are in flight than threads exist. With
``HTTP_WORKER_THREADS`` = N > 0 there are at most N, and the rest queue in arrival order; 0 (the
default) sets no bound, so a dependency that is down (each request waiting up to
``DB_POOL_TIMEOUT`` for a connection) cannot hold up the requests behind it. ``/health`` and
``/metrics`` never wait for a thread of the pool.
"""

from __future__ import annotations

import asyncio
import collections
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse, HttpResponseBase
from django.urls import set_script_prefix

#: Never queued behind the pool: the health check must answer while every worker waits on a
#: database that is down (it runs its checks in threads of their own, ``gpubroker/health.py``).
POOL_BYPASS = frozenset({"/health", "/metrics"})


class _Workers:
    """Single-thread executors of one event loop: idle ones reused last-in first-out, new ones
    started while under ``limit`` (0: no limit), otherwise a wait in arrival order."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.started = 0
        self.idle: list[ThreadPoolExecutor] = []
        self.waiting: collections.deque[asyncio.Future[ThreadPoolExecutor]] = collections.deque()

    async def acquire(self) -> ThreadPoolExecutor:
        if self.idle:
            return self.idle.pop()
        if self.limit <= 0 or self.started < self.limit:
            self.started += 1
            return ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"http-{self.started}")
        waiter = asyncio.get_running_loop().create_future()
        self.waiting.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release(waiter.result())  # handed over as it was cancelled: pass it on
            raise

    def release(self, worker: ThreadPoolExecutor) -> None:
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        self.idle.append(worker)


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        super(ASGIHandler, self).__init__()
        self.load_middleware(is_async=False)
        self.worker_threads = int(getattr(settings, "HTTP_WORKER_THREADS", 0) or 0)
        # one set of workers per event loop (tests run several loops)
        self._workers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Workers] = (
            weakref.WeakKeyDictionary()
        )

    def _workers_of_this_loop(self) -> _Workers:
        loop = asyncio.get_running_loop()
        workers = self._workers.get(loop)
        if workers is None:
            workers = self._workers[loop] = _Workers(self.worker_threads)
        return workers

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        if scope.get("path") in POOL_BYPASS:
            async with ThreadSensitiveContext():  # a thread of its own, as Django gives
                await self._handle_in_one_hop(scope, receive, send)
            return
        workers = self._workers_of_this_loop()
        worker = await workers.acquire()
        try:
            # Every thread-sensitive call of this request runs on this one worker thread (its
            # database connection is that thread's).
            async with ThreadSensitiveContext(executor=worker):
                await self._handle_in_one_hop(scope, receive, send)
        finally:
            workers.release(worker)

    async def _handle_in_one_hop(self, scope: Any, receive: Any, send: Any) -> None:
        """Django's ``handle``, with the ``request_started`` signal, the request's creation,
        the middleware chain and (for an in-memory body) ``close()`` in one call."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))

        def respond() -> HttpResponseBase:
            signals.request_started.send(sender=self.__class__, scope=scope)
            request, error_response = self.create_request(scope, body_file)
            response: Any = error_response if request is None else self.get_response(request)
            response._handler_class = self.__class__
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
            if not response.streaming:
                response.close()
            return response  # type: ignore[no-any-return]

        try:
            response = await sync_to_async(respond, thread_sensitive=True)()
            try:
                await self.send_response(response, send)
            finally:
                if response.streaming:
                    await sync_to_async(response.close, thread_sensitive=True)()
        finally:
            body_file.close()
