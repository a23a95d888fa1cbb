"""Provider integrations through both facades: encrypted keys, validation through the adapter,
status listing without secrets, tenant isolation, audit log, and the sync using stored keys."""

from __future__ import annotations

import json

import httpx
import pytest
from cryptography.fernet import Fernet

from apps.auth_app.audit import verify_chain
from apps.auth_app.crypto import decrypt_str
from apps.auth_app.models import AuditLog, User
from apps.providers.integrations import catalogue_key
from apps.providers.models import ProviderIntegration
from apps.providers.sync import sync_provider
from apps.providers.sync_sources import use_transport
from tests.auth_fixtures import bearer
from tests.graphql_client import run_operation

from .helpers import FakeProvider, ok

pytestmark = pytest.mark.django_db

URL = "/api/v2/config/integrations"
KEY = "secret_lambda_4c1f9a7e2b"
TYPES = "/api/v1/instance-types"


@pytest.fixture
def lambda_api():
    """Lambda's API at the network edge; accepts only KEY (and NEW_KEY when asked)."""
    accepted = {KEY}

    def instance_types(request: httpx.Request) -> httpx.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token in accepted:
            return ok("lambda/instance_types.json")
        return ok("lambda/invalid_key.json", status=401)

    fake = FakeProvider().on("GET", TYPES, instance_types)
    fake.accepted = accepted  # type: ignore[attr-defined]
    with use_transport("lambda", fake.transport):
        yield fake


def post(client, user, body):
    return client.post(URL, data=json.dumps(body), content_type="application/json", **bearer(user))


def lambda_row(rows):
    return next(r for r in rows if r["provider"] == "lambda")


