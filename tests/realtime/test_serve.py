from apps.websocket_gateway.serve import redact


def test_credentials_in_query_strings_are_redacted():
    assert redact("WSCONNECT /ws/?token=abc.def-ghi&spot=true") == (
        "WSCONNECT /ws/?token=[redacted]&spot=true"
    )
    assert redact("GET /x?a=1&TOKEN=s3cr3t") == "GET /x?a=1&TOKEN=[redacted]"
    assert redact("GET /x?api_key=k;refresh_token=r") == (
        "GET /x?api_key=[redacted];refresh_token=[redacted]"
    )
    assert redact("GET /ws/?notatoken=1&mytoken=2") == "GET /ws/?notatoken=1&mytoken=2"


def test_uvicorn_access_and_handshake_lines_are_redacted(tmp_path, capsys):
    import logging

    from apps.websocket_gateway.serve import configure_uvicorn_logging

    access_log = tmp_path / "access.log"
    names = ("uvicorn", "uvicorn.error", "uvicorn.access")
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).filters[:]) for n in names}
    configure_uvicorn_logging(str(access_log), verbosity=1)
    # The two lines uvicorn writes for a WebSocket client, in uvicorn's own formats.
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:50000", "GET", "/ws/?token=s3cr3t&spot=1", "1.1", 404
    )
    logging.getLogger("uvicorn.error").info(
        '%s - "WebSocket %s" [accepted]', "127.0.0.1:50001", "/ws/?access_token=s3cr3t"
    )
    for handler in logging.getLogger("uvicorn.access").handlers:
        handler.flush()
        handler.close()
    for name, (handlers, filters) in saved.items():
        logging.getLogger(name).handlers, logging.getLogger(name).filters = handlers, filters
    written = access_log.read_text() + capsys.readouterr().err
    assert "s3cr3t" not in written
    assert '"GET /ws/?token=[redacted]&spot=1 HTTP/1.1" 404' in written
    assert '"WebSocket /ws/?access_token=[redacted]" [accepted]' in written


def test_the_server_is_chosen_on_the_command_line():
    import pytest

    from apps.websocket_gateway import serve

    assert serve.DEFAULT_SERVER == "uvicorn"
    with pytest.raises(SystemExit):
        serve.main(["--server", "gunicorn", "gpubroker.asgi:application"])
