"""GraphQL: accounts, tokens, MFA, invitations, sessions and the audit log.

Resolvers are thin calls into ``apps.auth_app`` (the REST facade calls the same functions).
Mutations go through ``schema/mutations.py``: payloads with ``errors: [AuthError!]!``
(``AuthErrorCode``); request-level failures (no or bad bearer token, missing right, rate limit)
are errors with ``extensions.code``."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
import strawberry_django
from strawberry import auto
from strawberry.permission import PermissionExtension
from strawberry.scalars import JSON
from strawberry.types import Info

from apps.auth_app import invitations, mfa, models, selectors, services
from apps.auth_app.errors import AuthErrorCode

from . import cost
from .mutations import mutation, payload_error
from .permissions import (
    IsAuthenticated,
    IsTenantAdmin,
    current_principal,
    optional_principal,
    request_ip,
    request_user_agent,
    require_user,
)
from .privacy import PRIVATE


def _guarded(*permissions: type) -> list[Any]:
    return [PermissionExtension(permissions=[permission() for permission in permissions])]


@payload_error(AuthErrorCode)
@strawberry.type(
    description="A problem with an account, token, MFA or invitation request.", directives=[PRIVATE]
)
class AuthError:
    field: str | None
    message: str
    code: AuthErrorCode


@strawberry.enum(description="A user's role in their organisation.")
class UserRole(Enum):
    MEMBER = "member"
    TENANT_ADMIN = "tenant_admin"


@strawberry_django.type(models.Tenant, name="Tenant", directives=[PRIVATE])
class TenantType:
    id: strawberry.ID
    name: auto
    plan: auto
    rate_limit_rps: auto
    ws_limit: auto


@strawberry_django.type(models.User, name="User", directives=[PRIVATE])
class UserType:
    id: strawberry.ID
    email: auto
    full_name: auto
    organization: auto
    role: auto
    is_staff: auto
    mfa_enabled: auto
    created_at: auto
    tenant: TenantType | None


@strawberry_django.type(models.Invitation, name="Invitation", directives=[PRIVATE])
class InvitationType:
    id: strawberry.ID
    email: auto
    role: auto
    created_at: auto
    expires_at: auto
    accepted_at: auto


@strawberry_django.type(models.AuthSession, name="AuthSession", directives=[PRIVATE])
class AuthSessionType:
    id: strawberry.ID
    created_at: auto
    last_used_at: auto
    ip_address: auto
    user_agent: auto
    revoked_at: auto
    revoked_reason: auto

    @strawberry_django.field(description="Whether this request was made with this session.")
    def current(self, info: Info) -> bool:
        principal = current_principal(info)
        return principal is not None and principal.session_id == self.pk  # type: ignore[attr-defined]


@strawberry_django.type(models.AuditLog, name="AuditEntry", directives=[PRIVATE])
class AuditEntryType:
    id: strawberry.ID
    sequence: auto
    action: auto
    resource_type: auto
    resource_id: auto
    ip_address: auto
    created_at: auto
    previous_hash: auto
    current_hash: auto

    @strawberry_django.field(only=["user_id"])
    def user_id(self) -> strawberry.ID | None:
        return strawberry.ID(str(self.user_id)) if self.user_id else None  # type: ignore[attr-defined]

    @strawberry_django.field(only=["details"])
    def details(self) -> JSON:
        return self.details  # type: ignore[attr-defined]


@strawberry.type(description="One page of the audit log, newest first.", directives=[PRIVATE])
class AuditLogPage:
    entries: list[AuditEntryType] = strawberry.field(
        metadata=cost.list_size(50, argument="first", maximum=selectors.MAX_PAGE)
    )
    next_cursor: str | None
    has_next_page: bool


@strawberry.type(description="A signed access token and its refresh token.", directives=[PRIVATE])
class AuthTokens:
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int


@strawberry.type(
    description="Password accepted; send a TOTP code with this token.", directives=[PRIVATE]
)
class MfaChallenge:
    mfa_token: str
    expires_in: int


@strawberry.input
class RegisterInput:
    email: str
    password: str
    full_name: str
    organization: str | None = None
    invitation_token: str | None = None


@strawberry.type(directives=[PRIVATE])
class RegisterPayload:
    user: UserType | None = None
    errors: list[AuthError] = strawberry.field(default_factory=list, metadata=cost.list_size(10))


@strawberry.type(directives=[PRIVATE])
class LoginPayload:
    tokens: AuthTokens | None = None
    mfa_challenge: MfaChallenge | None = None
    errors: list[AuthError] = strawberry.field(default_factory=list, metadata=cost.list_size(10))


@strawberry.type(directives=[PRIVATE])
class TokensPayload:
    tokens: AuthTokens | None = None
    errors: list[AuthError] = strawberry.field(default_factory=list, metadata=cost.list_size(10))


@strawberry.type(directives=[PRIVATE])
class LogoutPayload:
    ok: bool = False
    errors: list[AuthError] = strawberry.field(default_factory=list, metadata=cost.list_size(10))


@strawberry.type(directives=[PRIVATE])
class MfaEnrolmentPayload:
    secret: str | None = None
    otpauth_uri: str | None = None
    errors: list[AuthError] = strawberry.field(default_factory=list, metadata=cost.list_size(10))


@strawberry.type(directives=[PRIVATE])
class UserPayload:
    user: UserType | None = None
    errors: list[AuthError] = strawberry.field(default_factory=list, metadata=cost.list_size(10))


@strawberry.type(directives=[PRIVATE])
class CreateInvitationPayload:
    invitation: InvitationType | None = None
    token: str | None = strawberry.field(default=None, description="Shown only once.")
    errors: list[AuthError] = strawberry.field(default_factory=list, metadata=cost.list_size(10))


@strawberry.type(directives=[PRIVATE])
class Query:
    @strawberry_django.field(
        description="The signed-in user.", extensions=_guarded(IsAuthenticated)
    )
    def me(self, info: Info) -> UserType:
        return require_user(info)  # type: ignore[return-value]

    @strawberry_django.field(
        description="Your organisation's audit log (tenant admins).",
        extensions=_guarded(IsTenantAdmin),
    )
    def audit_log(self, info: Info, first: int = 50, after: str | None = None) -> AuditLogPage:
        page = selectors.audit_log_page(user=require_user(info), first=first, after=after)
        return AuditLogPage(
            entries=page.entries,  # type: ignore[arg-type]
            next_cursor=page.next_cursor,
            has_next_page=page.has_next_page,
        )

    @strawberry_django.field(
        description="Your organisation's invitations (tenant admins).",
        extensions=_guarded(IsTenantAdmin),
        metadata=cost.list_size(50),
    )
    def invitations(self, info: Info) -> list[InvitationType]:
        return list(invitations.invitations_for(require_user(info)))  # type: ignore[arg-type]

    @strawberry_django.field(
        description="Your sessions.",
        extensions=_guarded(IsAuthenticated),
        metadata=cost.list_size(20),
    )
    def my_sessions(self, info: Info) -> list[AuthSessionType]:
        return list(selectors.sessions_for(require_user(info)))  # type: ignore[arg-type]


@strawberry.type(directives=[PRIVATE])
class Mutation:
    @mutation("Create an account (and an organisation, unless joining by invitation).")
    def register(self, info: Info, input: RegisterInput) -> RegisterPayload:
        user = services.register(**vars(input), ip=request_ip(info))
        return RegisterPayload(user=user)  # type: ignore[arg-type]

    @mutation("Sign in: tokens, or an MFA challenge when the account has MFA on.")
    def login(self, info: Info, email: str, password: str) -> LoginPayload:
        result = services.login(
            email=email, password=password, ip=request_ip(info), user_agent=request_user_agent(info)
        )
        if isinstance(result, services.MfaChallenge):
            challenge = MfaChallenge(mfa_token=result.token, expires_in=result.expires_in)
            return LoginPayload(mfa_challenge=challenge)
        return LoginPayload(tokens=AuthTokens(**result))

    @mutation("Second sign-in step: exchange the MFA challenge and a TOTP code for tokens.")
    def verify_mfa_login(self, info: Info, mfa_token: str, code: str) -> TokensPayload:
        pair = mfa.verify_login_challenge(
            mfa_token=mfa_token, code=code, ip=request_ip(info), user_agent=request_user_agent(info)
        )
        return TokensPayload(tokens=AuthTokens(**pair))

    @mutation("Rotate a refresh token: a new pair; the old refresh token is spent.")
    def refresh_token(self, info: Info, refresh_token: str) -> TokensPayload:
        pair = services.refresh(refresh_token=refresh_token, ip=request_ip(info))
        return TokensPayload(tokens=AuthTokens(**pair))

    @mutation("Revoke the current session (bearer token) and/or a refresh token's session.")
    def logout(self, info: Info, refresh_token: str | None = None) -> LogoutPayload:
        services.logout(
            principal=optional_principal(info), refresh_token=refresh_token, ip=request_ip(info)
        )
        return LogoutPayload(ok=True)

    @mutation("Revoke one of your sessions.", IsAuthenticated)
    def revoke_session(self, info: Info, id: strawberry.ID) -> LogoutPayload:
        services.revoke_session(
            user=require_user(info),
            session_id=selectors.parse_uuid(id, field="id"),
            reason=models.AuthSession.RevokedReason.USER,
            ip=request_ip(info),
        )
        return LogoutPayload(ok=True)

    @mutation("Start TOTP enrolment: a new secret and its otpauth:// URI.", IsAuthenticated)
    def enrol_mfa(self, info: Info) -> MfaEnrolmentPayload:
        enrolment = mfa.enrol(user=require_user(info), ip=request_ip(info))
        return MfaEnrolmentPayload(secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri)

    @mutation("Finish enrolment with a code from the app: MFA is on.", IsAuthenticated)
    def confirm_mfa(self, info: Info, code: str) -> UserPayload:
        user = mfa.confirm(user=require_user(info), code=code, ip=request_ip(info))
        return UserPayload(user=user)  # type: ignore[arg-type]

    @mutation("Turn MFA off (needs a current code).", IsAuthenticated)
    def disable_mfa(self, info: Info, code: str) -> UserPayload:
        user = mfa.disable(user=require_user(info), code=code, ip=request_ip(info))
        return UserPayload(user=user)  # type: ignore[arg-type]

    @mutation("Invite someone to your organisation (tenant admins).", IsTenantAdmin)
    def create_invitation(
        self, info: Info, email: str, role: UserRole = UserRole.MEMBER
    ) -> CreateInvitationPayload:
        invitation, token = invitations.create_invitation(
            admin=require_user(info), email=email, role=role.value, ip=request_ip(info)
        )
        return CreateInvitationPayload(invitation=invitation, token=token)  # type: ignore[arg-type]
