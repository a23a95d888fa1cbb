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

Which thread: by default (``HTTP_WORKER_THREADS`` = 0) a thread of its own per request, as
Django's ``ThreadSensitiveContext`` gives. With N > 0 the requests of a process share a pool of
N long-lived threads, as a threaded WSGI server does: no thread started per request, and at most
N requests compete for the interpreter while the rest queue in arrival order. A bounded pool
also bounds what waits on a dependency that is down (each request waits up to
``DB_POOL_TIMEOUT`` for a connection), so the others queue behind those: 0 stays the default
(bench/load_fault.py measures both). ``/health`` and ``/metrics`` never queue behind the pool.
"""

from __future__ import annotations

import asyncio
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


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        super(ASGIHandler, self).__init__()
        self.load_middleware(is_async=False)
        self.worker_threads = int(getattr(settings, "HTTP_WORKER_THREADS", 0) or 0)
        # one queue of idle worker threads per event loop (tests run several loops)
        self._idle: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, asyncio.Queue[ThreadPoolExecutor]
        ] = weakref.WeakKeyDictionary()

    def _idle_workers(self) -> asyncio.Queue[ThreadPoolExecutor]:
        loop = asyncio.get_running_loop()
        queue = self._idle.get(loop)
        if queue is None:
            queue = asyncio.Queue()
            for number in range(self.worker_threads):
                queue.put_nowait(
                    ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"http-{number}")
                )
            self._idle[loop] = queue
        return queue

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        if self.worker_threads <= 0 or scope.get("path") in POOL_BYPASS:
            async with ThreadSensitiveContext():  # a thread of its own, as Django gives
                await self._handle_in_one_hop(scope, receive, send)
            return
        idle = self._idle_workers()
        worker = await idle.get()
        try:
            # Every thread-sensitive call of this request runs on this one worker thread (its
            # database connection is that thread's).
            async with ThreadSensitiveContext(executor=worker):
                await self._handle_in_one_hop(scope, receive, send)
        finally:
            idle.put_nowait(worker)

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
