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
