"""No secret reaches a log (issue 11): a password written inline in a GraphQL document reached
the log through the validation-error logger; in development a non-Bearer ``Authorization``
header was logged verbatim. Secrets are sent in every place a client can put them and the
captured log lines — formatted by the project's JSON formatter, extras included — are grepped."""

from __future__ import annotations

import json
import logging

import pytest
from pythonjsonlogger.json import JsonFormatter

from tests.auth_fixtures import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

SECRETS = {
    "literal": "hunter2-inline-literal-9f3",
    "variable": "hunter2-variable-value-7a1",
    "basic": "YWRtaW46aHVudGVyMi1iYXNpYy0zYzI=",
    "token_header": "hunter2-token-scheme-5d8",
    "api_key_header": "hunter2-x-api-key-2e6",
    "query_string": "hunter2-query-string-8b4",
    "body": "hunter2-rest-body-1c9",
    "api_key_body": "hunter2-integration-key-4f7",
}


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.formatter_ = JsonFormatter("%(levelname)s %(name)s %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.formatter_.format(record))
        if record.exc_info:
            self.lines.append(logging.Formatter().formatException(record.exc_info))


@pytest.fixture
def captured():
    handler = _Capture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old_level)


def gql(client, query, variables=None, **headers):
    return client.post(
        "/graphql/",
        data=json.dumps({"query": query, "variables": variables or {}}),
        content_type="application/json",
        **headers,
    )


@pytest.mark.parametrize("debug", [False, True])
def test_secrets_sent_everywhere_never_reach_the_log(client, user, captured, settings, debug):
    settings.DEBUG = debug  # development logged a non-Bearer Authorization header verbatim
    settings.GRAPHQL_TRUSTED_DOCUMENTS = "audit"  # unknown documents are logged: by id only
    # 1. A password inline in a document with a validation error, and one that parses badly.
    gql(
        client,
        f'mutation {{ login(email: "{user.email}", password: "{SECRETS["literal"]}", '
        "nope: 1) { errors { message } } }",
    )
    gql(client, f'mutation {{ login(email: "{user.email}", password: "{SECRETS["literal"]}" ')
    gql(
        client,
        f'mutation {{ login(email: "{user.email}", password: 42) {{ errors {{ message }} }} }}'
        f" # {SECRETS['literal']}",
    )
    # 2. Variables, of the wrong type and of the right one (a failed sign-in).
    login_doc = (
        "mutation($e: String!, $p: String!) { login(email: $e, password: $p) "
        "{ errors { message } } }"
    )
    gql(client, login_doc, {"e": user.email, "p": SECRETS["variable"]})
    gql(client, login_doc, {"e": user.email, "p": {"nested": SECRETS["variable"]}})
    # 3. Headers: non-Bearer schemes, a Bearer that is not a token, an API-key header.
    for value in (
        f"Basic {SECRETS['basic']}",
        f"Token {SECRETS['token_header']}",
        f"Bearer {SECRETS['token_header']}",
    ):
        client.get("/api/v2/auth/me", HTTP_AUTHORIZATION=value)
        gql(client, "{ me { id } }", HTTP_AUTHORIZATION=value)
    client.get("/api/v2/math/benchmarks", HTTP_X_API_KEY=SECRETS["api_key_header"])
    # 4. Query strings.
    client.get(f"/api/v2/auth/me?token={SECRETS['query_string']}")
    client.get(f"/graphql/?query={{me{{id}}}}&token={SECRETS['query_string']}")
    client.get(f"/api/v2/nope?api_key={SECRETS['query_string']}")
    # 5. Bodies: REST sign-in, an unparsable body, an integration key.
    for body in (
        json.dumps({"email": user.email, "password": SECRETS["body"]}),
        '{"email": "x", "password": "' + SECRETS["body"] + '"',
    ):
        client.post("/api/v2/auth/login", data=body, content_type="application/json")
    from apps.auth_app.services import issue_tokens

    token = issue_tokens(user)["access_token"]
    client.post(
        "/api/v2/config/integrations",
        data=json.dumps({"provider": "no-such-provider", "api_key": SECRETS["api_key_body"]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    # A successful sign-in, for good measure.
    client.post(
        "/api/v2/auth/login",
        data=json.dumps({"email": user.email, "password": DEFAULT_PASSWORD}),
        content_type="application/json",
        REMOTE_ADDR="198.51.100.1",
    )
    text = "\n".join(captured.lines)
    assert captured.lines, "nothing was logged: the capture is not working"
    leaked = {name: secret for name, secret in SECRETS.items() if secret in text}
    assert leaked == {}, [
        line for line in captured.lines if any(s in line for s in leaked.values())
    ]
    assert DEFAULT_PASSWORD not in text and token not in text
