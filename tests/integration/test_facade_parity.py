"""The same bad input, sent to the REST and the GraphQL form of a capability, is refused with the
same field and the same code (the rule lives once, in the service). ``tenant_admin`` is
``admin@acme.example``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from apps.auth_app.models import User
from apps.auth_app.services import issue_tokens
from tests.graphql_client import run_operation

LONG = "x" * 5000


@dataclass(frozen=True)
class Case:
    rest_path: str
    rest_body: dict[str, Any]
    operation: str
    variables: dict[str, Any]
    expected: tuple[str, str]
    signed_in: bool = False


REGISTER = {"email": "new@example.com", "password": "a long enough passphrase", "full_name": "N"}


def _register_gql(**overrides: Any) -> dict[str, Any]:
    body = {**REGISTER, **overrides}
    gql = {"email": body["email"], "password": body["password"], "fullName": body["full_name"]}
    if "organization" in body:
        gql["organization"] = body["organization"]
    return {"input": gql}


CASES = {
    "register: 5,000-character password": Case(
        "/api/v2/auth/register",
        {**REGISTER, "password": LONG},
        "Register",
        _register_gql(password=LONG),
        ("password", "VALIDATION_ERROR"),
    ),
    "register: 300-character organisation (was cut on GraphQL)": Case(
        "/api/v2/auth/register",
        {**REGISTER, "organization": "o" * 300},
        "Register",
        _register_gql(organization="o" * 300),
        ("organization", "VALIDATION_ERROR"),
    ),
    "register: 300-character name": Case(
        "/api/v2/auth/register",
        {**REGISTER, "full_name": "n" * 300},
        "Register",
        _register_gql(full_name="n" * 300),
        ("full_name", "VALIDATION_ERROR"),
    ),
    "register: 300-character email": Case(
        "/api/v2/auth/register",
        {**REGISTER, "email": "e" * 290 + "@example.com"},
        "Register",
        _register_gql(email="e" * 290 + "@example.com"),
        ("email", "VALIDATION_ERROR"),
    ),
    "register: weak password": Case(
        "/api/v2/auth/register",
        {**REGISTER, "password": "short"},
        "Register",
        _register_gql(password="short"),
        ("password", "PASSWORD_REJECTED"),
    ),
    "register: email taken": Case(
        "/api/v2/auth/register",
        {**REGISTER, "email": "ADMIN@acme.example"},
        "Register",
        _register_gql(email="Admin@Acme.example"),
        ("email", "EMAIL_TAKEN"),
    ),
    "login: 5,000-character password": Case(
        "/api/v2/auth/login",
        {"email": "sam@example.com", "password": LONG},
        "Login",
        {"email": "sam@example.com", "password": LONG},
        ("password", "VALIDATION_ERROR"),
    ),
    "refresh: oversized token": Case(
        "/api/v2/auth/refresh",
        {"refresh_token": "t" * 9000},
        "RefreshToken",
        {"refreshToken": "t" * 9000},
        ("refresh_token", "VALIDATION_ERROR"),
    ),
    "logout: oversized refresh token": Case(
        "/api/v2/auth/logout",
        {"refresh_token": "t" * 9000},
        "Logout",
        {"refreshToken": "t" * 9000},
        ("refresh_token", "VALIDATION_ERROR"),
    ),
    "MFA sign-in: oversized challenge": Case(
        "/api/v2/auth/mfa/verify",
        {"mfa_token": "t" * 9000, "code": "123456"},
        "VerifyMfaLogin",
        {"mfaToken": "t" * 9000, "code": "123456"},
        ("mfa_token", "VALIDATION_ERROR"),
    ),
    "invitation: 300-character email": Case(
        "/api/v2/auth/invitations",
        {"email": "e" * 290 + "@example.com"},
        "CreateInvitation",
        {"email": "e" * 290 + "@example.com"},
        ("email", "VALIDATION_ERROR"),
        signed_in=True,
    ),
    "integration: 60-character provider": Case(
        "/api/v2/config/integrations",
        {"provider": "p" * 60, "api_key": "a-key-123456"},
        "SaveIntegration",
        {"input": {"provider": "p" * 60, "apiKey": "a-key-123456"}},
        ("provider", "VALIDATION_ERROR"),
        signed_in=True,
    ),
    "integration: unknown provider": Case(
        "/api/v2/config/integrations",
        {"provider": "nosuch", "api_key": "a-key-123456"},
        "SaveIntegration",
        {"input": {"provider": "nosuch", "apiKey": "a-key-123456"}},
        ("provider", "UNKNOWN_PROVIDER"),
        signed_in=True,
    ),
    "integration: 600-character key": Case(
        "/api/v2/config/integrations",
        {"provider": "lambda", "api_key": "k" * 600},
        "SaveIntegration",
        {"input": {"provider": "lambda", "apiKey": "k" * 600}},
        ("api_key", "VALIDATION_ERROR"),
        signed_in=True,
    ),
    "integration: key with spaces": Case(
        "/api/v2/config/integrations",
        {"provider": "lambda", "api_key": "has spaces in it"},
        "SaveIntegration",
        {"input": {"provider": "lambda", "apiKey": "has spaces in it"}},
        ("api_key", "KEY_INVALID"),
        signed_in=True,
    ),
    "interaction: offer id that is no UUID": Case(
        "/api/v2/math/interactions",
        {"offer_id": "o" * 100, "kind": "view"},
        "RecordInteraction",
        {"input": {"offerId": "o" * 100, "kind": "VIEW"}},
        ("offer_id", "VALIDATION_ERROR"),
        signed_in=True,
    ),
}


def _rest(client, case: Case, headers: dict[str, str]) -> tuple[str, str]:
    response = client.post(
        case.rest_path, data=json.dumps(case.rest_body), content_type="application/json", **headers
    )
    assert 400 <= response.status_code < 500, response.content
    error = response.json()["error"]
    assert error["details"], error
    return error["details"][0]["field"], error["details"][0]["code"]


def _graphql(client, case: Case, token: str | None) -> tuple[str, str]:
    out = run_operation(client, case.operation, case.variables, token=token)
    assert "errors" not in out, out
    (payload,) = out["data"].values()
    assert payload["errors"], payload
    return payload["errors"][0]["field"], payload["errors"][0]["code"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_refused_alike_on_both_facades(client, tenant_admin, name):
    case = CASES[name]
    token = issue_tokens(tenant_admin)["access_token"] if case.signed_in else None
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    users_before = User.objects.count()
    assert _rest(client, case, headers) == case.expected
    assert _graphql(client, case, token) == case.expected
    assert User.objects.count() == users_before  # nothing was created on either side
