"""Accounts: tenants (organisations with a plan), users (email login), the audit log."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class Plan(models.TextChoices):
    FREE = "free", "Free"
    PRO = "pro", "Pro"
    ENTERPRISE = "enterprise", "Enterprise"


#: Default limits per plan: requests per second and concurrent WebSocket connections.
PLAN_LIMITS: dict[str, tuple[int, int]] = {
    Plan.FREE: (10, 5),
    Plan.PRO: (50, 50),
    Plan.ENTERPRISE: (200, 500),
}


class Tenant(models.Model):
    """An organisation. Its plan sets the request rate and WebSocket connection limits."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255, unique=True)
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.FREE)
    rate_limit_rps = models.IntegerField(
        default=10, help_text="Requests per second for the tenant."
    )
    ws_limit = models.IntegerField(default=5, help_text="Concurrent WebSocket connections.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "tenants"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    @staticmethod
    def normalize_email_address(email: str) -> str:
        """Emails are unique case-insensitively: stored trimmed and lower-cased."""
        return (email or "").strip().lower()

    def _create(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email_address(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=self.normalize_email_address(username or ""))


class Role(models.TextChoices):
    MEMBER = "member", "Member"
    TENANT_ADMIN = "tenant_admin", "Tenant admin"


class User(AbstractUser):
    """A person who signs in with an email address. No username."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = None  # type: ignore[assignment]
    email = models.EmailField(unique=True)
    password = models.CharField("password", max_length=255, db_column="password_hash")
    full_name = models.CharField(max_length=255)
    organization = models.CharField(max_length=255, blank=True, null=True)
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, null=True, blank=True, related_name="users"
    )
    role = models.CharField(max_length=50, choices=Role.choices, default=Role.MEMBER)
    mfa_enabled = models.BooleanField(default=False)
    mfa_secret = models.CharField(
        max_length=255, blank=True, null=True, help_text="TOTP secret, encrypted at rest."
    )
    mfa_last_used_step = models.BigIntegerField(
        null=True, blank=True, help_text="TOTP time step last accepted (codes are single-use)."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["full_name"]

    objects = UserManager()  # type: ignore[assignment,misc]

    class Meta:
        db_table = "users"
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="users_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = UserManager.normalize_email_address(self.email)
        super().save(*args, **kwargs)


#: Chain of audit entries that belong to no tenant (e.g. sign-in failures for unknown emails).
PLATFORM_CHAIN = "platform"


class AuditLog(models.Model):
    """Append-only, hash-chained record of security-relevant actions (chained per tenant).

    Each chain (a tenant's id, or ``platform`` for entries without a tenant) numbers its entries
    1, 2, 3 … in ``sequence``; ``current_hash`` is SHA-256 over the canonical JSON of the entry
    including ``previous_hash`` (the prior entry's ``current_hash``, 64 zeros for the first)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_logs"
    )
    chain = models.CharField(max_length=64, default=PLATFORM_CHAIN)
    sequence = models.PositiveBigIntegerField(default=0)
    user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_logs"
    )
    action = models.CharField(max_length=100)
    resource_type = models.CharField(max_length=100)
    resource_id = models.CharField(max_length=255, blank=True, null=True)
    details = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    previous_hash = models.CharField(max_length=64, blank=True, null=True)
    current_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = "audit_logs"
        ordering = ["chain", "sequence"]
        indexes = [
            models.Index(fields=["tenant", "created_at"]),
            models.Index(fields=["user", "created_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["chain", "sequence"], name="audit_chain_sequence_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.resource_type}:{self.resource_id}"


class AuditChainHead(models.Model):
    """The last entry of one audit chain; appends lock this row, so a chain never forks."""

    chain = models.CharField(max_length=64, primary_key=True)
    sequence = models.PositiveBigIntegerField(default=0)
    head_hash = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "audit_chain_heads"

    def __str__(self) -> str:
        return f"{self.chain}#{self.sequence}"


class AuthSession(models.Model):
    """One sign-in: a family of rotating refresh tokens and the access tokens issued from it.

    Revoking the session (logout, refresh-token reuse, password change) invalidates every token
    of the family at once, access tokens included."""

    class RevokedReason(models.TextChoices):
        LOGOUT = "logout", "Logged out"
        REUSE = "reuse_detected", "Spent refresh token reused"
        USER = "user", "Revoked by its user"
        PASSWORD = "password_changed", "Password changed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auth_sessions")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True, default="")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(
        max_length=32, choices=RevokedReason.choices, blank=True, default=""
    )

    class Meta:
        db_table = "auth_sessions"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"session {self.id} of {self.user_id}"


class RefreshToken(models.Model):
    """A refresh token, stored only as its SHA-256. Spent on first use (rotation)."""

    id = models.UUIDField(primary_key=True, editable=False, help_text="The token's jti.")
    family = models.ForeignKey(AuthSession, on_delete=models.CASCADE, related_name="refresh_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "refresh_tokens"
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"refresh {self.id}"


class Invitation(models.Model):
    """An invitation to join a tenant, created by one of its admins; the token is stored hashed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=50, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="invitations_sent"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        db_table = "invitations"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "created_at"])]

    def __str__(self) -> str:
        return f"invitation of {self.email} to {self.tenant_id}"
