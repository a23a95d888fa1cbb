"""The GraphQL-over-HTTP view at ``/graphql/`` (``gpubroker/urls.py`` mounts it).

A subclass of Strawberry's *sync* Django ``GraphQLView`` (one thread per request; see the comment
in ``gpubroker/urls.py``) that hardens the request level:

* **Request-level errors are JSON**, never ``text/plain`` or an HTML page: malformed JSON, a body
  that is not a JSON object, a batch (an array: batching is off), ``variables``/``extensions`` not
  an object, no query, an unsupported content type (415), a wrong method (405 with ``Allow``), a
  body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413). The body follows the GraphQL-over-HTTP spec:
  ``{"errors": [{"message", "extensions": {"code", "traceId"}}]}`` with content type
  ``application/graphql-response+json`` and the status above (400 unless said otherwise).
* **Trusted documents** (``schema/trusted_documents.py``): ``documentId`` (``sha256:<hex>``) is
  accepted in a POST body and as a GET parameter; the ``GRAPHQL_TRUSTED_DOCUMENTS`` mode
  (``off`` / ``audit`` / ``enforce``) applies to documents sent as text.
* **Media type**: a client that accepts ``application/graphql-response+json`` gets it; others get
  ``application/json`` (the legacy default, status 200 for executed operations).
* **GraphiQL** only when ``GRAPHQL_GRAPHIQL`` is on (off in production); otherwise a GET without a
  query answers 404 JSON. The page is ``gpubroker.web.graphiql`` (offline assets; subscriptions
  over the WebSocket, with the headers editor's token in ``connection_init``).
* **Subscriptions over HTTP** are refused with 400 ``SUBSCRIPTION_REQUIRES_WEBSOCKET``: they are
  served over WebSocket at the same path (``graphql-transport-ws``), never executed here.

Hooks for other features (override in a subclass or edit here, keep the contracts):

* ``graphql_response(request)`` runs one GraphQL request and returns the response (or raises
  ``GraphQLRequestError``). A response cache / HTTP caching layer wraps this method.
* ``graphql_ide_response(request)`` renders the IDE page (called only when GraphiQL is enabled).
* ``request_error(status, message, code)`` builds the JSON error response used for every
  request-level failure.
"""

from __future__ import annotations

import json
import re
from typing import Any

from cross_web import HTTPException, SyncHTTPRequestAdapter
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from graphql.language import OperationDefinitionNode, OperationType
from strawberry.django.views import GraphQLView
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type

from gpubroker.observability import current_trace_id
from graphql import GraphQLError, parse

from . import trusted_documents

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
_DOCUMENT_ID = re.compile(r"^sha256:[0-9a-f]{64}$")
_REASON_CODES = {
    "Unsupported content type": (415, "UNSUPPORTED_MEDIA_TYPE"),
    "Not Found": (404, "NOT_FOUND"),
}


SUBSCRIPTION_OVER_HTTP = (
    "Subscriptions are served over WebSocket at /graphql/ (protocol graphql-transport-ws), "
    "not over HTTP."
)
_SUBSCRIPTION_WORD = re.compile(r"\bsubscription\b")


def _is_subscription(query: str, operation_name: str | None) -> bool:
    """Whether the operation to run is a subscription (the document is parsed only when the
    word appears; a document that does not parse is left to the normal error path)."""
    if not _SUBSCRIPTION_WORD.search(query):
        return False
    try:
        document = parse(query)
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [
        o
        for o in operations
        if operation_name is None or (o.name and o.name.value == operation_name)
    ]
    return len(chosen) == 1 and chosen[0].operation == OperationType.SUBSCRIPTION


class GraphQLRequestError(HTTPException):
    """A request-level failure: answered before any operation runs."""

    def __init__(self, status_code: int, reason: str, code: str = "BAD_REQUEST") -> None:
        super().__init__(status_code, reason)
        self.code = code


def _error_body(message: str, code: str) -> dict[str, Any]:
    return {
        "errors": [
            {"message": message, "extensions": {"code": code, "traceId": current_trace_id()}}
        ]
    }


