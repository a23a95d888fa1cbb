"""GraphQL-over-HTTP request-level errors, trusted documents and production defaults
(issue 11: each failure listed in the issue is reproduced here)."""

from __future__ import annotations

import json
import logging

import pytest
from django.core.management import call_command
from graphql.language import OperationDefinitionNode

from graphql import parse
from schema import trusted_documents
from schema.trusted_documents import build_manifest, document_id, operation_documents
from tests.graphql_client import OPERATIONS_DIR

pytestmark = pytest.mark.django_db
GQL_JSON = "application/graphql-response+json"


def post(client, body, content_type="application/json", **headers):
    raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post("/graphql/", data=raw, content_type=content_type, **headers)


def assert_request_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == GQL_JSON
    body = response.json()
    assert list(body) == ["errors"]
    assert body["errors"][0]["extensions"]["code"] == code
    assert body["errors"][0]["extensions"]["traceId"] == response["X-Trace-Id"]
    assert "Traceback" not in response.content.decode()
    return body["errors"][0]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("{not json", "JSON"),
        ('[{"query": "{ providers { name } }"}, {"query": "{ providers { name } }"}]', "Batching"),
        ("42", "JSON object"),
        ('"hello"', "JSON object"),
        ("null", "JSON object"),
        ('{"query": "{ providers { name } }", "variables": [1, 2]}', "variables"),
        ('{"query": "{ providers { name } }", "variables": "x"}', "variables"),
        ('{"query": 7}', "query"),
        ('{"query": "{ providers { name } }", "operationName": 3}', "operationName"),
        ("{}", "No GraphQL query"),
    ],
)
def test_malformed_requests_are_graphql_json_400(client, raw, fragment):
    error = assert_request_error(post(client, raw), 400, "BAD_REQUEST")
    assert fragment in error["message"]


def test_unsupported_content_type_is_415_json(client):
    response = post(client, "query=x", content_type="text/plain")
    assert_request_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_wrong_method_is_405_json_with_allow(client):
    response = client.put("/graphql/", data="{}", content_type="application/json")
    assert_request_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response["Allow"] == "GET, POST"


