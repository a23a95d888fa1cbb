"""The response cache and HTTP caching, hooked into the GraphQL HTTP view.

``ResponseCacheMixin`` wraps the view's ``graphql_response(request)`` (one GraphQL request → its
response): it parses the request the way the view does (so ``documentId`` and the trusted-documents
rules apply first), asks ``schema.response_cache`` for a plan, and then

* ``GET`` with a matching ``If-None-Match`` → ``304`` (nothing executed, nothing read);
* a stored response → that body (``X-GraphQL-Cache: hit``);
* otherwise the view executes as always; a public result without errors is stored
  (``X-GraphQL-Cache: miss``) without its per-caller parts: ``extensions.cost.budget`` (the
  caller's remaining cost budget, ``schema/cost.py``) is stored as ``null``. A hit runs no
  resolver and no SQL, so it is not charged to the budget.

Every response gets its ``Cache-Control`` (and public GETs their ``ETag``): see
``schema/response_cache.py``. Responses are serialised with orjson (same JSON, a fraction of the
time of the standard library's encoder; values it cannot encode go through Django's encoder).
"""

from __future__ import annotations

from typing import Any

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from . import response_cache
from .http_view import GRAPHQL_RESPONSE_JSON, GatewayGraphQLView

RESULT_ATTR = "gpubroker_graphql_result"
PROCESSED_ATTR = "gpubroker_graphql_response"
PARSED_ATTR = "gpubroker_graphql_request_data"
_django_default = DjangoJSONEncoder().default


class ResponseCacheMixin:
    schema: Any
    request_adapter_class: Any

    def graphql_response(self, request: HttpRequest) -> HttpResponseBase:
        entry = self._cache_plan(request)
        if entry is None:
            return self._private(self._execute(request))
        if request.method == "GET" and response_cache.not_modified(
            request.headers.get("If-None-Match"), entry.etag
        ):
            return self._public(HttpResponse(status=304), entry, request)
        body = response_cache.get(entry)
        if body is not None:
            hit = HttpResponse(body, content_type=self._media_type(request))
            hit["X-GraphQL-Cache"] = response_cache.HIT
            return self._public(hit, entry, request)
        response = self._execute(request)
        result = getattr(request, RESULT_ATTR, None)
        if response.status_code != 200 or result is None or result.errors:
            return self._private(response)
        processed = getattr(request, PROCESSED_ATTR, None)
        body = (
            self.encode_json(response_cache.shareable(processed))
            if isinstance(processed, dict)
            else response.content  # type: ignore[attr-defined]
        )
        response_cache.put(entry, request, body)
        response["X-GraphQL-Cache"] = response_cache.MISS
        return self._public(response, entry, request)

    # --- pieces -------------------------------------------------------------------------------
    def _cache_plan(self, request: HttpRequest) -> response_cache.Plan | None:
        if request.method not in ("GET", "POST"):
            return None
        adapter = self.request_adapter_class(request)
        try:
            if self.should_render_graphql_ide(adapter):  # type: ignore[attr-defined]
                return None
            data = self.parse_http_body(adapter)  # type: ignore[attr-defined]
        except Exception:  # the view answers malformed requests itself
            return None
        if isinstance(data, list):
            return None
        return response_cache.plan(
            self.schema._schema, request, data.query, data.variables, data.operation_name
        )

    def _execute(self, request: HttpRequest) -> HttpResponseBase:
        return super().graphql_response(request)  # type: ignore[misc,no-any-return]

    @staticmethod
    def _media_type(request: HttpRequest) -> str:
        accept = request.headers.get("Accept", "")
        return GRAPHQL_RESPONSE_JSON if GRAPHQL_RESPONSE_JSON in accept else "application/json"

    @staticmethod
    def _private(response: HttpResponseBase) -> HttpResponseBase:
        response["Cache-Control"] = response_cache.PRIVATE_CACHE_CONTROL
        return response

    @staticmethod
    def _public(
        response: HttpResponseBase, entry: response_cache.Plan, request: HttpRequest
    ) -> HttpResponseBase:
        if request.method != "GET":  # POST responses are never stored by HTTP caches
            response["Cache-Control"] = response_cache.PRIVATE_CACHE_CONTROL
            return response
        response["Cache-Control"] = entry.cache_control
        response["ETag"] = entry.etag
        return response

    # --- view overrides -----------------------------------------------------------------------
    def process_result(self, request: HttpRequest, result: Any) -> Any:
        setattr(request, RESULT_ATTR, result)
        processed = super().process_result(request, result)  # type: ignore[misc]
        setattr(request, PROCESSED_ATTR, processed)
        return processed

    def parse_http_body(self, adapter: Any) -> Any:
        """Parsed once per request (the cache plan and the execution read the same data)."""
        request = getattr(adapter, "request", None)
        parsed = getattr(request, PARSED_ATTR, None)
        if parsed is None:
            parsed = super().parse_http_body(adapter)  # type: ignore[misc]
            if request is not None:
                setattr(request, PARSED_ATTR, parsed)
        return parsed

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data, default=_django_default)


class CachedGatewayView(ResponseCacheMixin, GatewayGraphQLView):
    """The gateway view (``schema/http_view.py``) with the response cache and HTTP caching."""