def test_anonymous_callers_are_refused_on_both_facades(client):
    response = client.get(URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    data = run_operation(client, "IntegrationList")
    assert data["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_save_lists_status_and_never_returns_the_key(client, tenant_admin, user, lambda_api):
    before = client.get(URL, **bearer(tenant_admin)).json()
    assert [r["provider"] for r in before] == [
        "azure",
        "cudo",
        "datacrunch",
        "digitalocean",
        "hotaisle",
        "jarvislabs",
        "lambda",
        "oci",
        "runpod",
        "shadeform",
        "tensordock",
        "vastai",
        "vultr",
    ]
    assert all(not r["configured"] and r["status"] is None for r in before)
    assert lambda_row(before)["requires_api_key"] is True

    response = post(client, tenant_admin, {"provider": "lambda", "api_key": KEY})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["provider"], body["configured"], body["status"], body["scope"]) == (
        "lambda",
        True,
        "valid",
        "tenant",
    )
    assert body["last_validated_at"] and body["last_error"] == ""
    assert KEY not in response.content.decode()
    assert lambda_api.requests[-1].headers["Authorization"] == f"Bearer {KEY}"

    stored = ProviderIntegration.objects.get()
    assert KEY not in stored.encrypted_api_key and decrypt_str(stored.encrypted_api_key) == KEY
    assert stored.tenant_id == tenant_admin.tenant_id and stored.created_by == tenant_admin

    member_view = client.get(URL, **bearer(user))  # every member sees the organisation's status
    assert lambda_row(member_view.json())["status"] == "valid"
    assert KEY not in member_view.content.decode()

    gql = run_operation(client, "IntegrationList", **bearer_kwargs(user))
    assert "errors" not in gql
    rows = gql["data"]["integrations"]
    assert lambda_row(rows)["status"] == "VALID" and lambda_row(rows)["id"] == body["id"]
    assert KEY not in json.dumps(gql)

    entry = AuditLog.objects.get(action="integration.created")
    assert (entry.tenant_id, entry.user_id, entry.resource_id) == (
        tenant_admin.tenant_id,
        tenant_admin.pk,
        str(stored.pk),
    )
    assert entry.details == {"provider": "lambda", "status": "valid", "use_for_catalogue": True}
    assert KEY not in json.dumps(entry.details)
    assert verify_chain(entry.chain) is None


def bearer_kwargs(user) -> dict:
    return {"token": bearer(user)["HTTP_AUTHORIZATION"].removeprefix("Bearer ")}


def test_replacing_a_key_is_200_and_audited(client, tenant_admin, lambda_api):
    assert post(client, tenant_admin, {"provider": "lambda", "api_key": KEY}).status_code == 201
    lambda_api.accepted.add("secret_lambda_rotated_01")
    response = post(
        client,
        tenant_admin,
        {"provider": "lambda", "api_key": "secret_lambda_rotated_01", "use_for_catalogue": False},
    )
    assert response.status_code == 200 and response.json()["use_for_catalogue"] is False
    stored = ProviderIntegration.objects.get()
    assert decrypt_str(stored.encrypted_api_key) == "secret_lambda_rotated_01"
    assert AuditLog.objects.filter(action="integration.replaced").count() == 1


def test_a_key_the_provider_refuses_is_not_stored(client, tenant_admin, lambda_api):
    response = post(client, tenant_admin, {"provider": "lambda", "api_key": "wrong_key_123"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and error["details"][0]["field"] == "api_key"
    assert not ProviderIntegration.objects.exists()
    assert AuditLog.objects.filter(action="integration.rejected").count() == 1

    gql = run_operation(
        client,
        "SaveIntegration",
        {"input": {"provider": "lambda", "apiKey": "wrong_key_123"}},
        **bearer_kwargs(tenant_admin),
    )
    payload = gql["data"]["saveIntegration"]
    assert payload["integration"] is None
    assert payload["errors"] == [
        {
            "field": "api_key",
            "message": "The provider rejected this API key.",
            "code": "KEY_REJECTED",
        }
    ]


def test_an_unreachable_provider_stores_the_key_unverified(client, tenant_admin):
    down = FakeProvider().on("GET", "/v1/instances", httpx.Response(503))
    with use_transport("shadeform", down.transport):
        response = post(client, tenant_admin, {"provider": "shadeform", "api_key": "sf_key_123456"})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "unverified" and body["last_validated_at"] is None
    assert body["last_error"].startswith("Could not reach the provider")
    assert len(down.requests) > 1  # validation retried before giving up


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"provider": "nosuch", "api_key": KEY}, "provider"),
        ({"provider": "lambda", "api_key": "short"}, "api_key"),
        ({"provider": "lambda", "api_key": "has spaces in it"}, "api_key"),
        ({"provider": "lambda"}, "api_key"),
        ({"provider": "lambda", "api_key": "x" * 600}, "api_key"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client, tenant_admin, body, field):
    response = post(client, tenant_admin, body)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == field
    assert not ProviderIntegration.objects.exists()


def test_graphql_bad_input_is_a_field_error(client, tenant_admin):
    gql = run_operation(
        client,
        "SaveIntegration",
        {"input": {"provider": "nosuch", "apiKey": KEY}},
        **bearer_kwargs(tenant_admin),
    )
    [error] = gql["data"]["saveIntegration"]["errors"]
    assert (error["field"], error["code"]) == ("provider", "UNKNOWN_PROVIDER")


def test_only_tenant_admins_change_an_organisations_keys(client, user, lambda_api):
    response = post(client, user, {"provider": "lambda", "api_key": KEY})
    assert response.status_code == 403 and response.json()["error"]["code"] == "FORBIDDEN"
    gql = run_operation(
        client,
        "SaveIntegration",
        {"input": {"provider": "lambda", "apiKey": KEY}},
        **bearer_kwargs(user),
    )
    assert gql["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert lambda_api.requests == []  # refused before any call to the provider
    assert not ProviderIntegration.objects.exists()


def test_tenants_never_see_or_touch_each_others_integrations(
    client, tenant_admin, other_tenant_user, lambda_api
):
    post(client, tenant_admin, {"provider": "lambda", "api_key": KEY})
    theirs = client.get(URL, **bearer(other_tenant_user)).json()
    assert not lambda_row(theirs)["configured"]
    for response in (
        client.delete(f"{URL}/lambda", **bearer(other_tenant_user)),
        client.post(f"{URL}/lambda/validate", **bearer(other_tenant_user)),
    ):
        assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"
    gql = run_operation(
        client, "DeleteIntegration", {"provider": "lambda"}, **bearer_kwargs(other_tenant_user)
    )
    assert gql["data"]["deleteIntegration"]["ok"] is False
    assert gql["data"]["deleteIntegration"]["errors"][0]["code"] == "NOT_CONFIGURED"
    assert ProviderIntegration.objects.count() == 1


def test_users_without_an_organisation_have_personal_integrations(client, lambda_api):
    loner = User.objects.create_user(
        email="solo@example.com", password="correct horse battery staple 42", full_name="Solo"
    )
    response = post(client, loner, {"provider": "lambda", "api_key": KEY})
    assert response.status_code == 201 and response.json()["scope"] == "user"
    stored = ProviderIntegration.objects.get()
    assert (stored.tenant_id, stored.user_id) == (None, loner.pk)


def test_revalidate_and_delete(client, tenant_admin, lambda_api):
    post(client, tenant_admin, {"provider": "lambda", "api_key": KEY})
    lambda_api.accepted.clear()  # the key was revoked at Lambda
    response = client.post(f"{URL}/lambda/validate", **bearer(tenant_admin))
    assert response.status_code == 200
    assert response.json()["status"] == "invalid"
    assert response.json()["last_error"] == "The provider rejected this API key."

    lambda_api.accepted.add(KEY)
    gql = run_operation(
        client, "ValidateIntegration", {"provider": "lambda"}, **bearer_kwargs(tenant_admin)
    )
    assert gql["data"]["validateIntegration"]["integration"]["status"] == "VALID"

    deleted = client.delete(f"{URL}/lambda", **bearer(tenant_admin))
    assert deleted.status_code == 204
    assert not ProviderIntegration.objects.exists()
    assert client.delete(f"{URL}/lambda", **bearer(tenant_admin)).status_code == 404
    actions = list(
        AuditLog.objects.filter(action__startswith="integration.").values_list("action", flat=True)
    )
    assert actions == [
        "integration.created",
        "integration.validated",
        "integration.validated",
        "integration.deleted",
    ]


def test_graphql_and_rest_agree(client, tenant_admin, lambda_api):
    gql = run_operation(
        client,
        "SaveIntegration",
        {"input": {"provider": "lambda", "apiKey": KEY, "useForCatalogue": False}},
        **bearer_kwargs(tenant_admin),
    )
    saved = gql["data"]["saveIntegration"]
    assert saved["created"] is True and saved["errors"] == []
    rest = lambda_row(client.get(URL, **bearer(tenant_admin)).json())
    graph = lambda_row(
        run_operation(client, "IntegrationList", **bearer_kwargs(tenant_admin))["data"][
            "integrations"
        ]
    )
    assert rest["id"] == graph["id"] == saved["integration"]["id"]
    assert (rest["status"], rest["scope"], rest["use_for_catalogue"]) == ("valid", "tenant", False)
    assert (graph["status"], graph["scope"], graph["useForCatalogue"]) == ("VALID", "TENANT", False)
    deleted = run_operation(
        client, "DeleteIntegration", {"provider": "lambda"}, **bearer_kwargs(tenant_admin)
    )
    assert deleted["data"]["deleteIntegration"] == {"ok": True, "errors": []}


def test_the_sync_uses_a_stored_key_and_marks_it_when_refused(client, tenant_admin, lambda_api):
    assert sync_provider("lambda").error_code == "auth_failed"  # nothing configured yet
    post(client, tenant_admin, {"provider": "lambda", "api_key": KEY})
    report = sync_provider("lambda")
    assert report.ok and report.offers == 3
    assert lambda_api.requests[-1].headers["Authorization"] == f"Bearer {KEY}"

    lambda_api.accepted.clear()  # revoked at Lambda between two syncs
    failed = sync_provider("lambda")
    assert failed.status == "failed" and failed.error_code == "auth_failed"
    stored = ProviderIntegration.objects.get()
    assert stored.status == "invalid" and stored.last_error.startswith("Refused during a catalogue")
    assert catalogue_key("lambda") is None  # not used again until re-validated


def test_the_sync_respects_the_owners_choice_and_prefers_the_platform_key(
    client, tenant_admin, lambda_api, monkeypatch
):
    post(client, tenant_admin, {"provider": "lambda", "api_key": KEY, "use_for_catalogue": False})
    assert catalogue_key("lambda") is None
    assert sync_provider("lambda").error_code == "auth_failed"

    lambda_api.accepted.add("platform_key_0001")
    monkeypatch.setenv("GPUBROKER_LAMBDA_API_KEY", "platform_key_0001")
    assert sync_provider("lambda").ok
    assert lambda_api.requests[-1].headers["Authorization"] == "Bearer platform_key_0001"


def test_encryption_keys_rotate(client, tenant_admin, lambda_api, settings):
    from apps.auth_app.crypto import _fernet

    old = [Fernet.generate_key().decode()]
    settings.FIELD_ENCRYPTION_KEYS = old
    post(client, tenant_admin, {"provider": "lambda", "api_key": KEY})
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *old]  # new key first
    readable = catalogue_key("lambda")  # still readable under the old key
    assert readable is not None and readable.api_key == KEY
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # old key dropped
    assert catalogue_key("lambda") is None
    response = client.post(f"{URL}/lambda/validate", **bearer(tenant_admin))
    assert response.json()["status"] == "invalid"
    assert "cannot be decrypted" in response.json()["last_error"]
    _fernet.cache_clear()
