"""Serve the ASGI application with daphne, redacting secrets from the access log.

``python -m apps.websocket_gateway.serve [daphne options] gpubroker.asgi:application``

Daphne's access log prints each request's path and query string; the legacy ``/ws/`` feed takes
its token as ``?token=`` (browsers cannot set WebSocket headers), so a plain daphne would write
tokens to the log. This entry point is daphne's own command line with one change: query parameters
that carry credentials are replaced by ``[redacted]`` before a line is written.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from daphne import cli
from daphne.access import AccessLogGenerator

SECRET_PARAMETERS = ("token", "access_token", "refresh_token", "api_key", "apikey", "password")
_SECRET = re.compile(
    r"(?i)([?&;](?:" + "|".join(SECRET_PARAMETERS) + r")=)[^&;#\s\"]*",
)


def redact(text: str) -> str:
    """``/ws/?token=abc&x=1`` → ``/ws/?token=[redacted]&x=1``."""
    return _SECRET.sub(r"\1[redacted]", text)


class RedactingAccessLogGenerator(AccessLogGenerator):
    def write_entry(self, host: Any, date: Any, request: Any, *args: Any, **kwargs: Any) -> None:
        super().write_entry(host, date, redact(str(request)), *args, **kwargs)


def main(argv: list[str] | None = None) -> None:
    cli.AccessLogGenerator = RedactingAccessLogGenerator  # type: ignore[misc]
    cli.CommandLineInterface().run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
