"""Serve the ASGI application (HTTP and WebSocket), redacting secrets from the access log.

``python -m apps.websocket_gateway.serve [--server uvicorn|daphne] [options] APP`` (APP:
``gpubroker.asgi:application``)

The default server is **uvicorn** with httptools and uvloop, chosen by measurement
(``bench/catalogue_bench.py`` and ``bench/live_bench.py``; figures in the README's deployment
section). Options, the same for both servers: ``-b/--bind HOST`` (``--host``), ``-p/--port PORT``,
``--proxy-headers`` (trust ``X-Forwarded-For``/``-Proto`` from the proxy in front; with
uvicorn only from ``FORWARDED_ALLOW_IPS``, default ``127.0.0.1``),
``--access-log PATH`` (``-`` = stdout, the default), ``-v/--verbosity 0|1|2`` (0: no access
log). ``--server daphne`` passes every other option to daphne's own command line unchanged.

Access logs print each request's path and query string; the legacy ``/ws/`` feed takes its token
as ``?token=`` (browsers cannot set WebSocket headers), so a plain server would write tokens to
the log. Here query parameters that carry credentials are replaced by ``[redacted]`` before a
line is written — daphne's access-log generator and uvicorn's ``uvicorn.access`` /
``uvicorn.error`` loggers (the latter logs WebSocket handshakes) alike.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from typing import Any

SECRET_PARAMETERS = ("token", "access_token", "refresh_token", "api_key", "apikey", "password")
_SECRET = re.compile(
    r"(?i)([?&;](?:" + "|".join(SECRET_PARAMETERS) + r")=)[^&;#\s\"]*",
)
SERVERS = ("uvicorn", "daphne")
DEFAULT_SERVER = "uvicorn"


def redact(text: str) -> str:
    """``/ws/?token=abc&x=1`` → ``/ws/?token=[redacted]&x=1``."""
    return _SECRET.sub(r"\1[redacted]", text)


# --- daphne ----------------------------------------------------------------------------------
def _serve_daphne(argv: list[str]) -> None:
    from daphne import cli
    from daphne.access import AccessLogGenerator

    class RedactingAccessLogGenerator(AccessLogGenerator):
        def write_entry(self, host: Any, date: Any, request: Any, *args: Any, **kw: Any) -> None:
            super().write_entry(host, date, redact(str(request)), *args, **kw)

    cli.AccessLogGenerator = RedactingAccessLogGenerator  # type: ignore[misc]
    cli.CommandLineInterface().run(argv)


# --- uvicorn ---------------------------------------------------------------------------------
class RedactingFilter(logging.Filter):
    """Formats the record's message and replaces credentials in it (query strings)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


def configure_uvicorn_logging(access_log: str, verbosity: int) -> None:
    """Access lines (one per request, as daphne writes them) to ``access_log``; uvicorn's own
    messages (startup, WebSocket handshakes, errors) to stderr; both redacted."""
    redacting = RedactingFilter()
    access_handler: logging.Handler = (
        logging.StreamHandler(sys.stdout)
        if access_log == "-"
        else logging.FileHandler(access_log, encoding="utf-8")
    )
    error_handler = logging.StreamHandler(sys.stderr)
    for handler in (access_handler, error_handler):
        handler.addFilter(redacting)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    access = logging.getLogger("uvicorn.access")
    access.handlers = [access_handler]
    access.setLevel(logging.INFO if verbosity >= 1 else logging.WARNING)
    access.propagate = False
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [error_handler] if name == "uvicorn" else []
        logger.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO)
        logger.addFilter(redacting)
        logger.propagate = name != "uvicorn"


def _uvicorn_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="serve --server uvicorn")
    parser.add_argument("-b", "--bind", "--host", dest="host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=8000)
    parser.add_argument("--proxy-headers", action="store_true")
    parser.add_argument("--access-log", default="-")
    parser.add_argument("-v", "--verbosity", type=int, default=1)
    parser.add_argument("application")
    return parser.parse_args(argv)


def _serve_uvicorn(argv: list[str]) -> None:
    import uvicorn

    args = _uvicorn_arguments(argv)
    configure_uvicorn_logging(args.access_log, args.verbosity)
    uvicorn.run(
        args.application,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        ws="websockets",
        # Like daphne: no per-message compression (it would cost every fan-out frame), pings
        # every 20 s, proxy headers only when asked for.
        ws_per_message_deflate=False,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        # Trusted proxies: FORWARDED_ALLOW_IPS (uvicorn's variable; default 127.0.0.1).
        proxy_headers=args.proxy_headers,
        forwarded_allow_ips=None,
        lifespan="off",  # Django/Channels' router speaks HTTP and WebSocket only
        access_log=args.verbosity >= 1,
        log_config=None,  # configure_uvicorn_logging did it
        server_header=False,
    )


def main(argv: list[str] | None = None) -> None:
    arguments = list(sys.argv[1:] if argv is None else argv)
    server = DEFAULT_SERVER
    if "--server" in arguments:
        index = arguments.index("--server")
        server = arguments[index + 1] if index + 1 < len(arguments) else ""
        del arguments[index : index + 2]
    if server not in SERVERS:
        raise SystemExit(f"--server must be one of {', '.join(SERVERS)}")
    if server == "daphne":
        _serve_daphne(arguments)
    else:
        _serve_uvicorn(arguments)


if __name__ == "__main__":
    main()
