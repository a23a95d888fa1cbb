"""The Strawberry schema: one module per domain, merged here into the root types."""

from __future__ import annotations

from strawberry.extensions import ParserCache
from strawberry.tools import merge_types
from strawberry_django.optimizer import DjangoOptimizerExtension

from . import ai, auth, integrations, kpi, math_core, providers, recommendations
from . import models as model_catalogue
from .cost import CostExtension
from .errors import ErrorFormatter
from .fast_execution import FastFieldsExecutionContext
from .gateway_schema import GatewaySchema
from .limits import GatewayValidation
from .operation_metrics import OperationMetrics
from .permissions import RateLimitExtension
from .subscriptions import Subscription

Query = merge_types(
    "Query",
    (
        auth.Query,
        integrations.Query,
        math_core.Query,
        providers.Query,
        recommendations.Query,
        model_catalogue.Query,
        ai.Query,
        kpi.Query,
    ),
)
Mutation = merge_types(
    "Mutation", (auth.Mutation, integrations.Mutation, recommendations.Mutation, ai.Mutation)
)

schema = GatewaySchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[
        DjangoOptimizerExtension,
        lambda: ParserCache(maxsize=512),
        # Structural limits, introspection and suggestions per settings; cached (schema/limits.py).
        GatewayValidation,
        RateLimitExtension,
        CostExtension,  # after the rate limit: a limited request is not charged
        ErrorFormatter,
        OperationMetrics,  # latency and cost by operation name, for /metrics
    ],
    execution_context_class=FastFieldsExecutionContext,
)
