"""REST: accounts, tokens, MFA, invitations, sessions and the audit log (``/api/v2/auth/``).

Thin: every endpoint calls one function of ``apps.auth_app`` (the same ones GraphQL calls)."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from apps.auth_app import invitations, limits, mfa, selectors, services
from apps.auth_app.middleware import client_ip, optional_principal, request_principal
from apps.auth_app.models import AuthSession, Role, User
from apps.core.text import NOT_BLANK

from .envelope import RequestObject, enforced_by_service
from .security import auth_user, jwt_auth, tenant_admin_auth

router = Router()

Password = Field(..., min_length=1, max_length=limits.MAX_PASSWORD)
Email = Field(..., max_length=limits.MAX_EMAIL, json_schema_extra={"format": "email"})
#: Django's password validators (settings.AUTH_PASSWORD_VALIDATORS): the length and "not only
#: digits" are declared; "not a common password" and "not like your name or address" cannot be.
NewPassword = Field(
    ...,
    max_length=limits.MAX_PASSWORD,
    json_schema_extra=enforced_by_service(minLength=10, pattern=r"\D"),
    description="At least 10 characters, not only digits, not a common password and not "
    "similar to the name or address (422 PASSWORD_REJECTED otherwise).",
)


class RegisterIn(RequestObject):
    email: str = Email
    password: str = NewPassword
    full_name: str = Field(..., min_length=1, max_length=limits.MAX_NAME, pattern=NOT_BLANK)
    organization: str | None = Field(None, max_length=limits.MAX_ORGANIZATION)
    invitation_token: str | None = Field(None, max_length=limits.MAX_INVITATION_TOKEN)


class LoginIn(RequestObject):
    email: str = Email
    password: str = Password


class RefreshIn(RequestObject):
    refresh_token: str = Field(..., max_length=limits.MAX_TOKEN)


class LogoutIn(RequestObject):
    refresh_token: str | None = Field(None, max_length=limits.MAX_TOKEN)


class CodeIn(RequestObject):
    code: str = Field(
        ...,
        max_length=limits.MAX_CODE,
        description="The 6-digit TOTP code (spaces ignored).",
        json_schema_extra=enforced_by_service(pattern=r"^ *([0-9] *){6}$"),
    )


class MfaVerifyIn(CodeIn):
    mfa_token: str = Field(..., max_length=limits.MAX_TOKEN)


class InvitationIn(RequestObject):
    email: str = Email
    role: Role = Role.MEMBER


class TokenOut(Schema):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int


class MfaChallengeOut(Schema):
    mfa_required: bool = True
    mfa_token: str
    expires_in: int


class TenantOut(Schema):
    id: uuid.UUID
    name: str
    plan: str
    rate_limit_rps: int
    ws_limit: int


class UserOut(Schema):
    id: uuid.UUID
    email: str
    full_name: str
    organization: str | None
    role: str
    is_staff: bool
    mfa_enabled: bool
    tenant: TenantOut | None
    created_at: datetime


class MfaEnrolmentOut(Schema):
    secret: str
    otpauth_uri: str


class InvitationOut(Schema):
    id: uuid.UUID
    email: str
    role: str
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None


class InvitationCreatedOut(InvitationOut):
    token: str


class SessionOut(Schema):
    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    ip_address: str | None
    user_agent: str
    revoked_at: datetime | None
    revoked_reason: str
    current: bool = False


class AuditEntryOut(Schema):
    id: uuid.UUID
    sequence: int
    action: str
    resource_type: str
    resource_id: str | None
    user_id: uuid.UUID | None
    details: dict
    ip_address: str | None
    created_at: datetime
    previous_hash: str | None
    current_hash: str


class AuditPageOut(Schema):
    items: list[AuditEntryOut]
    next_cursor: str | None
    has_next_page: bool


class AuditPageQuery(Schema):
    limit: int = Field(50, ge=1, le=selectors.MAX_PAGE)
    cursor: str | None = Field(None, max_length=20)


def _ua(request: HttpRequest) -> str:
    return request.headers.get("User-Agent", "")


@router.post("/register", response={201: UserOut}, summary="Create an account")
def register(request: HttpRequest, body: RegisterIn) -> Status[User]:
    user = services.register(**body.dict(), ip=client_ip(request))
    return Status(201, user)


@router.post("/login", response={200: TokenOut | MfaChallengeOut}, summary="Sign in")
def login(request: HttpRequest, body: LoginIn) -> object:
    result = services.login(
        email=body.email, password=body.password, ip=client_ip(request), user_agent=_ua(request)
    )
    if isinstance(result, services.MfaChallenge):
        return MfaChallengeOut(mfa_token=result.token, expires_in=result.expires_in)
    return result


@router.post("/mfa/verify", response=TokenOut, summary="Second sign-in step: TOTP code")
def mfa_verify(request: HttpRequest, body: MfaVerifyIn) -> object:
    return mfa.verify_login_challenge(
        mfa_token=body.mfa_token, code=body.code, ip=client_ip(request), user_agent=_ua(request)
    )


@router.post("/refresh", response=TokenOut, summary="Rotate a refresh token")
def refresh(request: HttpRequest, body: RefreshIn) -> object:
    return services.refresh(refresh_token=body.refresh_token, ip=client_ip(request))


@router.post(
    "/logout",
    response={204: None},
    summary="Revoke this session (bearer token) and/or a refresh token's session",
)
def logout(request: HttpRequest, body: LogoutIn | None = None) -> Status[None]:
    services.logout(
        principal=optional_principal(request),
        refresh_token=body.refresh_token if body else None,
        ip=client_ip(request),
    )
    return Status(204, None)


@router.get("/me", response=UserOut, auth=jwt_auth, summary="The signed-in user")
def me(request: HttpRequest) -> object:
    return auth_user(request)


@router.post("/mfa/enrol", response=MfaEnrolmentOut, auth=jwt_auth, summary="Start TOTP enrolment")
def mfa_enrol(request: HttpRequest) -> object:
    return mfa.enrol(user=auth_user(request), ip=client_ip(request))


@router.post("/mfa/confirm", response=UserOut, auth=jwt_auth, summary="Turn MFA on with a code")
def mfa_confirm(request: HttpRequest, body: CodeIn) -> object:
    return mfa.confirm(user=auth_user(request), code=body.code, ip=client_ip(request))


@router.post("/mfa/disable", response=UserOut, auth=jwt_auth, summary="Turn MFA off with a code")
def mfa_disable(request: HttpRequest, body: CodeIn) -> object:
    return mfa.disable(user=auth_user(request), code=body.code, ip=client_ip(request))


@router.post(
    "/invitations",
    response={201: InvitationCreatedOut},
    auth=tenant_admin_auth,
    summary="Invite someone to your organisation",
)
def create_invitation(request: HttpRequest, body: InvitationIn) -> Status[dict]:
    invitation, token = invitations.create_invitation(
        admin=auth_user(request),
        email=body.email,
        role=body.role,
        ip=client_ip(request),
    )
    return Status(201, {**InvitationOut.from_orm(invitation).dict(), "token": token})


@router.get("/invitations", response=list[InvitationOut], auth=tenant_admin_auth)
def list_invitations(request: HttpRequest) -> object:
    return list(invitations.invitations_for(auth_user(request)))


@router.get("/sessions", response=list[SessionOut], auth=jwt_auth, summary="Your sessions")
def list_sessions(request: HttpRequest) -> object:
    principal = request_principal(request)
    sessions = list(selectors.sessions_for(auth_user(request)))
    for session in sessions:
        session.current = principal is not None and session.pk == principal.session_id  # type: ignore[attr-defined]
    return sessions


@router.delete("/sessions/{session_id}", response={204: None}, auth=jwt_auth)
def revoke_session(request: HttpRequest, session_id: uuid.UUID) -> Status[None]:
    services.revoke_session(
        user=auth_user(request),
        session_id=session_id,
        reason=AuthSession.RevokedReason.USER,
        ip=client_ip(request),
    )
    return Status(204, None)


@router.get("/audit-log", response=AuditPageOut, auth=tenant_admin_auth, summary="Audit log")
def audit_log(request: HttpRequest, page: Query[AuditPageQuery]) -> object:
    result = selectors.audit_log_page(
        user=auth_user(request),
        first=page.limit,
        after=page.cursor,
    )
    return {
        "items": result.entries,
        "next_cursor": result.next_cursor,
        "has_next_page": result.has_next_page,
    }