class GatewayGraphQLView(GraphQLView):
    allow_queries_via_get = True

    # --- entry point ------------------------------------------------------------------------

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return self.graphql_response(request)
        except RequestDataTooBig:
            return self.request_error(
                413,
                f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
                "PAYLOAD_TOO_LARGE",
            )
        except GraphQLRequestError as error:
            return self.request_error(error.status_code, error.reason, error.code)
        except HTTPException as error:
            status, code = _REASON_CODES.get(error.reason, (error.status_code, "BAD_REQUEST"))
            if error.status_code == 405:
                response = self.request_error(405, error.reason, "METHOD_NOT_ALLOWED")
                response["Allow"] = "GET, POST"
                return response
            return self.request_error(status, error.reason, code)

    def graphql_response(self, request: HttpRequest) -> HttpResponseBase:
        """One GraphQL request → its response (hook: caching layers wrap this)."""
        return self.run(request=request)

    def request_error(self, status: int, message: str, code: str) -> HttpResponse:
        return HttpResponse(
            json.dumps(_error_body(message, code)),
            status=status,
            content_type=GRAPHQL_RESPONSE_JSON,
        )

    # --- GraphiQL ---------------------------------------------------------------------------

    def render_graphql_ide(self, request: HttpRequest) -> HttpResponse:
        if not settings.GRAPHQL_GRAPHIQL:
            raise GraphQLRequestError(404, "Not Found", "NOT_FOUND")
        return self.graphql_ide_response(request)

    def graphql_ide_response(self, request: HttpRequest) -> HttpResponse:
        """The IDE page (hook: override to serve another page)."""
        from gpubroker.web.graphiql import graphiql_page

        return graphiql_page(request)

    # --- request parsing --------------------------------------------------------------------

    def parse_http_body(self, request: SyncHTTPRequestAdapter) -> GraphQLRequestData:  # type: ignore[override]
        content_type, _ = parse_content_type(request.content_type or "")
        if request.method == "GET":
            data: Any = self.parse_query_params(request.query_params)
        elif "application/json" in content_type or content_type == GRAPHQL_RESPONSE_JSON:
            data = self.parse_json(request.body)
        else:
            # Streaming transports and unsupported content types: Strawberry's own answers.
            return super().parse_http_body(request)  # type: ignore[return-value]
        if isinstance(data, list):
            raise GraphQLRequestError(400, "Batching is not enabled: send one operation.")
        if not isinstance(data, dict):
            raise GraphQLRequestError(400, "The request body must be a JSON object.")
        return self._request_data(data)

    def _request_data(self, data: dict[str, Any]) -> GraphQLRequestData:
        query = data.get("query")
        if not isinstance(query, (str, type(None))):
            raise GraphQLRequestError(400, "`query` must be a string.")
        for key in ("variables", "extensions"):
            if not isinstance(data.get(key), (dict, type(None))):
                raise GraphQLRequestError(400, f"`{key}` must be an object or null.")
        operation_name = data.get("operationName")
        if not isinstance(operation_name, (str, type(None))):
            raise GraphQLRequestError(400, "`operationName` must be a string or null.")
        doc_id = data.get("documentId")
        if doc_id is not None:
            query = self._trusted_document(doc_id, query)
        elif query is not None and not trusted_documents.check_document(query, operation_name):
            raise GraphQLRequestError(
                400,
                "Only trusted documents are accepted: send a `documentId` from the manifest.",
                "TRUSTED_DOCUMENT_REQUIRED",
            )
        if query is not None and _is_subscription(query, operation_name):
            raise GraphQLRequestError(
                400, SUBSCRIPTION_OVER_HTTP, "SUBSCRIPTION_REQUIRES_WEBSOCKET"
            )
        return GraphQLRequestData(
            query=query,
            variables=data.get("variables"),
            operation_name=operation_name,
            extensions=data.get("extensions"),
        )

    @staticmethod
    def _trusted_document(doc_id: object, query: str | None) -> str:
        if not isinstance(doc_id, str) or not _DOCUMENT_ID.match(doc_id):
            raise GraphQLRequestError(400, "`documentId` must be `sha256:` and 64 hex digits.")
        if query is not None:
            raise GraphQLRequestError(400, "Send either `documentId` or `query`, not both.")
        text = trusted_documents.store.get(doc_id)
        if text is None:
            raise GraphQLRequestError(
                400, "Unknown `documentId`: not in the trusted documents.", "DOCUMENT_NOT_FOUND"
            )
        return text

    # --- responses --------------------------------------------------------------------------

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: HttpResponse,
    ) -> HttpResponseBase:
        response = super().create_response(response_data, sub_response)
        accept = self.request.headers.get("Accept", "") if hasattr(self, "request") else ""
        if GRAPHQL_RESPONSE_JSON in accept:
            response["Content-Type"] = GRAPHQL_RESPONSE_JSON
        return response
