"""The Strawberry schema: one module per domain, merged here into the root types."""

from __future__ import annotations

import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.tools import merge_types
from strawberry_django.optimizer import DjangoOptimizerExtension

from . import math_core, providers
from .errors import ErrorFormatter

Query = merge_types("Query", (math_core.Query, providers.Query))

schema = strawberry.Schema(
    query=Query,
    extensions=[
        DjangoOptimizerExtension,
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
        ErrorFormatter,
    ],
)
