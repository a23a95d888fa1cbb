"""The REST facade: one NinjaAPI instance mounted at ``/api/v2/`` (OpenAPI docs at
``/api/v2/docs``), one router module per domain. Endpoints stay thin: they parse, authorise and
shape; the rules live in ``apps/*/services.py``."""

from __future__ import annotations

from .ai import router as ai_router
from .auth import router as auth_router
from .config import router as config_router
from .envelope import ObjectJSONParser
from .errors import install_error_handlers
from .kpi import router as kpi_router
from .math import router as math_router
from .openapi import DocumentedErrorsAPI
from .providers import router as providers_router

# The OpenAPI document lists every operation's error responses with the envelope (issue 11).
api = DocumentedErrorsAPI(
    title="GPUBROKER API v2",
    version="2.0.0",
    urls_namespace="api-v2",
    # JSON bodies only (415 otherwise), and a JSON object where one is expected (422): issue 11.
    parser=ObjectJSONParser(),
    description=(
        "Legacy REST facade of GPUBROKER. Errors use the envelope "
        '`{"error": {"code", "message", "details", "trace_id"}}`.'
    ),
)
install_error_handlers(api)
api.add_router("/auth/", auth_router, tags=["auth"])
api.add_router("/math/", math_router, tags=["math"])
api.add_router("/providers", providers_router, tags=["providers"])
api.add_router("/config/", config_router, tags=["config"])
api.add_router("/ai/", ai_router, tags=["ai"])
api.add_router("/kpi/", kpi_router, tags=["kpi"])