def test_body_over_the_limit_is_413_json(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    query = "{ providers { name } }" + " " * 2000
    response = post(client, {"query": query})
    error = assert_request_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert "1000 bytes" in error["message"]


def test_executed_operations_keep_200_and_negotiate_the_media_type(client):
    plain = post(client, {"query": "{ providers { name } }"})
    assert plain.status_code == 200 and plain["Content-Type"] == "application/json"
    negotiated = post(client, {"query": "{ providers { name } }"}, HTTP_ACCEPT=GQL_JSON)
    assert negotiated.status_code == 200 and negotiated["Content-Type"] == GQL_JSON
    assert negotiated.json()["data"] == {"providers": []}


# --- production defaults ---------------------------------------------------------------------


def test_introspection_is_refused_unless_enabled(client, settings):
    refused = post(client, {"query": "{ __schema { queryType { name } } }"}).json()
    assert refused["data"] is None
    assert "introspection" in refused["errors"][0]["message"].lower()
    settings.GRAPHQL_INTROSPECTION = True
    allowed = post(client, {"query": "{ __schema { queryType { name } } }"}).json()
    assert allowed["data"] == {"__schema": {"queryType": {"name": "Query"}}}


def test_typename_stays_available_without_introspection(client):
    body = post(client, {"query": "{ __typename }"}).json()
    assert body == {"data": {"__typename": "Query"}} or body["data"] == {"__typename": "Query"}


def test_field_suggestions_are_hidden_unless_enabled(client, settings):
    query = {"query": "{ offers(first: 1) { totlCount } }"}
    hidden = post(client, query).json()["errors"][0]["message"]
    assert "Did you mean" not in hidden and "Cannot query field 'totlCount'" in hidden
    settings.GRAPHQL_FIELD_SUGGESTIONS = True
    shown = post(client, query).json()["errors"][0]["message"]
    assert "Did you mean" in shown


def test_enum_coercion_suggestions_are_hidden(client):
    body = post(
        client,
        {
            "query": "query($s: ProviderStatus) { providers(status: $s) { name } }",
            "variables": {"s": "ACTIVEE"},
        },
    ).json()
    assert body["errors"] and "Did you mean" not in body["errors"][0]["message"]


def test_graphiql_is_off_unless_enabled(client, settings):
    response = client.get("/graphql/", HTTP_ACCEPT="text/html")
    assert_request_error(response, 404, "NOT_FOUND")
    settings.GRAPHQL_GRAPHIQL = True
    assert b"graphiql" in client.get("/graphql/", HTTP_ACCEPT="text/html").content.lower()


def test_production_settings_default_to_the_hardened_values():
    from gpubroker.settings import base

    assert base.GRAPHQL_INTROSPECTION is False
    assert base.GRAPHQL_FIELD_SUGGESTIONS is False
    assert base.GRAPHQL_GRAPHIQL is False


# --- trusted documents -----------------------------------------------------------------------


def test_manifest_covers_every_operation_with_self_contained_documents():
    manifest = build_manifest(OPERATIONS_DIR)
    names = set()
    for doc_id, text in manifest.items():
        assert doc_id == document_id(text) and doc_id.startswith("sha256:") and len(doc_id) == 71
        document = parse(text)  # parses alone: every spread fragment is included
        ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        assert len(ops) == 1
        assert ops[0].name is not None
        names.add(ops[0].name.value)
    expected = operation_documents([parse(p.read_text()) for p in OPERATIONS_DIR.glob("*.graphql")])
    assert names == set(expected) and "OfferSearch" in names


def test_fragment_dependencies_are_followed_transitively():
    docs = [
        parse(
            "query Q { me { ...A } } fragment A on User { ...B } "
            "fragment B on User { id } fragment Unused on User { email }"
        )
    ]
    text = operation_documents(docs)["Q"]
    assert "fragment A" in text and "fragment B" in text and "Unused" not in text


def test_build_trusted_documents_command_writes_the_manifest(tmp_path, settings):
    target = tmp_path / "manifest.json"
    call_command("build_trusted_documents", output=target)
    written = json.loads(target.read_text())
    assert written == build_manifest(OPERATIONS_DIR)


def _providers_doc_id() -> tuple[str, str]:
    manifest = build_manifest(OPERATIONS_DIR)
    for doc_id, text in manifest.items():
        if "query ProviderList" in text:
            return doc_id, text
    raise AssertionError("ProviderList operation missing")


def test_document_id_is_accepted_on_post_and_get(client):
    doc_id, _ = _providers_doc_id()
    by_post = post(client, {"documentId": doc_id, "variables": {}})
    assert by_post.status_code == 200 and by_post.json()["data"] == {"providers": []}
    by_get = client.get("/graphql/", {"documentId": doc_id}, HTTP_ACCEPT="application/json")
    assert by_get.status_code == 200 and by_get.json()["data"] == {"providers": []}


def test_unknown_or_malformed_document_ids_are_refused(client):
    unknown = post(client, {"documentId": "sha256:" + "0" * 64})
    assert_request_error(unknown, 400, "DOCUMENT_NOT_FOUND")
    malformed = post(client, {"documentId": "md5:abc"})
    assert_request_error(malformed, 400, "BAD_REQUEST")
    doc_id, text = _providers_doc_id()
    both = post(client, {"documentId": doc_id, "query": text})
    assert_request_error(both, 400, "BAD_REQUEST")


def test_a_written_manifest_is_what_the_store_serves(client, settings, tmp_path):
    target = tmp_path / "manifest.json"
    custom = "query Only { providers { name } }"
    target.write_text(json.dumps({document_id(custom): custom}))
    settings.GRAPHQL_TRUSTED_DOCUMENTS_MANIFEST = str(target)
    assert len(trusted_documents.store) == 1
    ok = post(client, {"documentId": document_id(custom)})
    assert ok.json()["data"] == {"providers": []}
    doc_id, _ = _providers_doc_id()
    assert_request_error(post(client, {"documentId": doc_id}), 400, "DOCUMENT_NOT_FOUND")


def test_enforce_refuses_unknown_documents_and_accepts_trusted_text(client, settings):
    settings.GRAPHQL_TRUSTED_DOCUMENTS = "enforce"
    refused = post(client, {"query": "{ providers { name } }"})
    assert_request_error(refused, 400, "TRUSTED_DOCUMENT_REQUIRED")
    doc_id, text = _providers_doc_id()
    assert post(client, {"query": text}).json()["data"] == {"providers": []}
    assert post(client, {"documentId": doc_id}).json()["data"] == {"providers": []}


def test_audit_logs_unknown_documents_by_id_only(client, settings, caplog):
    settings.GRAPHQL_TRUSTED_DOCUMENTS = "audit"
    secret_query = "{ providers(status: ACTIVE) { name } } # s3cr3t-literal"
    with caplog.at_level(logging.WARNING, logger="gpubroker.graphql.trusted"):
        response = post(client, {"query": secret_query, "operationName": None})
    assert response.status_code == 200
    records = [r for r in caplog.records if r.name == "gpubroker.graphql.trusted"]
    assert len(records) == 1 and records[0].document_id == document_id(secret_query)
    assert "s3cr3t" not in caplog.text


def test_production_settings_default_to_audit(monkeypatch):
    import importlib
    import sys

    from cryptography.fernet import Fernet

    from apps.auth_app.keys import generate_private_pem

    monkeypatch.setenv("SECRET_KEY", "x" * 50)
    monkeypatch.setenv("ALLOWED_HOSTS", "gpubroker.example")
    monkeypatch.setenv("JWT_PRIVATE_KEY", generate_private_pem(2048))
    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    monkeypatch.delenv("GRAPHQL_TRUSTED_DOCUMENTS", raising=False)
    sys.modules.pop("gpubroker.settings.production", None)
    production = importlib.import_module("gpubroker.settings.production")
    try:
        assert production.GRAPHQL_TRUSTED_DOCUMENTS == "audit"
        assert production.GRAPHQL_INTROSPECTION is False
        assert production.GRAPHQL_GRAPHIQL is False
        assert production.GRAPHQL_FIELD_SUGGESTIONS is False
    finally:
        sys.modules.pop("gpubroker.settings.production", None)
