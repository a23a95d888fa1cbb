"""Registration, sign-in and the password hasher, through both facades."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.hashers import check_password, get_hasher, identify_hasher, make_password

from apps.auth_app.hashers import PasslibArgon2PasswordHasher
from apps.auth_app.models import AuditLog, Role, Tenant, User
from tests.auth.helpers import PASSWORD, post
from tests.auth_fixtures import DEFAULT_PASSWORD
from tests.graphql_client import run_operation


def _register(client, **fields):
    body = {"email": "sam@example.com", "password": PASSWORD, "full_name": "Sam", **fields}
    return post(client, "/api/v2/auth/register", body)


def _gql_register(client, **fields):
    data = {"email": "sam@example.com", "password": PASSWORD, "fullName": "Sam", **fields}
    return run_operation(client, "Register", {"input": data})["data"]["register"]


# --- the hasher -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_passwords_are_argon2id_through_passlib_at_owasp_parameters(make_user):
    user = make_user("hash@example.com")
    assert user.password.startswith("passlib_argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert isinstance(identify_hasher(user.password), PasslibArgon2PasswordHasher)
    assert user.check_password(DEFAULT_PASSWORD)
    assert not user.check_password(DEFAULT_PASSWORD + "x")
    summary = get_hasher().safe_summary(user.password)
    assert summary["memory cost"] == 19456 and summary["time cost"] == 2


@pytest.mark.django_db
def test_weaker_hashes_are_upgraded_on_login(make_user):
    from passlib.hash import argon2

    user = make_user("old@example.com")
    weak = argon2.using(type="ID", memory_cost=8192, time_cost=1, parallelism=1).hash(PASSWORD)
    user.password = "passlib_argon2" + weak
    user.save()
    assert get_hasher().must_update(user.password)
    assert user.check_password(PASSWORD)  # Django's setter re-hashes with current parameters
    user.refresh_from_db()
    assert "m=19456,t=2,p=1" in user.password


def test_legacy_django_hashes_still_verify():
    encoded = make_password(PASSWORD, hasher="pbkdf2_sha256")
    assert check_password(PASSWORD, encoded)


# --- registration ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_register_founds_a_tenant_and_audits_it(client):
    response = _register(client, email="  Sam@Example.COM ", organization="Initech")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["email"] == "sam@example.com"
    assert body["role"] == Role.TENANT_ADMIN
    assert body["tenant"]["name"] == "Initech"
    assert body["tenant"]["plan"] == "free"
    assert (body["tenant"]["rate_limit_rps"], body["tenant"]["ws_limit"]) == (10, 5)
    assert "password" not in json.dumps(body)
    entry = AuditLog.objects.get(action="user.registered")
    assert str(entry.tenant_id) == body["tenant"]["id"]


@pytest.mark.django_db
def test_register_without_organisation_gets_a_personal_tenant(client):
    body = _register(client).json()
    assert body["tenant"]["name"] == "sam@example.com"


@pytest.mark.django_db
def test_duplicate_email_is_a_conflict_case_insensitively(client):
    assert _register(client).status_code == 201
    response = _register(client, email="SAM@example.com")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "CONFLICT"
    assert error["details"] == [
        {"field": "email", "message": error["message"], "code": "EMAIL_TAKEN"}
    ]
    payload = _gql_register(client, email="Sam@Example.com")
    assert payload["user"] is None
    assert payload["errors"] == [
        {"field": "email", "message": error["message"], "code": "EMAIL_TAKEN"}
    ]
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_database_constraint_backs_the_case_insensitive_uniqueness(make_user):
    from django.db import IntegrityError, transaction

    make_user("dup@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.bulk_create([User(email="DUP@example.com", full_name="x")])


@pytest.mark.django_db
def test_existing_organisation_needs_an_invitation(client):
    _register(client, organization="Initech")
    response = _register(client, email="other@example.com", organization="initech")
    assert response.status_code == 409
    assert response.json()["error"]["details"][0]["field"] == "organization"
    assert Tenant.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"password": "short"}, "password", "PASSWORD_REJECTED"),
        ({"password": "1234567890123"}, "password", "PASSWORD_REJECTED"),
        ({"password": "password12345"}, "password", "PASSWORD_REJECTED"),
        ({"password": "sam@example.com"}, "password", "PASSWORD_REJECTED"),
        ({"email": "not-an-email"}, "email", "VALIDATION_ERROR"),
        ({"full_name": "   "}, "full_name", "VALIDATION_ERROR"),
    ],
)
def test_invalid_registration_names_the_field_on_both_facades(client, fields, field, code):
    response = _register(client, **fields)
    assert response.status_code == 422, response.content
    assert response.json()["error"]["details"][0]["field"] == field
    assert response.json()["error"]["details"][0]["code"] == code
    gql_fields = {("fullName" if k == "full_name" else k): v for k, v in fields.items()}
    payload = _gql_register(client, **gql_fields)
    assert payload["user"] is None
    assert payload["errors"][0]["field"] == field
    assert payload["errors"][0]["code"] == code
    assert User.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("missing", ["email", "password", "full_name"])
def test_missing_fields_are_422_naming_the_field(client, missing):
    body = {"email": "a@example.com", "password": PASSWORD, "full_name": "A"}
    del body[missing]
    response = post(client, "/api/v2/auth/register", body)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == missing


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v2/auth/register", "/api/v2/auth/login", "/api/v2/auth/refresh"]
)
def test_malformed_json_is_400(client, path):
    # Unparsable bodies are 400 (issue 11); well-formed but invalid ones stay 422.
    response = client.post(path, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "body"


@pytest.mark.django_db
def test_graphql_missing_argument_is_a_validation_error(client):
    from tests.graphql_client import execute

    result = execute(client, 'mutation { login(email: "a@example.com") { errors { field } } }')
    assert result["data"] is None
    assert "password" in result["errors"][0]["message"]


# --- sign-in --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_wrong_password_and_unknown_email_answer_identically(client, user, monkeypatch):
    wrong = post(client, "/api/v2/auth/login", {"email": user.email, "password": "nope nope nope"})
    unknown = post(client, "/api/v2/auth/login", {"email": "ghost@example.com", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]
    assert wrong.json()["error"]["code"] == unknown.json()["error"]["code"] == "UNAUTHENTICATED"
    g_wrong = run_operation(client, "Login", {"email": user.email, "password": "nope nope"})
    g_unknown = run_operation(client, "Login", {"email": "ghost@example.com", "password": "x"})
    assert g_wrong["data"]["login"]["errors"] == g_unknown["data"]["login"]["errors"]
    assert g_wrong["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"


@pytest.mark.django_db
def test_unknown_email_still_runs_one_argon2_verification(client, monkeypatch):
    calls = []
    original = PasslibArgon2PasswordHasher.verify

    def counting(self, password, encoded):
        calls.append(encoded)
        return original(self, password, encoded)

    monkeypatch.setattr(PasslibArgon2PasswordHasher, "verify", counting)
    post(client, "/api/v2/auth/login", {"email": "ghost@example.com", "password": "whatever"})
    assert len(calls) == 1
    assert "m=19456,t=2,p=1" in calls[0]


@pytest.mark.django_db
def test_login_is_case_insensitive_and_records_success_and_failure(client, user):
    ok = post(
        client, "/api/v2/auth/login", {"email": "USER@Acme.Example", "password": DEFAULT_PASSWORD}
    )
    assert ok.status_code == 200
    post(client, "/api/v2/auth/login", {"email": user.email, "password": "bad password!"})
    actions = list(AuditLog.objects.filter(tenant=user.tenant).values_list("action", flat=True))
    assert actions == ["auth.login", "auth.login_failed"]
    user.refresh_from_db()
    assert user.last_login is not None


@pytest.mark.django_db
def test_inactive_user_cannot_sign_in(client, user):
    user.is_active = False
    user.save()
    response = post(
        client, "/api/v2/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Invalid email or password."


@pytest.mark.django_db
def test_me_on_both_facades_agrees(client, user, auth_header, user_token):
    rest = client.get("/api/v2/auth/me", **auth_header).json()
    gql = run_operation(client, "Me", token=user_token)["data"]["me"]
    assert rest["id"] == gql["id"] == str(user.pk)
    assert rest["email"] == gql["email"]
    assert rest["tenant"]["name"] == gql["tenant"]["name"] == "Acme"
    assert rest["role"] == gql["role"] == "member"
    assert client.get("/api/v2/auth/me").status_code == 401
    assert run_operation(client, "Me")["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
