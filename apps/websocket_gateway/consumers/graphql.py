"""GraphQL over WebSocket at ``/graphql/``: ``graphql-transport-ws`` only (the legacy
``graphql-ws`` protocol had an auth-bypass CVE).

The client authenticates in ``connection_init`` with ``{"Authorization": "Bearer <token>"}``, the
same JWT as over HTTP. Refusals close the socket with 4401 (no or bad token), 4403 (forbidden) or
4429 (the tenant's plan allows no more open connections). Origins are checked at the handshake
(``WS_ALLOWED_ORIGINS``; a disallowed browser origin gets HTTP 403); a connection may run at most
``WS_MAX_SUBSCRIPTIONS_PER_CONNECTION`` operations at once.

Every ``subscribe`` (query, mutation or subscription) counts against the caller's request rate
limit and is checked (``apps/websocket_gateway/admission.py``; the trusted-documents and cost
checks are handed in by the wiring, ``schema/live_admission.py``), as over HTTP; queries and
mutations are also charged to the cost budget by the schema's ``CostExtension``. A refusal is an
``error`` message for that id (``RATE_LIMITED``, ``COST_LIMIT_EXCEEDED``,
``TRUSTED_DOCUMENT_REQUIRED``). A result frame over ``WS_MAX_MESSAGE_BYTES`` becomes an ``error``
(``RESULT_TOO_LARGE``). A frame that is not a protocol message closes with 4400 and leaves one
warning in the log, no traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from asgiref.sync import sync_to_async
from django.conf import settings
from strawberry.channels import GraphQLWSConsumer
from strawberry.schema.base import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)
from strawberry.types.unset import UNSET, UnsetType

from graphql import GraphQLSyntaxError, parse

from .. import admission
from ..connections import CLOSE_BAD_REQUEST, ConnectionRefused, LiveConnection, bearer_token

logger = logging.getLogger("gpubroker.live")


@dataclass
class LiveContext:
    """Resolver context: ``info.context.request`` is the consumer (its ``scope`` carries
    ``gpubroker_user``, which ``schema.permissions.current_user`` reads); item access kept for
    code written against Strawberry's dict context."""

    request: GraphQLPriceConsumer
    ws: GraphQLPriceConsumer
    connection_params: dict[str, Any] | None = None

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)


class AdmittingTransportWSHandler(BaseGraphQLTransportWSHandler):
    """Closes with the refusal's own code (Strawberry maps every rejection to 4403), and answers
    a subscribe whose document does not parse with the protocol's 4400 close. (With the schema's
    ParserCache extension Strawberry's stream path raises the syntax error inside the operation
    task instead, which would log a traceback and send a bare ``complete``.)"""

    def _consumer(self) -> Any:
        return self.websocket.ws_consumer  # type: ignore[attr-defined]

    async def handle_message(self, message: Any) -> None:
        """A frame that is JSON but not a protocol message (``[1,2]``, ``null``, ``"x"``, a
        message without a string ``type`` or ``id``) closes with 4400 and one warning line."""
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            logger.warning("malformed websocket frame", extra={"endpoint": "graphql"})
            await self.handle_invalid_message("Invalid message: a JSON object with a type")
            return
        if message["type"] in ("subscribe", "complete") and not isinstance(message.get("id"), str):
            logger.warning("malformed websocket frame", extra={"endpoint": "graphql"})
            await self.handle_invalid_message("Invalid message: missing id")
            return
        await super().handle_message(message)  # type: ignore[arg-type]

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and message.get("id") not in self.operations:
            payload = message.get("payload")
            query = payload.get("query") if isinstance(payload, dict) else None
            if not isinstance(query, str) or not isinstance(payload, dict):
                await self.websocket.close(code=CLOSE_BAD_REQUEST, reason="Invalid subscribe")
                return
            variables = payload.get("variables")
            if not isinstance(variables, (dict, type(None))):
                await self.websocket.close(code=CLOSE_BAD_REQUEST, reason="Invalid variables")
                return
            try:
                document = parse(query, max_tokens=settings.GRAPHQL_MAX_TOKENS)
            except GraphQLSyntaxError as error:
                await self.websocket.close(
                    code=CLOSE_BAD_REQUEST,
                    reason=error.message.encode()[:120].decode(errors="ignore"),
                )
                return
            consumer = self._consumer()
            refusal = await sync_to_async(admission.admit)(
                consumer.scope, document, query, dict(payload), consumer.operation_checks
            )
            if refusal is not None:
                await self.send_message(
                    {"id": message["id"], "type": "error", "payload": [refusal]}
                )
                return
        await super().handle_subscribe(message)

    async def send_message(self, message: Any) -> None:
        """A ``next`` whose frame would be over ``WS_MAX_MESSAGE_BYTES`` becomes an ``error`` for
        that operation (a frame that large was dropped silently on the way)."""
        if message.get("type") == "next":
            encoded = self._consumer().encode_json(message)
            if len(encoded.encode()) > settings.WS_MAX_MESSAGE_BYTES:
                operation = self.operations.get(message["id"])
                if operation is not None:
                    operation.completed = True  # no `complete` after the error
                    self.forget_id(message["id"])
                message = {
                    "id": message["id"],
                    "type": "error",
                    "payload": [admission.too_large(settings.WS_MAX_MESSAGE_BYTES)],
                }
        await super().send_message(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except ConnectionRefused as refused:
            logger.info(
                "websocket refused",
                extra={"endpoint": "graphql", "code": refused.code, "reason": refused.reason},
            )
            await self.websocket.close(code=refused.code, reason=refused.reason)


class GraphQLPriceConsumer(LiveConnection, GraphQLWSConsumer):
    graphql_transport_ws_handler_class = AdmittingTransportWSHandler

    def __init__(
        self,
        *,
        schema: BaseSchema,
        operation_checks: Sequence[admission.OperationCheck] = (),
        **kwargs: Any,
    ) -> None:
        # The schema and the checks that need it (trusted documents, cost) come from the project
        # wiring (gpubroker/asgi.py): apps never import the schema.
        # Settings are read per connection, so settings changes (and tests' overrides) apply.
        self.operation_checks = tuple(operation_checks)
        super().__init__(
            schema=schema,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allowed_origins=tuple(settings.WS_ALLOWED_ORIGINS),
            max_subscriptions_per_connection=settings.WS_MAX_SUBSCRIPTIONS_PER_CONNECTION,
            connection_init_wait_timeout=timedelta(
                seconds=float(settings.WS_CONNECTION_INIT_TIMEOUT)
            ),
            **kwargs,
        )

    def encode_json(self, data: object) -> str:
        """Every outgoing protocol message, once per subscriber and event: orjson, not json."""
        return orjson.dumps(data).decode()

    async def get_context(self, request: Any, response: Any) -> Any:
        return LiveContext(request=self, ws=self)

    async def on_ws_connect(self, context: Any) -> UnsetType | dict[str, object] | None:
        await self.admit(bearer_token(context.connection_params))
        return UNSET

    async def disconnect(self, code: int) -> None:
        try:
            await super().disconnect(code)
        finally:
            await self.release()
