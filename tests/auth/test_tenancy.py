"""Invitations, roles and tenant isolation of every private object type (audit entries,
invitations, sessions), on REST and GraphQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.auth_app import services
from apps.auth_app.models import AuditLog, AuthSession, Invitation, Role
from tests.auth.helpers import PASSWORD, post
from tests.auth_fixtures import bearer
from tests.graphql_client import run_operation


def _invite_rest(client, admin, email="new@acme.example", role="member"):
    return post(client, "/api/v2/auth/invitations", {"email": email, "role": role}, **bearer(admin))


@pytest.mark.django_db
def test_admin_invites_and_the_invitee_joins_with_the_role(client, tenant_admin):
    created = _invite_rest(client, tenant_admin, role="tenant_admin")
    assert created.status_code == 201, created.content
    invitation = created.json()
    stored = Invitation.objects.get()
    assert invitation["token"] not in stored.token_hash
    joined = post(
        client,
        "/api/v2/auth/register",
        {
            "email": "NEW@acme.example",
            "password": PASSWORD,
            "full_name": "Newcomer",
            "invitation_token": invitation["token"],
        },
    )
    assert joined.status_code == 201, joined.content
    assert joined.json()["tenant"]["id"] == str(tenant_admin.tenant_id)
    assert joined.json()["role"] == Role.TENANT_ADMIN
    stored.refresh_from_db()
    assert stored.accepted_at is not None
    assert stored.accepted_by is not None and stored.accepted_by.email == "new@acme.example"
    assert AuditLog.objects.filter(action="invitation.created", tenant=tenant_admin.tenant).exists()


@pytest.mark.django_db
def test_graphql_invitation_and_join(client, tenant_admin):
    token = services.issue_tokens(tenant_admin)["access_token"]
    created = run_operation(client, "CreateInvitation", {"email": "g@acme.example"}, token=token)
    payload = created["data"]["createInvitation"]
    assert payload["errors"] == [] and payload["invitation"]["role"] == "MEMBER"
    joined = run_operation(
        client,
        "Register",
        {
            "input": {
                "email": "g@acme.example",
                "password": PASSWORD,
                "fullName": "G",
                "invitationToken": payload["token"],
            }
        },
    )["data"]["register"]
    assert joined["errors"] == []
    assert joined["user"]["tenant"]["id"] == str(tenant_admin.tenant_id)
    listed = run_operation(client, "Invitations", token=token)["data"]["invitations"]
    assert [item["email"] for item in listed] == ["g@acme.example"]
    assert listed[0]["acceptedAt"] is not None


@pytest.mark.django_db
@pytest.mark.parametrize("problem", ["reused", "other email", "expired", "garbage"])
def test_bad_invitations_are_422_on_both_facades(client, tenant_admin, problem):
    token = _invite_rest(client, tenant_admin).json()["token"]
    email = "new@acme.example"
    if problem == "reused":
        post(
            client,
            "/api/v2/auth/register",
            {"email": email, "password": PASSWORD, "full_name": "A", "invitation_token": token},
        )
        email = "second@acme.example"
    elif problem == "other email":
        email = "intruder@evil.example"
    elif problem == "expired":
        Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    else:
        token = "not-a-real-invitation-token"
    rest = post(
        client,
        "/api/v2/auth/register",
        {"email": email, "password": PASSWORD, "full_name": "B", "invitation_token": token},
    )
    assert rest.status_code == 422
    assert rest.json()["error"]["details"][0]["field"] == "invitation_token"
    gql = run_operation(
        client,
        "Register",
        {
            "input": {
                "email": email,
                "password": PASSWORD,
                "fullName": "B",
                "invitationToken": token,
            }
        },
    )["data"]["register"]
    assert gql["errors"][0]["field"] == "invitation_token"


@pytest.mark.django_db
def test_only_tenant_admins_invite(client, user):
    member = _invite_rest(client, user)
    assert member.status_code == 403
    assert member.json()["error"]["code"] == "FORBIDDEN"
    anonymous = post(client, "/api/v2/auth/invitations", {"email": "x@acme.example"})
    assert anonymous.status_code == 401
    token = services.issue_tokens(user)["access_token"]
    gql = run_operation(client, "CreateInvitation", {"email": "x@acme.example"}, token=token)
    assert gql["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (
        run_operation(client, "Invitations", token=token)["errors"][0]["extensions"]["code"]
        == "FORBIDDEN"
    )
    assert Invitation.objects.count() == 0


@pytest.mark.django_db
def test_inviting_an_existing_account_is_a_conflict(client, tenant_admin, other_tenant_user):
    response = _invite_rest(client, tenant_admin, email=other_tenant_user.email)
    assert response.status_code == 409


# --- isolation ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_invitations_are_tenant_isolated(client, tenant_admin, other_tenant_user):
    _invite_rest(client, tenant_admin, email="acme-secret@acme.example")
    _invite_rest(client, other_tenant_user, email="globex-hire@globex.example")
    acme = client.get("/api/v2/auth/invitations", **bearer(tenant_admin)).json()
    globex = client.get("/api/v2/auth/invitations", **bearer(other_tenant_user)).json()
    assert [i["email"] for i in acme] == ["acme-secret@acme.example"]
    assert [i["email"] for i in globex] == ["globex-hire@globex.example"]
    token = services.issue_tokens(other_tenant_user)["access_token"]
    gql = run_operation(client, "Invitations", token=token)["data"]["invitations"]
    assert [i["email"] for i in gql] == ["globex-hire@globex.example"]


@pytest.mark.django_db
def test_audit_log_is_tenant_isolated(client, user, tenant_admin, other_tenant_user):
    post(client, "/api/v2/auth/login", {"email": user.email, "password": "wrong password!"})
    post(
        client, "/api/v2/auth/login", {"email": other_tenant_user.email, "password": "wrong again!"}
    )
    acme = client.get("/api/v2/auth/audit-log", **bearer(tenant_admin)).json()["items"]
    globex = client.get("/api/v2/auth/audit-log", **bearer(other_tenant_user)).json()["items"]
    assert acme and globex
    assert {e["user_id"] for e in acme} == {str(user.pk)}
    assert {e["user_id"] for e in globex} == {str(other_tenant_user.pk)}
    token = services.issue_tokens(other_tenant_user)["access_token"]
    gql = run_operation(client, "AuditLog", token=token)["data"]["auditLog"]["entries"]
    assert {e["userId"] for e in gql} == {str(other_tenant_user.pk)}
    assert str(user.pk) not in str(gql)


@pytest.mark.django_db
def test_audit_log_needs_a_tenant_admin(client, user):
    assert client.get("/api/v2/auth/audit-log", **bearer(user)).status_code == 403
    assert client.get("/api/v2/auth/audit-log").status_code == 401
    token = services.issue_tokens(user)["access_token"]
    assert (
        run_operation(client, "AuditLog", token=token)["errors"][0]["extensions"]["code"]
        == "FORBIDDEN"
    )
    assert run_operation(client, "AuditLog")["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.django_db
def test_sessions_are_owner_only(client, user, tenant_admin, other_tenant_user):
    services.issue_tokens(user)
    colleague = services.issue_tokens(tenant_admin)
    stranger = services.issue_tokens(other_tenant_user)
    mine = client.get("/api/v2/auth/sessions", **bearer(user)).json()
    assert {s["id"] for s in mine} == {str(s.pk) for s in AuthSession.objects.filter(user=user)}
    assert sum(1 for s in mine if s["current"]) == 1
    their_session = AuthSession.objects.get(user=other_tenant_user)
    colleague_session = AuthSession.objects.get(user=tenant_admin)
    # Not even a tenant admin can revoke a colleague's session; another tenant's is not found.
    for target in (their_session, colleague_session):
        response = client.delete(f"/api/v2/auth/sessions/{target.pk}", **bearer(user))
        assert response.status_code == 404
        gql = run_operation(
            client,
            "RevokeSession",
            {"id": str(target.pk)},
            token=services.issue_tokens(user)["access_token"],
        )
        assert gql["data"]["revokeSession"]["errors"][0]["code"] == "NOT_FOUND"
    assert (
        client.get(
            "/api/v2/auth/me", HTTP_AUTHORIZATION=f"Bearer {stranger['access_token']}"
        ).status_code
        == 200
    )
    assert (
        client.get(
            "/api/v2/auth/me", HTTP_AUTHORIZATION=f"Bearer {colleague['access_token']}"
        ).status_code
        == 200
    )
    token = services.issue_tokens(user)["access_token"]
    gql_sessions = run_operation(client, "MySessions", token=token)["data"]["mySessions"]
    assert {s["id"] for s in gql_sessions} == {
        str(s.pk) for s in AuthSession.objects.filter(user=user)
    }


@pytest.mark.django_db
def test_revoking_own_session_logs_it_out(client, user):
    laptop = services.issue_tokens(user)
    phone_headers = bearer(user)
    laptop_session = AuthSession.objects.order_by("created_at")[0]
    response = client.delete(f"/api/v2/auth/sessions/{laptop_session.pk}", **phone_headers)
    assert response.status_code == 204
    assert (
        client.get(
            "/api/v2/auth/me", HTTP_AUTHORIZATION=f"Bearer {laptop['access_token']}"
        ).status_code
        == 401
    )
    assert client.get("/api/v2/auth/me", **phone_headers).status_code == 200
    bad = run_operation(
        client, "RevokeSession", {"id": "nope"}, token=phone_headers["HTTP_AUTHORIZATION"][7:]
    )
    assert bad["data"]["revokeSession"]["errors"][0]["field"] == "id"
